/**
 * Alipay+'s notifyPayment (reference §3.4): once a payment is final, Alipay+ POSTs a signed result to
 * the payment's notification URL and retries while the acknowledgement is not a correctly signed `S`.
 * Each attempt sends the same body with a fresh Request-Time and signature, and is recorded in the
 * payment's call list.
 */
import type { Logger } from 'pino';
import type { Signer } from '../signing.js';
import { alipayplusTime } from './ids.js';
import type { SimulatedPayment } from './state.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** The retry intervals after the first attempt: 7 retries within 24 h 22 min (third-party, reference §3.4). */
export const NOTIFY_RETRY_SCHEDULE_MS: readonly number[] = [2 * MINUTE, 10 * MINUTE, 10 * MINUTE, HOUR, 2 * HOUR, 6 * HOUR, 15 * HOUR];

export interface NotifierOptions {
  /** The simulator's: signs as Alipay+, verifies the acknowledgement with the gateway's public key. */
  signer: Signer;
  /** Before the first attempt. */
  delayMs: number;
  retryScheduleMs: readonly number[];
  /** Alipay+ waits 5 s for an acknowledgement (reference §1.9). */
  timeoutMs: number;
  clock: () => Date;
  logger: Logger;
}

interface Attempt {
  result: string;
  acknowledged: boolean;
}

export class Notifier {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly pending = new Set<SimulatedPayment>();
  private controller = new AbortController();
  private stopped = false;

  constructor(private readonly options: NotifierOptions) {}

  /** Sends `body` after delayMs, then on the retry schedule until a correctly signed S acknowledges it. */
  notify(payment: SimulatedPayment, body: Record<string, unknown>): void {
    if (this.stopped || !payment.notification.enabled) return;
    payment.notification.status = 'PENDING';
    this.pending.add(payment);
    this.later(this.options.delayMs, () => this.attempt(payment, JSON.stringify(body), 0));
  }

  /** Forgets every pending notification and aborts those in flight (reset). */
  cancelAll(): void {
    this.controller.abort();
    this.controller = new AbortController();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const payment of this.pending) payment.notification.status = 'STOPPED';
    this.pending.clear();
  }

  /** For good (process or test end). */
  stop(): void {
    this.stopped = true;
    this.cancelAll();
  }

  private later(ms: number, run: () => Promise<void>): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void run();
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }

  private async attempt(payment: SimulatedPayment, body: string, retriesDone: number): Promise<void> {
    const signal = this.controller.signal;
    const time = this.options.clock().toISOString();
    const outcome = await this.send(payment.notification.url, body, signal);
    if (signal.aborted) return;
    payment.notification.attempts += 1;
    payment.calls.push({ api: 'notifyPayment', time, result: outcome.result, attempt: payment.notification.attempts, acknowledged: outcome.acknowledged });
    this.options.logger.info(
      { api: 'notifyPayment', paymentRequestId: payment.paymentRequestId, attempt: payment.notification.attempts, acknowledgement: outcome.result, url: payment.notification.url },
      outcome.acknowledged ? 'notification acknowledged' : 'notification not acknowledged',
    );
    const retryIn = this.options.retryScheduleMs[retriesDone];
    if (outcome.acknowledged || retryIn === undefined) {
      payment.notification.status = outcome.acknowledged ? 'ACKNOWLEDGED' : 'GAVE_UP';
      this.pending.delete(payment);
      return;
    }
    this.later(retryIn, () => this.attempt(payment, body, retriesDone + 1));
  }

  private async send(target: string, body: string, signal: AbortSignal): Promise<Attempt> {
    const { signer } = this.options;
    const url = new URL(target);
    // The gateway verifies against the path it serves, query string included (reference §2.2).
    const path = `${url.pathname}${url.search}`;
    const requestTime = alipayplusTime(this.options.clock(), true);
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: await signer.signedHeaders('Request-Time', path, requestTime, body),
        body,
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.options.timeoutMs)]),
      });
      const text = await response.text();
      if (response.status !== 200) return { result: `HTTP ${response.status}`, acknowledged: false };
      let answered: { resultStatus?: string; resultCode?: string } | undefined;
      try {
        answered = (JSON.parse(text) as { result?: typeof answered }).result;
      } catch {
        return { result: 'NOT_JSON', acknowledged: false };
      }
      const result = answered ? `${answered.resultStatus}/${answered.resultCode}` : 'NO_RESULT';
      const verified = signer.verify(path, response.headers.get('response-time') ?? '', text, response.headers.get('signature') ?? undefined);
      if (!verified.ok) return { result: `${result} (${verified.reason} on the acknowledgement)`, acknowledged: false };
      return { result, acknowledged: answered?.resultStatus === 'S' };
    } catch (error) {
      const e = error as Error;
      return { result: e.name === 'TimeoutError' ? `NO_ANSWER within ${this.options.timeoutMs} ms` : `NO_ANSWER (${(e.cause as Error | undefined)?.message ?? e.message})`, acknowledged: false };
    }
  }
}
