/** Merchant-side orders: order codes, reading and listing payments, cancelling an unpaid order. */
import { createHash } from 'node:crypto';
import type { Database, PaymentListFilter, Repositories } from '../store/types.js';
import type { Amount } from './amount.js';
import { codeValue, newCodeToken, newPaymentRequestId } from './codes.js';
import { assertAcceptsAmount, assertDailyCountAvailable, assertEligible, NotFound } from './merchants.js';
import { effectiveStatus, type Merchant, type Payment, type PaymentStatus } from './model.js';

export const MAX_ORDER_CODE_TTL_SECONDS = 180;

export interface OrderInput {
  storeId: string;
  referenceOrderId: string;
  orderDescription: string;
  amount: Amount;
  terminalId?: string | null;
  expiresInSeconds?: number | null;
}

export interface OrderCreated {
  paymentRequestId: string;
  codeValue: string;
  expiresAt: string;
  status: 'PENDING';
}

export class Conflict extends Error {
  constructor(
    message: string,
    readonly type: 'idempotency-key-reused' | 'payment-final',
  ) {
    super(message);
    this.name = 'Conflict';
  }
}

export interface IdempotencyScope {
  key: string;
  /** Canonical request, hashed: the same key with another request is a conflict. */
  request: unknown;
}

/**
 * Runs `work` once per (merchant, operation, Idempotency-Key) inside the caller's transaction: the key
 * is claimed first (a concurrent duplicate waits on the unique key), a repeat with the same request
 * replays the stored answer, and a repeat with another request is a Conflict. Refusals roll the claim
 * back with everything else, so a retry is evaluated afresh.
 */
async function idempotent<T>(tx: Repositories, merchantId: string, operation: string, scope: IdempotencyScope | undefined, now: string, work: () => Promise<T>): Promise<T> {
  if (!scope) return work();
  const requestHash = createHash('sha256').update(JSON.stringify(scope.request)).digest('hex');
  const prior = await tx.idempotency.claim(merchantId, operation, scope.key, requestHash, now);
  if (prior) {
    if (prior.requestHash !== requestHash) throw new Conflict('This Idempotency-Key was used with a different request.', 'idempotency-key-reused');
    return prior.body as T;
  }
  const value = await work();
  await tx.idempotency.complete(merchantId, operation, scope.key, 201, value);
  return value;
}

export interface OrderSettings {
  codeBaseUrl: string;
  defaultOrderCodeTtlSeconds: number;
}

export function orderService(db: Database, settings: OrderSettings, clock: () => Date) {
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
          // Re-read under lock: the daily count and eligibility are decided on the committed state.
          const current = (await tx.merchants.findForUpdate(merchant.merchantId)) ?? merchant;
          assertEligible(current);
          const store = await tx.stores.findById(input.storeId);
          if (!store || store.merchantId !== current.merchantId) throw new NotFound('store');
          assertAcceptsAmount(current, input.amount, 'amount');
          await assertDailyCountAvailable(tx, current, now);
          const ttl = Math.min(input.expiresInSeconds ?? settings.defaultOrderCodeTtlSeconds, MAX_ORDER_CODE_TTL_SECONDS);
          const createdAt = now.toISOString();
          const payment: Payment = {
            paymentRequestId: newPaymentRequestId(now),
            merchantId: current.merchantId,
            storeId: store.storeId,
            scenario: 'ORDER_CODE',
            status: 'PENDING',
            amount: input.amount,
            settlementCurrency: current.settlementCurrency ?? input.amount.currency,
            referenceOrderId: input.referenceOrderId,
            orderDescription: input.orderDescription,
            terminalId: input.terminalId ?? null,
            codeToken: newCodeToken(),
            expiresAt: new Date(now.getTime() + ttl * 1000).toISOString(),
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
          };
          await tx.payments.insert(payment);
          return {
            paymentRequestId: payment.paymentRequestId,
            codeValue: codeValue(settings.codeBaseUrl, 'ORDER_CODE', payment.codeToken!),
            expiresAt: payment.expiresAt!,
            status: 'PENDING' as const,
          };
        }),
      );
    },

    async getPayment(merchant: Merchant, paymentRequestId: string): Promise<Payment> {
      return ownPayment(db, merchant, paymentRequestId, false);
    },

    async listPayments(merchant: Merchant, filter: Omit<PaymentListFilter, 'merchantId' | 'now'>): Promise<Payment[]> {
      return db.payments.list({ ...filter, merchantId: merchant.merchantId, now: clock().toISOString() });
    },

    /**
     * Cancels an unpaid order code at once (its code then answers ORDER_IS_CLOSED). Cancelling a
     * CANCELLED payment again is a no-op; any other final state is a Conflict.
     */
    async cancel(merchant: Merchant, paymentRequestId: string): Promise<Payment> {
      return db.transaction(async (tx) => {
        const now = clock();
        const payment = await ownPayment(tx, merchant, paymentRequestId, true);
        const status = effectiveStatus(payment, now);
        if (status === 'CANCELLED') return payment;
        if (status !== 'PENDING' || payment.scenario !== 'ORDER_CODE') {
          throw new Conflict(`Payment ${paymentRequestId} is ${status} and cannot be cancelled.`, 'payment-final');
        }
        const cancelled: Payment = { ...payment, status: 'CANCELLED', updatedAt: now.toISOString() };
        await tx.payments.update(cancelled);
        return cancelled;
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
