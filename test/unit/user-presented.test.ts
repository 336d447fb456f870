import { describe, expect, it } from 'vitest';
import { afterStep, DEFAULT_SCHEDULE, initialProgress, paymentExpiry, requestCancel, resumeOverdue, type Outcome, type Progress, type Step } from '../../src/domain/user-presented.js';

const T0 = new Date('2026-05-01T10:00:00.000Z');
const plus = (ms: number) => new Date(T0.getTime() + ms);
const start = () => initialProgress(T0, paymentExpiry(T0));
const paid: Outcome = { kind: 'PAID', paid: { paymentId: 'P1', pspId: 'psp', customerId: 'c', walletBrandName: 'KAKAOPAY', paymentTime: T0.toISOString() } };
const failed: Outcome = { kind: 'FAILED', resultCode: 'USER_BALANCE_NOT_ENOUGH', resultMessage: null };
const inProcess: Outcome = { kind: 'IN_PROCESS' };
const noResult: Outcome = { kind: 'NO_RESULT', reason: 'timeout' };
const cancelled: Outcome = { kind: 'CANCELLED' };
const step = (p: Progress, s: Step, o: Outcome, atMs: number) => afterStep(p, s, o, plus(atMs), DEFAULT_SCHEDULE);

describe('UPM expiry (seed 001 table)', () => {
  it.each([
    ['no request', undefined, 60],
    ['exactly one minute', 60, 60],
    ['more than one minute', 300, 60],
    ['less than one minute', 20, 20],
  ])('%s → expires after %s s → %i s', (_what, requested, seconds) => {
    expect(paymentExpiry(T0, requested)).toEqual(plus(seconds * 1000));
  });
});

describe('UPM state machine', () => {
  it('starts PENDING with pay due now', () => {
    expect(start()).toMatchObject({ status: 'PENDING', phase: 'PAYING', nextStep: 'PAY', nextStepAt: T0.toISOString() });
  });

  it('pay S → SUCCEEDED with the Alipay+ ids; pay F → FAILED with the code', () => {
    expect(step(start(), 'PAY', paid, 100)).toMatchObject({ status: 'SUCCEEDED', nextStep: null, paid: { paymentId: 'P1' } });
    expect(step(start(), 'PAY', failed, 100)).toMatchObject({ status: 'FAILED', nextStep: null, failure: { resultCode: 'USER_BALANCE_NOT_ENOUGH' } });
  });

  it('pay U/PAYMENT_IN_PROCESS → 10 inquiries within 60 s, then cancelPayment', () => {
    let p = step(start(), 'PAY', inProcess, 0);
    let t = 0;
    const inquiryTimes: number[] = [];
    while (p.nextStep === 'INQUIRE') {
      t = Date.parse(p.nextStepAt!) - T0.getTime();
      inquiryTimes.push(t);
      p = step(p, 'INQUIRE', inProcess, t);
    }
    expect(inquiryTimes.length).toBeGreaterThanOrEqual(10);
    expect(inquiryTimes.length).toBeLessThanOrEqual(20);
    expect(inquiryTimes.at(-1)).toBeLessThanOrEqual(60_000);
    expect(p).toMatchObject({ status: 'PENDING', phase: 'CANCELLING', nextStep: 'CANCEL' });
    expect(Date.parse(p.nextStepAt!)).toBeGreaterThanOrEqual(Date.parse(p.expiresAt));
  });

  it('inquiry S/F ends the payment', () => {
    const inquiring = step(start(), 'PAY', inProcess, 0);
    expect(step(inquiring, 'INQUIRE', paid, 2000).status).toBe('SUCCEEDED');
    expect(step(inquiring, 'INQUIRE', failed, 2000).status).toBe('FAILED');
  });

  it('pay other U or no answer → resend pay with backoff until expiry, then one inquiry, then cancel', () => {
    let p = step(start(), 'PAY', noResult, 0);
    expect(p).toMatchObject({ nextStep: 'PAY', attempts: 1, nextStepAt: plus(1000).toISOString() });
    p = step(p, 'PAY', noResult, 1000);
    expect(p).toMatchObject({ nextStep: 'PAY', attempts: 2, nextStepAt: plus(3000).toISOString() });
    p = step(p, 'PAY', noResult, 60_000);
    expect(p).toMatchObject({ phase: 'INQUIRING', nextStep: 'INQUIRE', nextStepAt: plus(60_000).toISOString() });
    p = step(p, 'INQUIRE', noResult, 60_100);
    expect(p).toMatchObject({ phase: 'CANCELLING', nextStep: 'CANCEL', nextStepAt: plus(60_100).toISOString() });
  });

  it('cancelPayment is retried until it succeeds, and then the payment is CANCELLED', () => {
    let p = requestCancel(start(), T0);
    p = step(p, 'CANCEL', noResult, 0);
    p = step(p, 'CANCEL', { kind: 'FAILED', resultCode: 'PROCESS_FAIL', resultMessage: null }, 1000);
    expect(p).toMatchObject({ status: 'PENDING', nextStep: 'CANCEL', attempts: 2 });
    expect(step(p, 'CANCEL', cancelled, 3000)).toMatchObject({ status: 'CANCELLED', nextStep: null });
  });

  it('once cancelling, a late success or failure is not applied', () => {
    const cancelling = requestCancel(step(start(), 'PAY', inProcess, 0), plus(500));
    expect(step(cancelling, 'INQUIRE', paid, 600)).toBe(cancelling);
    expect(step(cancelling, 'PAY', failed, 600)).toBe(cancelling);
  });

  it.each(['SUCCEEDED', 'FAILED', 'CANCELLED'] as const)('never changes a %s payment', (status) => {
    const final: Progress = { ...start(), status, phase: null, nextStep: null, nextStepAt: null };
    for (const s of ['PAY', 'INQUIRE', 'CANCEL'] as const) {
      for (const o of [paid, failed, inProcess, noResult, cancelled]) expect(step(final, s, o, 1000)).toBe(final);
    }
    expect(requestCancel(final, T0)).toBe(final);
  });

  it('resumes overdue work past expiry with one inquiry before cancelling', () => {
    const resumed = resumeOverdue(start(), plus(120_000), DEFAULT_SCHEDULE);
    expect(resumed).toMatchObject({ phase: 'INQUIRING', nextStep: 'INQUIRE' });
    expect(step(resumed, 'INQUIRE', inProcess, 120_000)).toMatchObject({ phase: 'CANCELLING', nextStep: 'CANCEL' });
    expect(resumeOverdue(start(), plus(10_000), DEFAULT_SCHEDULE)).toEqual(start());
  });
});
