/**
 * Merchant-presented flows as Alipay+ drives them (DESIGN §1 A and B; reference §3.6–§3.8, §6.3–§6.4):
 * decode a code (userInitiatedPay), accept a paid order (placeOrder), answer inquiries
 * (inquiryPushPayment). Inputs and answers are in Alipay+'s vocabulary; nothing here knows HTTP.
 */
import type { Database, PlaceOrderRecord, Repositories } from '../store/types.js';
import { assertPayableAmount, sameAmount, settlementMatchesQuote, type Amount, type Quote } from './amount.js';
import { newPaymentRequestId, parseCodeValue } from './codes.js';
import { assertAcceptsAmount, assertEligible } from './merchants.js';
import { admitPayment, newPayment } from './orders.js';
import { effectiveStatus, type Address, type Merchant, type MerchantStore, type Payment } from './model.js';
import { PaymentRefused, result, type Result } from './result-codes.js';

export interface PushSettings {
  codeBaseUrl: string;
  /** Allowed distance between settlementAmount and paymentAmount converted with settlementQuote. */
  settlementQuoteToleranceMinorUnits: bigint;
}

export interface PlaceOrderRequest {
  codeValue: string;
  paymentId: string;
  pspId: string;
  paymentRequestId?: string | null;
  customerId?: string | null;
  paymentAmount: Amount;
  settlementAmount: Amount;
  settlementQuote?: Quote | null;
}

export interface InquiryPushPaymentRequest {
  paymentId: string;
  paymentRequestId?: string | null;
}

type Body = { result: Result } & Record<string, unknown>;

const withoutNulls = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined)) as T;

/** The merchant as Alipay+ shows it to the user: our onboarding data, with the store. */
function alipayMerchant(merchant: Merchant, store: MerchantStore) {
  return {
    referenceMerchantId: merchant.referenceMerchantId,
    merchantName: merchant.merchantName,
    merchantMCC: merchant.merchantMCC,
    merchantAddress: withoutNulls<Address>(merchant.merchantAddress),
    store: { referenceStoreId: store.referenceStoreId, storeName: store.storeName, storeMCC: store.storeMCC },
  };
}

