/**
 * Failure injection: what the simulated Alipay+ does with a payment, chosen by its amount
 * (`paymentAmount.value`, whatever the currency) or scripted per paymentRequestId through
 * `POST /simulator/scripts`. Each behaviour is data: the steps successive pay calls take and the
 * steps successive inquiries take while the payment is in process; the last step of each repeats.
 *
 * A step decides two things: what happens to the payment (processed now, or not yet) and how the
 * answer is delivered (signed JSON, a bad signature, truncated bytes, an HTML 502, nothing). What the
 * answer says always follows from the payment's state, so repeats stay idempotent.
 */

export type PayStep =
  /** The wallet debits the user: the payment succeeds; answer by state (S). */
  | 'SUCCESS'
  /** The wallet is still working: the payment is in process; answer by state (U PAYMENT_IN_PROCESS). */
  | 'IN_PROCESS'
  /** The wallet refuses: the payment fails with this code; answer by state (F). */
  | { fail: { resultCode: string; resultMessage: string } }
  /** Alipay+ fails before processing: U UNKNOWN_EXCEPTION, the payment is not created. */
  | 'UNKNOWN'
  /** The payment is in process, and the request is never answered (the socket is held, then destroyed). */
  | 'NO_ANSWER'
  /** A proxy in front of Alipay+ answers HTTP 502 with HTML; the payment is not created. */
  | 'HTTP_502'
  /** As SUCCESS, but the answer's signature covers other bytes than those sent. */
  | 'SUCCESS_BAD_SIGNATURE'
  /** As SUCCESS, but only the first half of the answer's bytes is sent (and signed). */
  | 'SUCCESS_TRUNCATED';

export type InquiryStep = 'IN_PROCESS' | 'SUCCESS';

export interface Behaviour {
  name: string;
  description: string;
  pay: readonly PayStep[];
  inquiry: readonly InquiryStep[];
}

/** The magic amounts. Any other amount behaves as DEFAULT_BEHAVIOUR. */
export const MAGIC_AMOUNTS = {
  '100001': {
    name: 'IN_PROCESS_THEN_SUCCESS',
    description: 'pay answers U/PAYMENT_IN_PROCESS; inquiryPayment answers paymentResult U twice, then S from the 3rd inquiry on.',
    pay: ['IN_PROCESS'],
    inquiry: ['IN_PROCESS', 'IN_PROCESS', 'SUCCESS'],
  },
  '100002': {
    name: 'BALANCE_NOT_ENOUGH',
    description: 'pay answers F/USER_BALANCE_NOT_ENOUGH; inquiries answer paymentResult F with that code.',
    pay: [{ fail: { resultCode: 'USER_BALANCE_NOT_ENOUGH', resultMessage: 'The user balance is not enough.' } }],
    inquiry: ['IN_PROCESS'],
  },
  '100003': {
    name: 'UNKNOWN_THEN_SUCCESS',
    description: 'the first pay answers U/UNKNOWN_EXCEPTION (nothing created: inquiries answer F/ORDER_NOT_EXIST); the resent pay answers S.',
    pay: ['UNKNOWN', 'SUCCESS'],
    inquiry: ['IN_PROCESS'],
  },
  '100004': {
    name: 'PAY_NEVER_ANSWERS',
    description: 'every pay is held payHangMs, then its socket destroyed; inquiries answer result S + paymentResult U/PAYMENT_IN_PROCESS; cancelPayment answers S.',
    pay: ['NO_ANSWER'],
    inquiry: ['IN_PROCESS'],
  },
  '100005': {
    name: 'BAD_SIGNATURE_ONCE',
    description: 'the first pay answers S (the payment succeeds) with a signature over other bytes; later pay and inquiries answer S correctly signed.',
    pay: ['SUCCESS_BAD_SIGNATURE', 'SUCCESS'],
    inquiry: ['IN_PROCESS'],
  },
  '100006': {
    name: 'ALWAYS_IN_PROCESS',
    description: 'pay answers U/PAYMENT_IN_PROCESS and every inquiry paymentResult U, until cancelPayment (S).',
    pay: ['IN_PROCESS'],
    inquiry: ['IN_PROCESS'],
  },
  '100007': {
    name: 'HTTP_502_ONCE',
    description: 'the first pay answers HTTP 502 with an HTML body, unsigned (nothing created); the resent pay answers S.',
    pay: ['HTTP_502', 'SUCCESS'],
    inquiry: ['IN_PROCESS'],
  },
  '100008': {
    name: 'TRUNCATED_JSON_ONCE',
    description: 'the first pay answers truncated JSON, signed over the truncated bytes (the payment succeeds); the resent pay answers S.',
    pay: ['SUCCESS_TRUNCATED', 'SUCCESS'],
    inquiry: ['IN_PROCESS'],
  },
} as const satisfies Record<string, Behaviour>;

export const DEFAULT_BEHAVIOUR: Behaviour = {
  name: 'SUCCESS',
  description: 'pay answers S at once (any amount not in MAGIC_AMOUNTS).',
  pay: ['SUCCESS'],
  inquiry: ['IN_PROCESS'],
};

/** The behaviour of a payment of this amount value. */
export function behaviourForAmount(value: string): Behaviour {
  return (MAGIC_AMOUNTS as Record<string, Behaviour>)[value] ?? DEFAULT_BEHAVIOUR;
}

/** A behaviour by its name (`IN_PROCESS_THEN_SUCCESS`, `SUCCESS`) or its magic amount (`100001`). */
export function findBehaviour(magic: string): Behaviour | undefined {
  if (magic === DEFAULT_BEHAVIOUR.name) return DEFAULT_BEHAVIOUR;
  const table = MAGIC_AMOUNTS as Record<string, Behaviour>;
  return table[magic] ?? Object.values(table).find((b) => b.name === magic);
}
