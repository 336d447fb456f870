/**
 * A signing, stateful Alipay+ for the sandbox, the demo and the gateway's behaviour tests (DESIGN §3):
 * pay / inquiryPayment / cancelPayment with failure injection by magic amounts (magic.ts), and
 * delayed, signed, retried notifyPayment calls to the gateway (notifier.ts). Prism proves shapes; this
 * proves behaviour: it signs, keeps state and answers U-then-S.
 *
 *   const sim = await createSimulator({ clientId, privateKeyPem, gatewayPublicKeyPem, gatewayUrl });
 *   // point the gateway's ALIPAYPLUS_BASE_URL at sim.url; then sim.calls(id, 'inquiryPayment').length …
 *   await sim.close();
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import { loadSpec } from '../http/specs.js';
import { SANDBOX_ACQUIRER_ID } from '../sandbox.js';
import { loadPrivateKey, loadPublicKey, Signer } from '../signing.js';
import { createApp } from './app.js';
import { scriptPayment } from './control.js';
import type { Behaviour } from './magic.js';
import { Notifier, NOTIFY_RETRY_SCHEDULE_MS } from './notifier.js';
import { createPayments } from './payments.js';
import { SimulatorState, type CallRecord, type SimulatedPayment, type SimulatorApi } from './state.js';

export { MAGIC_AMOUNTS, DEFAULT_BEHAVIOUR, findBehaviour, type Behaviour } from './magic.js';
export { NOTIFY_RETRY_SCHEDULE_MS } from './notifier.js';
export { CGCP_ROUTING_WALLETS, walletFor } from './ids.js';
export type { CallRecord, PaymentStatus, SimulatedPayment, SimulatorApi, SimulatorState } from './state.js';

export interface SimulatorOptions {
  /** 0 (the default) = an ephemeral port. */
  port?: number;
  host?: string;
  /** The ACQP's client id: requests must carry it, and it is in every signed content. */
  clientId: string;
  /** The sandbox Alipay+ private key: signs every answer and notification. */
  privateKeyPem: string;
  /** The keyVersion written in the simulator's signatures. Default 1. */
  keyVersion?: string;
  /** The gateway's public key: verifies its requests and its notification acknowledgements. */
  gatewayPublicKeyPem: string;
  /** The keyVersion the gateway signs with (ACQP_KEY_VERSION); any other → KEY_NOT_FOUND. Default 1. */
  gatewayKeyVersion?: string;
  /** The ACQP's acquirerId, returned in answers and notifications. Default the sandbox one. */
  acquirerId?: string;
  /** Where notifyPayment goes when pay carries no paymentNotifyUrl: `${gatewayUrl}/aps/api/v1/payments/notifyPayment`. */
  gatewayUrl?: string;
  /** Send notifyPayment for final payments. Default true. */
  notify?: boolean;
  /** Before the first notification attempt. Default 1000. */
  notifyDelayMs?: number;
  /** Divides the documented notification retry schedule. Default 60 (2 min → 2 s). */
  timeScale?: number;
  /** Retry intervals after the first attempt. Default NOTIFY_RETRY_SCHEDULE_MS / timeScale. */
  notifyRetryScheduleMs?: readonly number[];
  /** How long to wait for an acknowledgement. Default 5000 (Alipay+'s timeout for notifyPayment). */
  notifyTimeoutMs?: number;
  /** How long an unanswered pay holds the socket before destroying it. Default 30 000. */
  payHangMs?: number;
  /** Default silent. */
  logger?: Logger;
  /** Default the system clock; tests may share the gateway's. */
  clock?: () => Date;
}

export interface Simulator {
  url: string;
  port: number;
  state: SimulatorState;
  payment(paymentRequestId: string): SimulatedPayment | undefined;
  /** The calls received (and notifications sent) for a payment, optionally of one API. */
  calls(paymentRequestId: string, api?: SimulatorApi): CallRecord[];
  /** As POST /simulator/scripts: `magic` a MAGIC_AMOUNTS name or amount, or SUCCESS. */
  script(paymentRequestId: string, magic?: string, options?: { notify?: boolean }): Behaviour | null;
  /** As POST /simulator/reset. */
  reset(): void;
  close(): Promise<void>;
}

export async function createSimulator(options: SimulatorOptions): Promise<Simulator> {
  const clock = options.clock ?? (() => new Date());
  const logger = options.logger ?? pino({ level: 'silent' });
  const timeScale = options.timeScale ?? 60;
  const signer = new Signer(
    options.clientId,
    loadPrivateKey(options.privateKeyPem),
    options.keyVersion ?? '1',
    new Map([[options.gatewayKeyVersion ?? '1', loadPublicKey(options.gatewayPublicKeyPem)]]),
  );
  const state = new SimulatorState();
  const notifier = new Notifier({
    signer,
    delayMs: options.notifyDelayMs ?? 1000,
    retryScheduleMs: options.notifyRetryScheduleMs ?? NOTIFY_RETRY_SCHEDULE_MS.map((ms) => ms / timeScale),
    timeoutMs: options.notifyTimeoutMs ?? 5000,
    clock,
    logger,
  });
  const gatewayUrl = (options.gatewayUrl ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  const payments = createPayments({
    state,
    acquirerId: options.acquirerId ?? SANDBOX_ACQUIRER_ID,
    clock,
    defaultNotifyUrl: `${gatewayUrl}/aps/api/v1/payments/notifyPayment`,
    notify: options.notify ?? true,
    onFinal: (payment) => notifier.notify(payment, payments.notificationOf(payment)),
  });
  const app = createApp({ signer, spec: await loadSpec('alipayplus'), payments, state, notifier, payHangMs: options.payHangMs ?? 30_000, clock, logger });

  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(options.port ?? 0, options.host ?? '127.0.0.1', (error?: Error) => (error ? reject(error) : resolve(s)));
  });
  const { address, port } = server.address() as AddressInfo;

  return {
    url: `http://${address}:${port}`,
    port,
    state,
    payment: (paymentRequestId) => state.payments.get(paymentRequestId),
    calls: (paymentRequestId, api) => state.calls(paymentRequestId, api),
    script: (paymentRequestId, magic, scriptOptions = {}) => scriptPayment(state, paymentRequestId, magic, scriptOptions.notify).behaviour,
    reset() {
      notifier.cancelAll();
      state.reset();
    },
    async close() {
      notifier.stop();
      // Held (never answered) requests included: their sockets are destroyed now.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