export function pushPaymentService(db: Database, settings: PushSettings, clock: () => Date) {
  function codeOf(codeValue: string) {
    const parsed = parseCodeValue(settings.codeBaseUrl, codeValue);
    if (!parsed) throw new PaymentRefused('INVALID_CODE', 'codeValue is not a code issued by this acquirer.');
    return parsed;
  }

  /** An order code is payable while PENDING and before expiresAt. */
  function assertOpen(payment: Payment, now: Date): void {
    const status = effectiveStatus(payment, now);
    if (status === 'EXPIRED') throw new PaymentRefused('EXPIRED_CODE', `The order code expired at ${payment.expiresAt}.`);
    if (status !== 'PENDING') throw new PaymentRefused('ORDER_IS_CLOSED', `The order is ${status}.`);
  }

  /** settlementAmount equals paymentAmount in the same currency, and follows settlementQuote otherwise. */
  function assertSettlement(request: PlaceOrderRequest, settlementCurrency: string): void {
    const { paymentAmount, settlementAmount, settlementQuote } = request;
    if (settlementAmount.currency !== settlementCurrency) {
      throw new PaymentRefused('CURRENCY_NOT_SUPPORT', `settlementAmount.currency must be ${settlementCurrency}, the merchant's settlement currency.`);
    }
    if (settlementAmount.currency === paymentAmount.currency) {
      if (settlementAmount.value !== paymentAmount.value) {
        throw new PaymentRefused('PAYMENT_AMOUNT_INVALID', 'settlementAmount must equal paymentAmount when the currencies are the same.');
      }
      return;
    }
    if (!settlementQuote) throw new PaymentRefused('PARAM_ILLEGAL', 'settlementQuote is required when settlementAmount.currency differs from paymentAmount.currency.');
    if (!settlementMatchesQuote(paymentAmount, settlementAmount, settlementQuote, settings.settlementQuoteToleranceMinorUnits)) {
      throw new PaymentRefused('PAYMENT_AMOUNT_INVALID', 'settlementAmount is not paymentAmount converted with settlementQuote.');
    }
  }

  /**
   * Applies the placeOrder rules, reading (and on Postgres locking) what they need; refuses with
   * PaymentRefused. Returns the paymentRequestId and the write that records the payment, run only once
   * this paymentId is claimed.
   */
  async function decidePlacedOrder(tx: Repositories, request: PlaceOrderRequest, now: Date): Promise<{ paymentRequestId: string; record: () => Promise<void> }> {
    assertPayableAmount(request.paymentAmount, 'paymentAmount');
    assertPayableAmount(request.settlementAmount, 'settlementAmount');
    const code = codeOf(request.codeValue);
    const nowIso = now.toISOString();
    const placed = { paymentId: request.paymentId, pspId: request.pspId, customerId: request.customerId ?? null, paymentTime: nowIso, settlementAmount: request.settlementAmount };

    if (code.kind === 'ORDER_CODE') {
      const found = await tx.payments.findByCodeTokenWithMerchant(code.token, { forUpdate: true });
      if (!found) throw new PaymentRefused('INVALID_CODE', 'No order has this code.');
      const { payment: order, merchant } = found;
      if (request.paymentRequestId && request.paymentRequestId !== order.paymentRequestId) {
        throw new PaymentRefused('PARAM_ILLEGAL', 'paymentRequestId is not the one of the order this code belongs to.');
      }
      assertOpen(order, now);
      assertEligible(merchant);
      if (!sameAmount(request.paymentAmount, order.amount)) {
        throw new PaymentRefused('PAYMENT_AMOUNT_INVALID', `paymentAmount must be the order's amount ${order.amount.value} ${order.amount.currency}.`);
      }
      assertAcceptsAmount(merchant, order.amount, 'paymentAmount');
      assertSettlement(request, order.settlementCurrency);
      return { paymentRequestId: order.paymentRequestId, record: () => tx.payments.update({ ...order, ...placed, status: 'SUCCEEDED', updatedAt: nowIso }) };
    }

    const entry = await tx.stores.findByEntryCodeTokenWithMerchant(code.token);
    if (!entry) throw new PaymentRefused('INVALID_CODE', 'No store has this entry code.');
    const { merchant, store } = await admitPayment(tx, entry.merchant, entry.store, request.paymentAmount, now);
    const settlementCurrency = merchant.settlementCurrency ?? request.paymentAmount.currency;
    assertSettlement(request, settlementCurrency);
    const payment = newPayment(
      {
        paymentRequestId: newPaymentRequestId(now),
        merchantId: merchant.merchantId,
        storeId: store.storeId,
        scenario: 'ENTRY_CODE',
        status: 'SUCCEEDED',
        amount: request.paymentAmount,
        settlementCurrency,
        // The user typed the amount in the wallet: there is no merchant order id, Alipay+'s paymentId stands in.
        referenceOrderId: request.paymentId,
        orderDescription: null,
        terminalId: null,
        codeToken: null,
        expiresAt: null,
      },
      now,
    );
    return { paymentRequestId: payment.paymentRequestId, record: () => tx.payments.insert({ ...payment, ...placed }) };
  }

  function isRepeatOf(prior: PlaceOrderRecord, request: PlaceOrderRequest): boolean {
    return (
      prior.requestPaymentRequestId === (request.paymentRequestId ?? null) &&
      sameAmount(prior.paymentAmount, request.paymentAmount) &&
      sameAmount(prior.settlementAmount, request.settlementAmount)
    );
  }

  return {
    /** userInitiatedPay: the same codeValue gets the same body while its order is unchanged. */
    async decode(codeValue: string): Promise<Body> {
      const code = codeOf(codeValue);
      if (code.kind === 'ENTRY_CODE') {
        const found = await db.stores.findByEntryCodeTokenWithMerchant(code.token);
        if (!found) throw new PaymentRefused('INVALID_CODE', 'No store has this entry code.');
        const { store, merchant } = found;
        assertEligible(merchant);
        return withoutNulls({
          result: result('SUCCESS'),
          codeType: 'ENTRY_CODE',
          order: { merchant: alipayMerchant(merchant, store) },
          settlementStrategy: merchant.settlementCurrency ? { settlementCurrency: merchant.settlementCurrency } : null,
        });
      }
      const found = await db.payments.findByCodeTokenWithMerchant(code.token);
      if (!found) throw new PaymentRefused('INVALID_CODE', 'No order has this code.');
      const { payment: order, store, merchant } = found;
      assertOpen(order, clock());
      assertEligible(merchant);
      if (merchant.acceptedCurrencies && !merchant.acceptedCurrencies.includes(order.amount.currency)) {
        throw new PaymentRefused('CURRENCY_NOT_SUPPORT', `The merchant no longer accepts ${order.amount.currency}.`);
      }
      return {
        result: result('SUCCESS'),
        codeType: 'ORDER_CODE',
        paymentRequestId: order.paymentRequestId,
        paymentFactor: { isInStorePayment: 'true', isCashierPayment: 'true', inStorePaymentScenario: 'OrderCode' },
        order: {
          referenceOrderId: order.referenceOrderId,
          orderDescription: order.orderDescription,
          orderAmount: order.amount,
          merchant: alipayMerchant(merchant, store),
          ...(order.terminalId ? { env: { storeTerminalId: order.terminalId, storeTerminalRequestTime: order.createdAt } } : {}),
        },
        paymentAmount: order.amount,
        // expiresAt is at most 180 s after creation, so it is never later than decode time + 3 minutes.
        paymentExpiryTime: order.expiresAt,
        settlementStrategy: { settlementCurrency: order.settlementCurrency },
      };
    },

    /**
     * placeOrder, idempotent on paymentId, in one transaction: decide (the rules, on what this
     * transaction reads), then claim the paymentId with that answer, then record the payment. A
     * concurrent duplicate waits at the claim (in this process: the row lock of a group, which runs
     * the two one after the other; from another instance on Postgres: the unique key) and then gets
     * the stored answer, whatever it decided itself; a repeat whose
     * paymentRequestId, paymentAmount or settlementAmount differ gets REPEAT_REQ_INCONSISTENT.
     * `onDecided` hears the answer as soon as it is decided, before it is committed: the caller may
     * prepare it meanwhile (sign it), and answers with what this returns, once committed.
     */
    async placeOrder(request: PlaceOrderRequest, onDecided?: (body: Body) => void): Promise<Body> {
      return db.transaction(async (tx) => {
        const now = clock();
        let body: Body;
        let record: (() => Promise<void>) | undefined;
        try {
          const accepted = await decidePlacedOrder(tx, request, now);
          body = { result: result('SUCCESS'), paymentRequestId: accepted.paymentRequestId };
          record = accepted.record;
        } catch (error) {
          if (!(error instanceof PaymentRefused)) throw error;
          body = { result: result(error.code, error.message) };
        }
        const claimed = await tx.placeOrders.claim({
          paymentId: request.paymentId,
          requestPaymentRequestId: request.paymentRequestId ?? null,
          paymentAmount: request.paymentAmount,
          settlementAmount: request.settlementAmount,
          codeValue: request.codeValue,
          paymentRequestId: (body.paymentRequestId as string | undefined) ?? null,
          responseBody: body,
          resultCode: body.result.resultCode,
          createdAt: now.toISOString(),
        });
        if (!claimed) {
          const prior = await tx.placeOrders.find(request.paymentId);
          if (!prior) throw new Error(`placeOrder claim ${request.paymentId} has no answer`);
          if (!isRepeatOf(prior, request)) {
            return { result: result('REPEAT_REQ_INCONSISTENT', 'A placeOrder with this paymentId and other paymentRequestId, paymentAmount or settlementAmount was received before.') };
          }
          return prior.responseBody as Body;
        }
        await record?.();
        return body;
        // Every row it reads that another placeOrder may write is read locked (the order by its code,
        // a merchant with a daily count limit, the claim): a group may run placeOrders side by side.
      }, { sideBySide: true, onWorkDone: onDecided });
    },

    /** `result` is about the inquiry; `paymentResult` repeats what placeOrder answered for this paymentId. */
    async inquire(request: InquiryPushPaymentRequest): Promise<Body> {
      const prior = await db.placeOrders.find(request.paymentId);
      const placed = prior?.responseBody as Body | undefined;
      if (!prior || !placed || (request.paymentRequestId && prior.paymentRequestId && request.paymentRequestId !== prior.paymentRequestId)) {
        return { result: result('ORDER_NOT_EXIST', 'No placeOrder with this paymentId was accepted or refused here.') };
      }
      if (placed.result.resultStatus !== 'S' || !prior.paymentRequestId) {
        return { result: result('SUCCESS'), paymentResult: placed.result, paymentId: prior.paymentId };
      }
      const payment = await db.payments.findByRequestId(prior.paymentRequestId);
      return withoutNulls({
        result: result('SUCCESS'),
        paymentResult: result('SUCCESS'),
        paymentRequestId: prior.paymentRequestId,
        paymentId: prior.paymentId,
        paymentAmount: payment?.amount ?? null,
        paymentTime: payment?.paymentTime ?? null,
      });
    },
  };
}

export type PushPaymentService = ReturnType<typeof pushPaymentService>;
