/**
 * What the simulated Alipay+ remembers: one record per paymentRequestId (the idempotency key of pay),
 * the scripts waiting for their paymentRequestId, and every call received or notification sent, so
 * tests and the demo can see exactly what the gateway did.
 */
import type { components } from '../../generated/alipayplus.js';
import type { Behaviour } from './magic.js';
import type { Wallet } from './ids.js';

export type PayRequest = components['schemas']['PayRequest'];

/**
 * NEW: pay was received but not processed (it answered U/UNKNOWN_EXCEPTION or HTTP 502); Alipay+ does
 * not know the payment yet. PROCESSING: the wallet is working (U). The other three are final, except
 * that a cancel closes (or reverses) any payment.
 */
export type PaymentStatus = 'NEW' | 'PROCESSING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

export type SimulatorApi = 'pay' | 'inquiryPayment' | 'cancelPayment' | 'notifyPayment';

/** How an answer was (not) delivered, when not as a correctly signed JSON body. */
export type Delivery = 'NO_ANSWER' | 'HTTP_502' | 'BAD_SIGNATURE' | 'TRUNCATED';

export interface CallRecord {
  api: SimulatorApi;
  /** When the call was received (or, for notifyPayment, sent). */
  time: string;
  /** `S/SUCCESS`, `U/PAYMENT_IN_PROCESS` …: the result answered, or for notifyPayment the acknowledgement received. */
  result: string;
  /** inquiryPayment: the paymentResult answered. */
  paymentResult?: string;
  delivery?: Delivery;
  /** notifyPayment: 1 for the first attempt. */
  attempt?: number;
  /** notifyPayment: the acknowledgement was a correctly signed S (no further attempts). */
  acknowledged?: boolean;
}

export interface SimulatedPayment {
  paymentRequestId: string;
  paymentId: string;
  behaviour: Behaviour;
  status: PaymentStatus;
  /** The first pay request: the answers and the notification are built from it. */
  request: PayRequest;
  /** The key parameters of the first pay (reference §8), to detect REPEAT_REQ_INCONSISTENT. */
  keyParameters: string;
  /** null when the code is no Alipay+ payment code. */
  wallet: Wallet | null;
  customerId: string;
  failure: { resultCode: string; resultMessage: string } | null;
  paymentTime: string | null;
  cancelTime: string | null;
  createdAt: string;
  payCalls: number;
  /** Inquiries answered while the payment was in process: they walk behaviour.inquiry. */
  inquiriesInProcess: number;
  notification: { enabled: boolean; url: string; status: 'NONE' | 'PENDING' | 'ACKNOWLEDGED' | 'GAVE_UP' | 'STOPPED'; attempts: number };
  calls: CallRecord[];
}

export interface Script {
  behaviour: Behaviour | null;
  notify: boolean | null;
}

/** A canonical form of a value: keys sorted, nulls dropped (absent and null mean the same to Alipay+). */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== null && v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => [k, canonical(v)]),
    );
  }
  return value;
}

/** The union of Alipay+'s two key-parameter lists for pay (reference §8). */
export function keyParametersOf(request: PayRequest): string {
  return JSON.stringify(
    canonical({
      paymentAmount: request.paymentAmount,
      paymentMethod: request.paymentMethod,
      orderAmount: request.order.orderAmount,
      paymentFactor: request.paymentFactor,
      settlementStrategy: request.settlementStrategy,
    }),
  );
}

export class SimulatorState {
  readonly payments = new Map<string, SimulatedPayment>();
  readonly scripts = new Map<string, Script>();

  /** The payment an inquiry or a cancel names, by paymentRequestId or else paymentId. */
  find(reference: { paymentRequestId?: string | null; paymentId?: string | null }): SimulatedPayment | undefined {
    if (reference.paymentRequestId) return this.payments.get(reference.paymentRequestId);
    return [...this.payments.values()].find((p) => p.paymentId === reference.paymentId);
  }

  calls(paymentRequestId: string, api?: SimulatorApi): CallRecord[] {
    const calls = this.payments.get(paymentRequestId)?.calls ?? [];
    return api ? calls.filter((c) => c.api === api) : calls;
  }

  reset(): void {
    this.payments.clear();
    this.scripts.clear();
  }
}
