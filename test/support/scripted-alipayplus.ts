/**
 * A scripted stand-in for the Alipay+ client port: answers pay / inquiryPayment / cancelPayment from
 * per-API queues (then a default), and records every call, so tests can assert what was (not) sent.
 */
import type { AlipayplusPort, CallResult } from '../../src/domain/user-presented-payments.js';

type Api = 'pay' | 'inquiryPayment' | 'cancelPayment';

export const S_PAID = (paymentId = 'P-1'): CallResult => ({
  kind: 'ANSWER',
  body: { result: { resultCode: 'SUCCESS', resultStatus: 'S', resultMessage: 'success' }, paymentId, pspId: '1022172000000000001', customerId: 'C-1', walletBrandName: 'KAKAOPAY', paymentTime: '2026-01-01T00:00:00Z' },
});
export const F = (code: string): CallResult => ({ kind: 'ANSWER', body: { result: { resultCode: code, resultStatus: 'F', resultMessage: code } } });
export const U = (code: string): CallResult => ({ kind: 'ANSWER', body: { result: { resultCode: code, resultStatus: 'U' } } });
export const NONE: CallResult = { kind: 'NO_RESULT', reason: 'timeout' };
export const INQUIRY = (payment: 'S' | 'F' | 'U', code = payment === 'S' ? 'SUCCESS' : payment === 'F' ? 'USER_BALANCE_NOT_ENOUGH' : 'PAYMENT_IN_PROCESS'): CallResult => ({
  kind: 'ANSWER',
  body: { result: { resultCode: 'SUCCESS', resultStatus: 'S' }, paymentResult: { resultCode: code, resultStatus: payment }, ...(payment === 'S' ? { paymentId: 'P-INQ', pspId: 'psp', customerId: 'c', walletBrandName: 'GCASH', paymentTime: '2026-01-01T00:00:00Z' } : {}) },
});

export class ScriptedAlipayplus implements AlipayplusPort {
  readonly calls: { api: Api; paymentRequestId: string; body: string }[] = [];
  private readonly queues: Record<Api, CallResult[]> = { pay: [], inquiryPayment: [], cancelPayment: [] };
  defaults: Record<Api, CallResult> = { pay: S_PAID(), inquiryPayment: INQUIRY('U'), cancelPayment: { kind: 'ANSWER', body: { result: { resultCode: 'SUCCESS', resultStatus: 'S' } } } };

  script(api: Api, ...answers: CallResult[]): this {
    this.queues[api].push(...answers);
    return this;
  }

  count(api: Api, paymentRequestId?: string): number {
    return this.calls.filter((c) => c.api === api && (!paymentRequestId || c.paymentRequestId === paymentRequestId)).length;
  }

  private answer(api: Api, body: string): Promise<CallResult> {
    this.calls.push({ api, paymentRequestId: JSON.parse(body).paymentRequestId, body });
    return Promise.resolve(this.queues[api].shift() ?? this.defaults[api]);
  }

  pay = (body: string) => this.answer('pay', body);
  inquiryPayment = (paymentRequestId: string) => this.answer('inquiryPayment', JSON.stringify({ paymentRequestId }));
  cancelPayment = (paymentRequestId: string) => this.answer('cancelPayment', JSON.stringify({ paymentRequestId }));
}
