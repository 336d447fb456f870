/**
 * User-presented payments (DESIGN §1 C): the merchant charges a scanned payment code; the gateway
 * stores the payment as PENDING with its schedule, then the worker runs each step against Alipay+.
 * Every outcome (pay, inquiry, cancel answers and notifications) goes through the pure rules of
 * user-presented.ts inside one transaction, so the payment ends in exactly one final state.
 */
import type { Database, Repositories, ScheduleRecord } from '../store/types.js';
import type { Amount } from './amount.js';
import { idempotent, type IdempotencyScope } from './idempotency.js';
import { NotFound } from './merchants.js';
import type { Merchant, MerchantStore, Payment } from './model.js';
import { startMerchantPayment, type MerchantPaymentInput } from './orders.js';
import { routePaymentCode, type DirectIntegrations } from './routing.js';
import {
  afterStep,
  initialProgress,
  paymentExpiry,
  requestCancel,
  resumeOverdue,
  type Outcome,
  type Progress,
  type Schedule,
  type Step,
} from './user-presented.js';

/** What an Alipay+ call gave: a verified answer body, or nothing to believe (timeout, 5xx, garbage, bad signature). */
export type CallResult = { kind: 'ANSWER'; body: Record<string, any> } | { kind: 'NO_RESULT'; reason: string };

/** The gateway's calls to Alipay+ (implemented by alipayplus/client.ts). */
export interface AlipayplusPort {
  /** Sends exactly these bytes as the pay request body. */
  pay(body: string): Promise<CallResult>;
  inquiryPayment(paymentRequestId: string): Promise<CallResult>;
  cancelPayment(paymentRequestId: string): Promise<CallResult>;
}

/** The code is not one to send to Alipay+ (merchant API: 422). */
export class PaymentCodeNotRoutable extends Error {
  constructor(
    readonly reason: 'not-alipayplus-code' | 'direct-wallet',
    message: string,
  ) {
    super(message);
    this.name = 'PaymentCodeNotRoutable';
  }
}

export interface UserPresentedInput extends MerchantPaymentInput {
  paymentCode: string;
  expiresInSeconds?: number | null;
}

export interface UserPresentedSettings {
  schedule: Schedule;
  direct: DirectIntegrations;
  /** Where Alipay+ sends notifyPayment; absent = the URL registered in the Alipay+ Developer Center. */
  paymentNotifyUrl: string | undefined;
}

// ---- Alipay+ answers → outcomes (seed 001 result table, reference §3.1–§3.3) -------------------------

function paidFrom(body: Record<string, any>): Outcome {
  return {
    kind: 'PAID',
    paid: {
      paymentId: body.paymentId ?? null,
      pspId: body.pspId ?? null,
      customerId: body.customerId ?? null,
      walletBrandName: body.walletBrandName ?? null,
      paymentTime: body.paymentTime ?? null,
    },
  };
}

/** pay: S → paid, F → failed, U+PAYMENT_IN_PROCESS → inquire, any other U or status → no result. */
export function payOutcome(call: CallResult): Outcome {
  if (call.kind === 'NO_RESULT') return call;
  const r = call.body.result ?? {};
  if (r.resultStatus === 'S') return paidFrom(call.body);
  if (r.resultStatus === 'F') return { kind: 'FAILED', resultCode: String(r.resultCode), resultMessage: r.resultMessage ?? null };
  if (r.resultStatus === 'U' && r.resultCode === 'PAYMENT_IN_PROCESS') return { kind: 'IN_PROCESS' };
  return { kind: 'NO_RESULT', reason: `pay answered ${r.resultStatus}/${r.resultCode}` };
}

/** inquiryPayment: `result` is about the call, `paymentResult` about the payment. */
export function inquiryOutcome(call: CallResult): Outcome {
  if (call.kind === 'NO_RESULT') return call;
  const r = call.body.result ?? {};
  const p = call.body.paymentResult ?? {};
  if (r.resultStatus !== 'S') return { kind: 'NO_RESULT', reason: `inquiryPayment answered ${r.resultStatus}/${r.resultCode}` };
  if (p.resultStatus === 'S') return paidFrom(call.body);
  if (p.resultStatus === 'F') return { kind: 'FAILED', resultCode: String(p.resultCode), resultMessage: p.resultMessage ?? null };
  if (p.resultStatus === 'U') return { kind: 'IN_PROCESS' };
  return { kind: 'NO_RESULT', reason: 'inquiryPayment answered without paymentResult' };
}

/** cancelPayment: S (or F ORDER_NOT_EXIST: nothing was charged) → cancelled; anything else → retry. */
export function cancelOutcome(call: CallResult): Outcome {
  if (call.kind === 'NO_RESULT') return call;
  const r = call.body.result ?? {};
  if (r.resultStatus === 'S' || (r.resultStatus === 'F' && r.resultCode === 'ORDER_NOT_EXIST')) return { kind: 'CANCELLED' };
  return { kind: 'NO_RESULT', reason: `cancelPayment answered ${r.resultStatus}/${r.resultCode}` };
}

// ---- records ↔ progress -------------------------------------------------------------------------------

