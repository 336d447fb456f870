/** Merchant-side orders: order codes, reading and listing payments, cancelling an unpaid order. */
import type { Database, PaymentListFilter, Repositories } from '../store/types.js';
import type { Amount } from './amount.js';
import { codeValue, newCodeToken, newPaymentRequestId } from './codes.js';
import { assertAcceptsAmount, assertDailyCountAvailable, assertEligible, NotFound } from './merchants.js';
import { Conflict, idempotent, type IdempotencyScope } from './idempotency.js';
import { effectiveStatus, type Merchant, type MerchantStore, type Payment, type PaymentStatus } from './model.js';

export const MAX_ORDER_CODE_TTL_SECONDS = 180;

export interface OrderInput extends MerchantPaymentInput {
  expiresInSeconds?: number | null;
}

export interface OrderCreated {
  paymentRequestId: string;
  codeValue: string;
  expiresAt: string;
  status: 'PENDING';
}

/**
 * Everything a new payment of any flow must pass, inside the transaction that creates it: the merchant
 * as read in this transaction (re-read for admission, under lock on Postgres, when it has a daily count
 * limit, so that the count is decided on committed state), eligibility, the store is the merchant's,
 * the amount is accepted, and the daily count has room.
 */
export async function admitPayment(tx: Repositories, merchantOrId: string | Merchant, storeOrId: string | MerchantStore, amount: Amount, now: Date): Promise<{ merchant: Merchant; store: MerchantStore }> {
  const given = typeof merchantOrId === 'string' ? null : merchantOrId;
  const merchant = given?.dailyPaymentCountLimit === null ? given : await tx.merchants.findForAdmission(given?.merchantId ?? (merchantOrId as string));
  if (!merchant) throw new NotFound('merchant');
  assertEligible(merchant);
  const store = typeof storeOrId === 'string' ? await tx.stores.findById(storeOrId) : storeOrId;
  if (!store || store.merchantId !== merchant.merchantId) throw new NotFound('store');
  assertAcceptsAmount(merchant, amount, 'amount');
  await assertDailyCountAvailable(tx, merchant, now);
  return { merchant, store };
}

/** A new payment record with nothing known from Alipay+ yet. */
export function newPayment(fields: Pick<Payment, 'paymentRequestId' | 'merchantId' | 'storeId' | 'scenario' | 'status' | 'amount' | 'settlementCurrency' | 'referenceOrderId' | 'orderDescription' | 'terminalId' | 'codeToken' | 'expiresAt'>, now: Date): Payment {
  const createdAt = now.toISOString();
  // `fields` spread last: properties added after a spread made V8 build a ~3 KB object (~300 bytes
  // this way); none of them is in `fields`.
  return {
    paymentId: null,
    pspId: null,
    customerId: null,
    walletBrandName: null,
    paymentTime: null,
    settlementAmount: null,
    failureCode: null,
    failureMessage: null,
    createdAt,
    updatedAt: createdAt,
    ...fields,
  };
}

/** What a merchant gives for any payment it starts (an order code or a scanned payment code). */
export interface MerchantPaymentInput {
  storeId: string;
  referenceOrderId: string;
  orderDescription: string;
  amount: Amount;
  terminalId?: string | null;
}

/**
 * A PENDING payment the merchant starts, admitted (admitPayment), built and stored in the caller's
 * transaction; `kind` says which flow it belongs to.
 */
export async function startMerchantPayment(
  tx: Repositories,
  merchantId: string,
  input: MerchantPaymentInput,
  kind: Pick<Payment, 'scenario' | 'codeToken' | 'expiresAt'>,
  now: Date,
): Promise<{ payment: Payment; merchant: Merchant; store: MerchantStore }> {
  const { merchant, store } = await admitPayment(tx, merchantId, input.storeId, input.amount, now);
  const payment = newPayment(
    {
      paymentRequestId: newPaymentRequestId(now),
      merchantId: merchant.merchantId,
      storeId: store.storeId,
      status: 'PENDING',
      amount: input.amount,
      settlementCurrency: merchant.settlementCurrency ?? input.amount.currency,
      referenceOrderId: input.referenceOrderId,
      orderDescription: input.orderDescription,
      terminalId: input.terminalId ?? null,
      ...kind,
    },
    now,
  );
  await tx.payments.insert(payment);
  return { payment, merchant, store };
}

