/**
 * The worker loop of user-presented payments. The schedule lives in the database: each tick leases
 * the steps that are due (atomically, so two gateway processes never run the same step) and runs them
 * concurrently. A killed process's leases expire and another process, or the restarted one, redoes
 * the step — safe, because every Alipay+ call is idempotent on paymentRequestId.
 */
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { UserPresentedService } from './domain/user-presented-payments.js';
import type { Database } from './store/types.js';

export interface WorkerOptions {
  db: Database;
  service: UserPresentedService;
  logger: Logger;
  clock: () => Date;
  pollIntervalMs: number;
  /** Longer than the longest Alipay+ timeout (8 s), so a live worker never loses its lease mid-call. */
  leaseMs: number;
  concurrency: number;
}

export interface Worker {
  owner: string;
  /** Look for due work now (a payment was just created or cancelled). */
  wake(): void;
  /** Emits 'stepDone' with the paymentRequestId after each step. */
  events: EventEmitter;
  /** Stops claiming, waits for the steps in flight, and gives back every lease. */
  stop(): Promise<void>;
}

export function startWorker(options: WorkerOptions): Worker {
  const { db, service, logger, clock } = options;
  const owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const events = new EventEmitter();
  events.setMaxListeners(0);
  const inFlight = new Set<Promise<void>>();
  let running = true;
  let ticking = false;
  let again = false;
  let timer: NodeJS.Timeout | undefined;

  async function tick(): Promise<void> {
    if (!running) return;
    if (ticking) {
      again = true;
      return;
    }
    ticking = true;
    try {
      const room = options.concurrency - inFlight.size;
      if (room > 0) {
        const now = clock();
        const claimed = await db.transaction((tx) => tx.schedule.claimDue(owner, now.toISOString(), new Date(now.getTime() + options.leaseMs).toISOString(), room));
        for (const step of claimed) {
          const run: Promise<void> = service
            .runStep(step, owner)
            .catch((error) => logger.error({ err: error, paymentRequestId: step.paymentRequestId }, 'payment step failed; it will be retried when its lease expires'))
            .finally(() => {
              inFlight.delete(run);
              events.emit('stepDone', step.paymentRequestId);
              wake();
            });
          inFlight.add(run);
        }
      }
    } catch (error) {
      logger.warn({ err: error }, 'could not claim due payment steps; retrying');
    } finally {
      ticking = false;
      schedule(again ? 0 : options.pollIntervalMs);
      again = false;
    }
  }

  function schedule(delayMs: number): void {
    if (!running) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void tick(), delayMs);
  }

  function wake(): void {
    schedule(0);
  }

  schedule(0);
  return {
    owner,
    wake,
    events,
    async stop() {
      running = false;
      if (timer) clearTimeout(timer);
      await Promise.allSettled([...inFlight]);
      await db.transaction((tx) => tx.schedule.releaseAll(owner)).catch((error) => logger.warn({ err: error }, 'could not release leases; they expire on their own'));
    },
  };
}

/**
 * Resolves with the payment once it is final, or after `ms` with the payment as it is then. Woken by
 * this process's worker, and polling for what another process (or a notification) settled.
 */
export async function awaitFinal(db: Database, worker: Worker, paymentRequestId: string, ms: number, pollMs = 250) {
  const deadline = Date.now() + ms;
  for (;;) {
    const payment = await db.payments.findByRequestId(paymentRequestId);
    if (!payment || payment.status !== 'PENDING' || Date.now() >= deadline) return payment;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        worker.events.off('stepDone', onStep);
        resolve();
      };
      const onStep = (id: string) => id === paymentRequestId && done();
      const t = setTimeout(done, Math.min(pollMs, Math.max(0, deadline - Date.now())));
      worker.events.on('stepDone', onStep);
    });
  }
}
