/**
 * The simulated Alipay+ itself: what pay, inquiryPayment and cancelPayment do to a payment and what
 * they answer (reference §3.1–§3.3, §8). Pure of HTTP: each call returns a Reply that app.ts delivers.
 *
 * Rules: pay is idempotent on paymentRequestId (a repeat gets the answer of the payment's current state;
 * different key parameters → F REPEAT_REQ_INCONSISTENT); an unknown payment → F ORDER_NOT_EXIST; a
 * cancel closes any known payment (a paid one is reversed) and a cancelled payment's inquiry answers
 * paymentResult F ORDER_IS_CLOSED. A payment that becomes final (S or F) is handed to onFinal, which
 * sends notifyPayment.
 */
import type { components } from '../../generated/alipayplus.js';
import { RESULT_CODES, type ResultCode } from '../domain/result-codes.js';
import { alipayplusTime, customerIdFor, newPaymentId, walletFor } from './ids.js';
import { behaviourForAmount, type PayStep } from './magic.js';
import { keyParametersOf, type CallRecord, type Delivery, type PayRequest, type SimulatedPayment, type SimulatorState } from './state.js';

type PaymentReference = components['schemas']['PaymentReference'];
type Result = { resultCode: string; resultStatus: 'S' | 'F' | 'U'; resultMessage: string };
export type AnswerBody = { result: Result } & Record<string, unknown>;

/** How a JSON answer goes out: signed over the bytes sent, or deliberately broken (magic.ts). */
export type JsonDelivery = 'SIGNED' | Extract<Delivery, 'BAD_SIGNATURE' | 'TRUNCATED'>;

export type Reply = { kind: 'JSON'; body: AnswerBody; delivery: JsonDelivery } | { kind: 'HTTP_502' } | { kind: 'NO_ANSWER' };

export interface PaymentsOptions {
  state: SimulatorState;
  acquirerId: string;
  clock: () => Date;
  /** Where notifyPayment goes when the pay request carries no paymentNotifyUrl. */
  defaultNotifyUrl: string;
  /** Global switch; a script may also turn notifications off for its payment. */
  notify: boolean;
  onFinal: (payment: SimulatedPayment) => void;
}

const result = (code: ResultCode, message?: string): Result => {
  const entry = RESULT_CODES[code];
  return { resultCode: code, resultStatus: entry.status, resultMessage: message ?? entry.message };
};

const statusOf = (r: Result) => `${r.resultStatus}/${r.resultCode}`;