export interface OrderSettings {
  codeBaseUrl: string;
  defaultOrderCodeTtlSeconds: number;
}

/** Cancels a PENDING user-presented payment (user-presented-payments.ts), in the caller's transaction. */
export type CancelPendingUserPresented = (tx: Repositories, payment: Payment) => Promise<Payment>;

export function orderService(db: Database, settings: OrderSettings, clock: () => Date, cancelPendingUserPresented?: CancelPendingUserPresented) {
  async function ownPayment(tx: Repositories, merchant: Merchant, paymentRequestId: string, forUpdate: boolean): Promise<Payment> {
    const payment = await tx.payments.findByRequestId(paymentRequestId, { forUpdate });
    if (!payment || payment.merchantId !== merchant.merchantId) throw new NotFound('payment');
    return payment;
  }

  return {
    async createOrder(merchant: Merchant, input: OrderInput, idempotency?: IdempotencyScope): Promise<OrderCreated> {
      const now = clock();
      return db.transaction((tx) =>
        idempotent(tx, merchant.merchantId, 'createOrder', idempotency, now.toISOString(), async () => {
          const ttl = Math.min(input.expiresInSeconds ?? settings.defaultOrderCodeTtlSeconds, MAX_ORDER_CODE_TTL_SECONDS);
          const expiresAt = new Date(now.getTime() + ttl * 1000).toISOString();
          const { payment } = await startMerchantPayment(tx, merchant.merchantId, input, { scenario: 'ORDER_CODE', codeToken: newCodeToken(), expiresAt }, now);
          return {
            paymentRequestId: payment.paymentRequestId,
            codeValue: codeValue(settings.codeBaseUrl, 'ORDER_CODE', payment.codeToken!),
            expiresAt: payment.expiresAt!,
            status: 'PENDING' as const,
          };
        }).then((r) => r.value),
        // Reads locked where another may write (the Idempotency-Key, a merchant with a daily count
        // limit); the rest it reads (store) or writes (a new payment) no other transaction writes.
        { sideBySide: true },
      );
    },

    async getPayment(merchant: Merchant, paymentRequestId: string): Promise<Payment> {
      return ownPayment(db, merchant, paymentRequestId, false);
    },

    async listPayments(merchant: Merchant, filter: Omit<PaymentListFilter, 'merchantId' | 'now'>): Promise<Payment[]> {
      return db.payments.list({ ...filter, merchantId: merchant.merchantId, now: clock().toISOString() });
    },

    /**
     * Cancels a PENDING payment: an unpaid order code at once (its code then answers ORDER_IS_CLOSED);
     * a user-presented payment by scheduling cancelPayment now (`accepted`: it ends CANCELLED once
     * Alipay+ confirms). Cancelling a CANCELLED payment again is a no-op; any other final state, and an
     * entry-code payment (always final), is a Conflict.
     */
    async cancel(merchant: Merchant, paymentRequestId: string): Promise<{ payment: Payment; accepted: boolean }> {
      return db.transaction(async (tx) => {
        const now = clock();
        const payment = await ownPayment(tx, merchant, paymentRequestId, true);
        const status = effectiveStatus(payment, now);
        if (status === 'CANCELLED') return { payment, accepted: false };
        if (status === 'PENDING' && payment.scenario === 'ORDER_CODE') {
          const cancelled: Payment = { ...payment, status: 'CANCELLED', updatedAt: now.toISOString() };
          await tx.payments.update(cancelled);
          return { payment: cancelled, accepted: false };
        }
        if (status === 'PENDING' && payment.scenario === 'PAYMENT_CODE' && cancelPendingUserPresented) {
          return { payment: await cancelPendingUserPresented(tx, payment), accepted: true };
        }
        throw new Conflict(`Payment ${paymentRequestId} is ${status} and cannot be cancelled.`, 'payment-final');
      });
    },

    statusOf(payment: Payment): PaymentStatus {
      return effectiveStatus(payment, clock());
    },

    codeValueOf(payment: Payment): string | null {
      return payment.codeToken ? codeValue(settings.codeBaseUrl, 'ORDER_CODE', payment.codeToken) : null;
    },
  };
}

export type OrderService = ReturnType<typeof orderService>;
