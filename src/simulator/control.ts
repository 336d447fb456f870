/**
 * The simulator's control endpoints, for tests and the demo. Unsigned JSON, never part of Alipay+:
 *
 *   POST /simulator/scripts                    {paymentRequestId, magic?, notify?} → 201
 *        scripts the next pay of that paymentRequestId: `magic` is a MAGIC_AMOUNTS name or amount (or
 *        SUCCESS), whatever the amount; `notify: false` sends no notifyPayment for it
 *   GET  /simulator/payments/:paymentRequestId → the payment's state and every call (api, time, result)
 *   GET  /simulator/payments                   → {items: [...]}, oldest first
 *   GET  /simulator/magic-amounts              → the MAGIC_AMOUNTS table
 *   POST /simulator/reset                      → 204; forgets payments, scripts, pending notifications
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { maskCode } from '../logger.js';
import { findBehaviour, MAGIC_AMOUNTS } from './magic.js';
import type { Notifier } from './notifier.js';
import type { Script, SimulatedPayment, SimulatorApi, SimulatorState } from './state.js';

export class ScriptError extends Error {
  constructor(
    readonly status: 400 | 409,
    message: string,
  ) {
    super(message);
    this.name = 'ScriptError';
  }
}

/** Registers a script for a paymentRequestId that pay has not seen yet. */
export function scriptPayment(state: SimulatorState, paymentRequestId: unknown, magic: unknown, notify: unknown): Script {
  if (typeof paymentRequestId !== 'string' || paymentRequestId.length === 0 || paymentRequestId.length > 64) {
    throw new ScriptError(400, 'paymentRequestId must be a string of 1 to 64 characters.');
  }
  if (magic !== undefined && typeof magic !== 'string') throw new ScriptError(400, 'magic must be a string.');
  if (notify !== undefined && typeof notify !== 'boolean') throw new ScriptError(400, 'notify must be true or false.');
  if (magic === undefined && notify === undefined) throw new ScriptError(400, 'Give magic, notify or both.');
  const behaviour = magic === undefined ? null : findBehaviour(magic);
  if (behaviour === undefined) {
    const names = Object.entries(MAGIC_AMOUNTS).map(([amount, b]) => `${b.name} (${amount})`);
    throw new ScriptError(400, `Unknown magic ${JSON.stringify(magic)}; use SUCCESS or one of ${names.join(', ')}.`);
  }
  if (state.payments.has(paymentRequestId)) throw new ScriptError(409, `Payment ${paymentRequestId} already exists; script it before its first pay.`);
  const script: Script = { behaviour, notify: notify ?? null };
  state.scripts.set(paymentRequestId, script);
  return script;
}

/** What the control API shows of a payment: never the full payment code. */
export function paymentView(payment: SimulatedPayment) {
  const count = (api: SimulatorApi) => payment.calls.filter((c) => c.api === api).length;
  return {
    paymentRequestId: payment.paymentRequestId,
    paymentId: payment.paymentId,
    status: payment.status,
    magic: payment.behaviour.name,
    paymentAmount: payment.request.paymentAmount,
    paymentCode: maskCode(payment.request.paymentMethod.paymentMethodId),
    walletBrandName: payment.wallet?.walletBrandName ?? null,
    pspId: payment.wallet?.pspId ?? null,
    customerId: payment.customerId,
    paymentTime: payment.paymentTime,
    cancelTime: payment.cancelTime,
    failure: payment.failure,
    createdAt: payment.createdAt,
    notification: payment.notification,
    counts: { pay: count('pay'), inquiryPayment: count('inquiryPayment'), cancelPayment: count('cancelPayment'), notifyPayment: count('notifyPayment') },
    calls: payment.calls,
  };
}

export function controlRouter(state: SimulatorState, notifier: Notifier): Router {
  const router = express.Router();
  router.use(express.json());

  router.post('/scripts', (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const script = scriptPayment(state, body.paymentRequestId, body.magic, body.notify);
    res.status(201).json({ paymentRequestId: body.paymentRequestId, magic: script.behaviour?.name ?? null, notify: script.notify });
  });

  router.get('/payments', (_req, res) => {
    res.json({ items: [...state.payments.values()].map(paymentView) });
  });

  router.get('/payments/:paymentRequestId', (req, res) => {
    const payment = state.payments.get(req.params.paymentRequestId!);
    if (!payment) {
      res.status(404).json({ error: `No payment ${req.params.paymentRequestId}.` });
      return;
    }
    res.json(paymentView(payment));
  });

  router.get('/magic-amounts', (_req, res) => {
    res.json(Object.entries(MAGIC_AMOUNTS).map(([amount, b]) => ({ amount, name: b.name, description: b.description })));
  });

  router.post('/reset', (_req, res) => {
    notifier.cancelAll();
    state.reset();
    res.status(204).end();
  });

  router.use((req, res) => {
    res.status(404).json({ error: `No control endpoint ${req.method} /simulator${req.path}.` });
  });

  router.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (error instanceof ScriptError) return void res.status(error.status).json({ error: error.message });
    if ((error as { type?: string }).type === 'entity.parse.failed') return void res.status(400).json({ error: 'The body is not valid JSON.' });
    next(error);
  });
  return router;
}