export function createPayments(options: PaymentsOptions) {
  const { state, clock } = options;

  function record(payment: SimulatedPayment, api: CallRecord['api'], reply: Reply): void {
    const call: CallRecord = { api, time: clock().toISOString(), result: reply.kind === 'JSON' ? statusOf(reply.body.result) : reply.kind };
    if (reply.kind === 'JSON' && reply.body.paymentResult) call.paymentResult = statusOf(reply.body.paymentResult as Result);
    if (reply.kind !== 'JSON') call.delivery = reply.kind;
    else if (reply.delivery !== 'SIGNED') call.delivery = reply.delivery;
    payment.calls.push(call);
  }

  const json = (body: AnswerBody, delivery: JsonDelivery = 'SIGNED'): Reply => ({ kind: 'JSON', body, delivery });

  function create(request: PayRequest): SimulatedPayment {
    const now = clock();
    const script = state.scripts.get(request.paymentRequestId);
    state.scripts.delete(request.paymentRequestId);
    const code = request.paymentMethod.paymentMethodId;
    const payment: SimulatedPayment = {
      paymentRequestId: request.paymentRequestId,
      paymentId: newPaymentId(now),
      behaviour: script?.behaviour ?? behaviourForAmount(request.paymentAmount.value),
      status: 'NEW',
      request,
      keyParameters: keyParametersOf(request),
      wallet: walletFor(code),
      customerId: customerIdFor(code),
      failure: null,
      paymentTime: null,
      cancelTime: null,
      createdAt: now.toISOString(),
      payCalls: 0,
      inquiriesInProcess: 0,
      notification: {
        enabled: options.notify && (script?.notify ?? true),
        url: request.paymentNotifyUrl ?? options.defaultNotifyUrl,
        status: 'NONE',
        attempts: 0,
      },
      calls: [],
    };
    state.payments.set(payment.paymentRequestId, payment);
    return payment;
  }

  /**
   * Moves a payment towards `target` the first time it is processed. A code that is no Alipay+ payment
   * code fails with INVALID_CODE whatever the behaviour; a final payment never changes here.
   */
  function advance(payment: SimulatedPayment, target: 'PROCESSING' | 'SUCCEEDED' | { resultCode: string; resultMessage: string }): void {
    if (payment.status !== 'NEW' && payment.status !== 'PROCESSING') return;
    if (!payment.wallet) return finish(payment, 'FAILED', { resultCode: 'INVALID_CODE', resultMessage: RESULT_CODES.INVALID_CODE.message });
    if (target === 'PROCESSING') payment.status = 'PROCESSING';
    else if (target === 'SUCCEEDED') finish(payment, 'SUCCEEDED', null);
    else finish(payment, 'FAILED', target);
  }

  function finish(payment: SimulatedPayment, status: 'SUCCEEDED' | 'FAILED', failure: SimulatedPayment['failure']): void {
    payment.status = status;
    payment.failure = failure;
    if (status === 'SUCCEEDED') payment.paymentTime = alipayplusTime(clock());
    options.onFinal(payment);
  }

  /** The fields Alipay+ returns about a paid payment (seed 001 success sample). */
  function paidFields(payment: SimulatedPayment): Record<string, unknown> {
    return {
      acquirerId: options.acquirerId,
      pspId: payment.wallet!.pspId,
      paymentId: payment.paymentId,
      paymentAmount: payment.request.paymentAmount,
      paymentTime: payment.paymentTime,
      customerId: payment.customerId,
      walletBrandName: payment.wallet!.walletBrandName,
    };
  }

  /** The payment's state as a Result: S paid, F failed or closed, U in process. */
  function paymentResult(payment: SimulatedPayment): Result {
    switch (payment.status) {
      case 'SUCCEEDED':
        return result('SUCCESS');
      case 'FAILED':
        return { resultCode: payment.failure!.resultCode, resultStatus: 'F', resultMessage: payment.failure!.resultMessage };
      case 'CANCELLED':
        return result('ORDER_IS_CLOSED');
      default:
        return result('PAYMENT_IN_PROCESS');
    }
  }

  function payAnswer(payment: SimulatedPayment): AnswerBody {
    const r = paymentResult(payment);
    return payment.status === 'SUCCEEDED' ? { result: r, ...paidFields(payment) } : { result: r };
  }

  function inquiryAnswer(payment: SimulatedPayment): AnswerBody {
    const base = { result: result('SUCCESS'), paymentResult: paymentResult(payment), acquirerId: options.acquirerId, paymentRequestId: payment.paymentRequestId, paymentId: payment.paymentId };
    return payment.status === 'SUCCEEDED' ? { ...base, ...paidFields(payment) } : base;
  }

  function payStep(payment: SimulatedPayment, step: PayStep): Reply {
    switch (step) {
      case 'UNKNOWN':
        return json({ result: result('UNKNOWN_EXCEPTION') });
      case 'HTTP_502':
        return { kind: 'HTTP_502' };
      case 'NO_ANSWER':
        advance(payment, 'PROCESSING');
        return { kind: 'NO_ANSWER' };
      case 'IN_PROCESS':
        advance(payment, 'PROCESSING');
        return json(payAnswer(payment));
      case 'SUCCESS':
      case 'SUCCESS_BAD_SIGNATURE':
      case 'SUCCESS_TRUNCATED':
        advance(payment, 'SUCCEEDED');
        return json(payAnswer(payment), step === 'SUCCESS' ? 'SIGNED' : step === 'SUCCESS_BAD_SIGNATURE' ? 'BAD_SIGNATURE' : 'TRUNCATED');
      default:
        advance(payment, step.fail);
        return json(payAnswer(payment));
    }
  }

  return {
    pay(request: PayRequest): Reply {
      const existing = state.payments.get(request.paymentRequestId);
      if (existing && existing.keyParameters !== keyParametersOf(request)) {
        const reply = json({ result: result('REPEAT_REQ_INCONSISTENT') });
        record(existing, 'pay', reply);
        return reply;
      }
      const payment = existing ?? create(request);
      const steps = payment.behaviour.pay;
      const step = steps[Math.min(payment.payCalls, steps.length - 1)]!;
      payment.payCalls += 1;
      // A cancelled payment stays closed: pay answers F ORDER_IS_CLOSED (unless the behaviour never answers).
      const reply = payment.status === 'CANCELLED' && step !== 'NO_ANSWER' ? json(payAnswer(payment)) : payStep(payment, step);
      record(payment, 'pay', reply);
      return reply;
    },

    inquiryPayment(reference: PaymentReference): Reply {
      const payment = state.find(reference);
      if (!payment || payment.status === 'NEW') {
        const reply = json({ result: result('ORDER_NOT_EXIST') });
        if (payment) record(payment, 'inquiryPayment', reply);
        return reply;
      }
      if (payment.status === 'PROCESSING') {
        const steps = payment.behaviour.inquiry;
        const step = steps[Math.min(payment.inquiriesInProcess, steps.length - 1)]!;
        payment.inquiriesInProcess += 1;
        if (step === 'SUCCESS') advance(payment, 'SUCCEEDED');
      }
      const reply = json(inquiryAnswer(payment));
      record(payment, 'inquiryPayment', reply);
      return reply;
    },

    cancelPayment(reference: PaymentReference): Reply {
      const payment = state.find(reference);
      if (!payment || payment.status === 'NEW') {
        const reply = json({ result: result('ORDER_NOT_EXIST') });
        if (payment) record(payment, 'cancelPayment', reply);
        return reply;
      }
      if (payment.status !== 'CANCELLED') {
        payment.status = 'CANCELLED';
        payment.cancelTime = alipayplusTime(clock());
      }
      const reply = json({
        result: result('SUCCESS'),
        acquirerId: options.acquirerId,
        ...(payment.wallet ? { pspId: payment.wallet.pspId } : {}),
        paymentRequestId: payment.paymentRequestId,
        paymentId: payment.paymentId,
        cancelTime: payment.cancelTime,
      });
      record(payment, 'cancelPayment', reply);
      return reply;
    },

    /** The notifyPayment body of a final payment (reference §3.4). */
    notificationOf(payment: SimulatedPayment): Record<string, unknown> {
      const common = { paymentResult: paymentResult(payment), paymentRequestId: payment.paymentRequestId, paymentId: payment.paymentId, acquirerId: options.acquirerId };
      if (payment.status === 'SUCCEEDED') return { ...common, ...paidFields(payment) };
      return { ...common, ...(payment.wallet ? { pspId: payment.wallet.pspId } : {}), paymentAmount: payment.request.paymentAmount };
    },
  };
}

export type Payments = ReturnType<typeof createPayments>;