function progressOf(payment: Payment, schedule: ScheduleRecord): Progress {
  return {
    status: payment.status,
    phase: schedule.phase,
    nextStep: schedule.nextStep,
    nextStepAt: schedule.nextStepAt,
    attempts: schedule.attempts,
    inquiries: schedule.inquiries,
    expiresAt: payment.expiresAt!,
    paid: null,
    failure: null,
  };
}

async function save(tx: Repositories, payment: Payment, schedule: ScheduleRecord, progress: Progress, now: Date): Promise<Payment> {
  const nowIso = now.toISOString();
  // A final payment has no next step, whatever was planned before it became final.
  const p = progress.status === 'PENDING' ? progress : { ...progress, phase: null, nextStep: null, nextStepAt: null };
  const updated: Payment = {
    ...payment,
    status: p.status,
    ...(p.paid ?? {}),
    ...(p.failure ? { failureCode: p.failure.resultCode, failureMessage: p.failure.resultMessage } : {}),
    updatedAt: p.status !== payment.status ? nowIso : payment.updatedAt,
  };
  await tx.payments.update(updated);
  await tx.schedule.update({
    ...schedule,
    phase: p.phase,
    nextStep: p.nextStep,
    nextStepAt: p.nextStepAt,
    attempts: p.attempts,
    inquiries: p.inquiries,
    leaseOwner: null,
    leaseUntil: null,
    updatedAt: nowIso,
  });
  return updated;
}

/** The pay body (reference §3.1), built once and stored: every resend sends the same bytes. */
function payRequestBody(payment: Payment, merchant: Merchant, store: MerchantStore, paymentCode: string, notifyUrl: string | undefined): string {
  return JSON.stringify({
    paymentRequestId: payment.paymentRequestId,
    order: {
      referenceOrderId: payment.referenceOrderId,
      orderDescription: payment.orderDescription,
      orderAmount: payment.amount,
      merchant: {
        referenceMerchantId: merchant.referenceMerchantId,
        merchantName: merchant.merchantName,
        merchantMCC: merchant.merchantMCC,
        merchantAddress: Object.fromEntries(Object.entries(merchant.merchantAddress).filter(([, v]) => v !== null && v !== undefined)),
        store: { referenceStoreId: store.referenceStoreId, storeName: store.storeName, storeMCC: store.storeMCC },
      },
      ...(payment.terminalId ? { env: { storeTerminalId: payment.terminalId, storeTerminalRequestTime: payment.createdAt } } : {}),
    },
    paymentAmount: payment.amount,
    paymentMethod: { paymentMethodType: 'CONNECT_WALLET', paymentMethodId: paymentCode },
    paymentFactor: { isInStorePayment: 'true', inStorePaymentScenario: 'PaymentCode' },
    paymentExpiryTime: payment.expiresAt,
    settlementStrategy: { settlementCurrency: payment.settlementCurrency },
    ...(notifyUrl ? { paymentNotifyUrl: notifyUrl } : {}),
  });
}

