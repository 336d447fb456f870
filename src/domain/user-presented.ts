/**
 * User-presented Mode rules (seed 001, reference §3.1–§3.4, §6.1), pure: what a payment's status and
 * next scheduled step become after each outcome. The worker performs the steps; notifyPayment and the
 * merchant's cancel feed their outcomes here too, so every path obeys the same rules:
 *
 *   pay S → SUCCEEDED            pay F → FAILED              pay U/PAYMENT_IN_PROCESS → inquire on the schedule
 *   pay other U / no answer → resend the identical pay until expiry, then one inquiry, then cancel
 *   inquiry S/F → final          inquiry U / no answer → next inquiry; schedule exhausted → cancelPayment
 *   cancelling → only CANCELLED: cancelPayment is retried until it succeeds; late S/F are recorded, not applied
 */
import type { PaymentStatus } from './model.js';

export type Step = 'PAY' | 'INQUIRE' | 'CANCEL';
export type Phase = 'PAYING' | 'INQUIRING' | 'CANCELLING';

export interface Paid {
  paymentId: string | null;
  pspId: string | null;
  customerId: string | null;
  walletBrandName: string | null;
  paymentTime: string | null;
}

/** What one exchange with Alipay+ (or a notification) said about the payment. */
export type Outcome =
  | { kind: 'PAID'; paid: Paid }
  | { kind: 'FAILED'; resultCode: string; resultMessage: string | null }
  | { kind: 'IN_PROCESS' }
  | { kind: 'NO_RESULT'; reason: string }
  | { kind: 'CANCELLED' };

export interface Progress {
  status: PaymentStatus;
  phase: Phase | null;
  nextStep: Step | null;
  nextStepAt: string | null;
  /** Resends of pay, or attempts of cancelPayment, in the current phase. */
  attempts: number;
  inquiries: number;
  expiresAt: string;
  paid: Paid | null;
  failure: { resultCode: string; resultMessage: string | null } | null;
}

export interface Schedule {
  /** Delays before each inquiry after PAYMENT_IN_PROCESS: 10–20 inquiries within 60 s (seed 001). */
  inquiryDelaysMs: readonly number[];
  /** Delays before each resend of an unanswered pay (the last one repeats). */
  payRetryDelaysMs: readonly number[];
  /** Delays before each retry of cancelPayment (the last one repeats; retried until it succeeds). */
  cancelRetryDelaysMs: readonly number[];
}

export const DEFAULT_SCHEDULE: Schedule = {
  inquiryDelaysMs: [2000, 2000, 3000, 3000, 5000, 5000, 10000, 10000, 10000, 10000],
  payRetryDelaysMs: [1000, 2000, 4000, 8000],
  cancelRetryDelaysMs: [1000, 2000, 5000, 10000, 30000, 60000],
};

/** Alipay+'s default and maximum UPM expiry (seed 001 table): one minute after the order is placed. */
export const UPM_MAX_EXPIRY_SECONDS = 60;

/** Final expiry = the earlier of one minute after placement and the merchant's request. */
export function paymentExpiry(placedAt: Date, requestedSeconds?: number | null): Date {
  const seconds = Math.min(requestedSeconds ?? UPM_MAX_EXPIRY_SECONDS, UPM_MAX_EXPIRY_SECONDS);
  return new Date(placedAt.getTime() + seconds * 1000);
}

const at = (now: Date, delayMs: number) => new Date(now.getTime() + delayMs).toISOString();
const delay = (delays: readonly number[], index: number) => delays[Math.min(index, delays.length - 1)] ?? 1000;
const FINAL: ReadonlySet<PaymentStatus> = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED', 'EXPIRED']);

export function initialProgress(now: Date, expiresAt: Date): Progress {
  return { status: 'PENDING', phase: 'PAYING', nextStep: 'PAY', nextStepAt: now.toISOString(), attempts: 0, inquiries: 0, expiresAt: expiresAt.toISOString(), paid: null, failure: null };
}

function settle(p: Progress, outcome: Outcome): Progress | null {
  if (outcome.kind === 'PAID') return { ...p, status: 'SUCCEEDED', phase: null, nextStep: null, nextStepAt: null, paid: outcome.paid };
  if (outcome.kind === 'FAILED') return { ...p, status: 'FAILED', phase: null, nextStep: null, nextStepAt: null, failure: { resultCode: outcome.resultCode, resultMessage: outcome.resultMessage } };
  return null;
}

function startCancelling(p: Progress, when: string): Progress {
  return { ...p, phase: 'CANCELLING', nextStep: 'CANCEL', nextStepAt: when, attempts: 0 };
}

/**
 * The progress after `step` got `outcome` at `now`. Returns the input unchanged when the outcome must
 * not be applied (a final payment, or a payment being cancelled that hears of anything but its cancel).
 */
export function afterStep(p: Progress, step: Step, outcome: Outcome, now: Date, schedule: Schedule): Progress {
  if (FINAL.has(p.status)) return p;
  if (p.phase === 'CANCELLING') {
    if (step !== 'CANCEL') return p;
    if (outcome.kind === 'CANCELLED') return { ...p, status: 'CANCELLED', phase: null, nextStep: null, nextStepAt: null };
    return { ...p, nextStep: 'CANCEL', nextStepAt: at(now, delay(schedule.cancelRetryDelaysMs, p.attempts)), attempts: p.attempts + 1 };
  }
  const settled = settle(p, outcome);
  if (settled) return settled;
  const expired = now.toISOString() >= p.expiresAt;

  if (step === 'PAY') {
    if (outcome.kind === 'IN_PROCESS') {
      return { ...p, phase: 'INQUIRING', nextStep: 'INQUIRE', nextStepAt: at(now, delay(schedule.inquiryDelaysMs, 0)), inquiries: 0 };
    }
    if (!expired) return { ...p, nextStep: 'PAY', nextStepAt: at(now, delay(schedule.payRetryDelaysMs, p.attempts)), attempts: p.attempts + 1 };
    // Unknown at expiry: one inquiry first (the last slot of the schedule), then cancel if still unknown.
    return { ...p, phase: 'INQUIRING', nextStep: 'INQUIRE', nextStepAt: now.toISOString(), inquiries: schedule.inquiryDelaysMs.length - 1 };
  }

  if (step === 'INQUIRE') {
    const inquiries = p.inquiries + 1;
    if (inquiries < schedule.inquiryDelaysMs.length) {
      return { ...p, inquiries, nextStep: 'INQUIRE', nextStepAt: at(now, delay(schedule.inquiryDelaysMs, inquiries)) };
    }
    return startCancelling({ ...p, inquiries }, expired ? now.toISOString() : p.expiresAt);
  }

  return p; // a CANCEL outcome outside the cancelling phase cannot happen: cancelling is entered first
}

/** The merchant cancels a pending payment: cancelPayment goes out now. Final payments are unchanged. */
export function requestCancel(p: Progress, now: Date): Progress {
  if (FINAL.has(p.status) || p.phase === 'CANCELLING') return p;
  return startCancelling(p, now.toISOString());
}

/**
 * A work item claimed after its process died, past expiry: resume with one inquiry before cancelling
 * (DESIGN §2), unless it was already cancelling.
 */
export function resumeOverdue(p: Progress, now: Date, schedule: Schedule): Progress {
  if (FINAL.has(p.status) || p.phase === 'CANCELLING' || p.phase === 'INQUIRING' || now.toISOString() < p.expiresAt) return p;
  return { ...p, phase: 'INQUIRING', nextStep: 'INQUIRE', nextStepAt: now.toISOString(), inquiries: schedule.inquiryDelaysMs.length - 1 };
}