export function userPresentedService(db: Database, alipayplus: AlipayplusPort, settings: UserPresentedSettings, clock: () => Date) {
  const call: Record<Step, (schedule: ScheduleRecord) => Promise<Outcome>> = {
    PAY: async (s) => payOutcome(await alipayplus.pay(s.payRequestBody)),
    INQUIRE: async (s) => inquiryOutcome(await alipayplus.inquiryPayment(s.paymentRequestId)),
    CANCEL: async (s) => cancelOutcome(await alipayplus.cancelPayment(s.paymentRequestId)),
  };

  return {
    /**
     * Routes the code and stores the payment as PENDING with pay due now. Throws
     * PaymentCodeNotRoutable before anything is stored when the code is not for Alipay+.
     */
    async create(merchant: Merchant, input: UserPresentedInput, idempotency?: IdempotencyScope): Promise<{ payment: Payment; replayed: boolean }> {
      const route = routePaymentCode(input.paymentCode, settings.direct);
      if (route.to === 'NOT_ALIPAYPLUS') throw new PaymentCodeNotRoutable('not-alipayplus-code', 'paymentCode is not an Alipay+ payment code.');
      if (route.to === 'DIRECT') {
        throw new PaymentCodeNotRoutable('direct-wallet', `paymentCode belongs to ${route.wallet}, which this acquirer integrates directly (routing step ${route.step}), not through Alipay+.`);
      }
      const now = clock();
      const { value, replayed } = await db.transaction((tx) =>
        idempotent(tx, merchant.merchantId, 'createPayment', idempotency, now.toISOString(), async () => {
          const expiresAt = paymentExpiry(now, input.expiresInSeconds).toISOString();
          const { payment, merchant: current, store } = await startMerchantPayment(tx, merchant.merchantId, input, { scenario: 'PAYMENT_CODE', codeToken: null, expiresAt }, now);
          const p = initialProgress(now, new Date(payment.expiresAt!));
          await tx.schedule.insert({
            paymentRequestId: payment.paymentRequestId,
            phase: p.phase,
            nextStep: p.nextStep,
            nextStepAt: p.nextStepAt,
            attempts: 0,
            inquiries: 0,
            payRequestBody: payRequestBody(payment, current, store, input.paymentCode, settings.paymentNotifyUrl),
            leaseOwner: null,
            leaseUntil: null,
            updatedAt: now.toISOString(),
          });
          return payment.paymentRequestId;
        }),
      );
      const payment = await db.payments.findByRequestId(value);
      return { payment: payment!, replayed };
    },

    /**
     * Runs one step the worker leased: calls Alipay+ outside any transaction, then applies the outcome
     * in one, only if this worker still holds the lease (else another process redoes the step).
     */
    async runStep(claimed: ScheduleRecord, owner: string): Promise<void> {
      const payment = await db.payments.findByRequestId(claimed.paymentRequestId);
      if (!payment) return;
      const resumed = resumeOverdue(progressOf(payment, claimed), clock(), settings.schedule);
      const step = resumed.nextStep;
      if (!step) return;
      const outcome = await call[step](claimed);
      await db.transaction(async (tx) => {
        const current = await tx.payments.findByRequestId(claimed.paymentRequestId, { forUpdate: true });
        const schedule = await tx.schedule.find(claimed.paymentRequestId, { forUpdate: true });
        if (!current || !schedule || schedule.leaseOwner !== owner) return;
        // If the plan changed while we were calling (a notification, a merchant cancel), the outcome is
        // applied to the fresh state; the rules then ignore what no longer applies.
        const fresh = progressOf(current, schedule);
        const unchanged = schedule.nextStep === claimed.nextStep && schedule.phase === claimed.phase && schedule.attempts === claimed.attempts && schedule.inquiries === claimed.inquiries;
        const before = unchanged ? { ...fresh, phase: resumed.phase, nextStep: resumed.nextStep, inquiries: resumed.inquiries } : fresh;
        await save(tx, current, schedule, afterStep(before, step, outcome, clock(), settings.schedule), clock());
      });
    },

    /** The merchant cancels a PENDING user-presented payment: cancelPayment goes out at once. */
    async cancelPending(tx: Repositories, payment: Payment): Promise<Payment> {
      const schedule = await tx.schedule.find(payment.paymentRequestId, { forUpdate: true });
      if (!schedule) throw new NotFound('payment schedule');
      return save(tx, payment, schedule, requestCancel(progressOf(payment, schedule), clock()), clock());
    },

    /**
     * notifyPayment (reference §3.4, §6.1.3): recorded always; applied only to a PENDING payment whose
     * amount matches and that is not being cancelled. A contradiction of a final state is flagged.
     */
    async notify(body: Record<string, any>): Promise<void> {
      const now = clock();
      const r = body.paymentResult ?? {};
      const outcome: Outcome = r.resultStatus === 'S' ? paidFrom(body) : { kind: 'FAILED', resultCode: String(r.resultCode), resultMessage: r.resultMessage ?? null };
      await db.transaction(async (tx) => {
        const payment = await tx.payments.findByRequestId(String(body.paymentRequestId), { forUpdate: true });
        const record = {
          paymentRequestId: String(body.paymentRequestId),
          paymentId: body.paymentId ?? null,
          resultStatus: String(r.resultStatus),
          resultCode: String(r.resultCode),
          body: JSON.stringify(body),
          createdAt: now.toISOString(),
        };
        if (!payment) return tx.notifications.insert({ ...record, applied: false, flag: 'UNKNOWN_PAYMENT' });
        const amount = body.paymentAmount as Amount | undefined | null;
        if (amount && (amount.currency !== payment.amount.currency || amount.value !== payment.amount.value)) {
          return tx.notifications.insert({ ...record, applied: false, flag: 'AMOUNT_MISMATCH' });
        }
        if (payment.status !== 'PENDING') {
          const agrees = (payment.status === 'SUCCEEDED') === (outcome.kind === 'PAID');
          return tx.notifications.insert({ ...record, applied: false, flag: agrees ? null : 'CONTRADICTS_FINAL' });
        }
        const schedule = await tx.schedule.find(payment.paymentRequestId, { forUpdate: true });
        if (schedule?.phase === 'CANCELLING') return tx.notifications.insert({ ...record, applied: false, flag: 'AFTER_CANCEL' });
        if (schedule) {
          // Settling ends the schedule too; the lease is cleared so no worker acts on it again.
          await save(tx, payment, schedule, afterStep(progressOf(payment, schedule), 'INQUIRE', outcome, now, settings.schedule), now);
        } else {
          // A merchant-presented order paid through the pull flow: settle the order itself.
          const settled = outcome.kind === 'PAID' ? { status: 'SUCCEEDED' as const, ...outcome.paid } : { status: 'FAILED' as const, failureCode: outcome.kind === 'FAILED' ? outcome.resultCode : null };
          await tx.payments.update({ ...payment, ...settled, updatedAt: now.toISOString() });
        }
        await tx.notifications.insert({ ...record, applied: true, flag: null });
        // It reads locked the rows it may write (the payment, its schedule); notifications are only
        // added: a group may run notifications side by side.
      }, { sideBySide: true });
    },
  };
}

export type UserPresentedService = ReturnType<typeof userPresentedService>;
