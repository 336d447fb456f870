/**
 * The composition root: config → store → Alipay+ client → domain services → worker → HTTP app.
 * main.ts runs it as a process; tests build the very same gateway with their own config.
 */
import type { RequestListener } from 'node:http';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { alipayplusClient } from './alipayplus/client.js';
import type { Config } from './config.js';
import { merchantService } from './domain/merchants.js';
import { orderService } from './domain/orders.js';
import { pushPaymentService } from './domain/push-payments.js';
import { userPresentedService, type AlipayplusPort } from './domain/user-presented-payments.js';
import { acqpOperations } from './http/alipayplus/operations.js';
import { buildApp } from './http/app.js';
import { rateLimiter } from './http/rate-limit.js';
import { docsRouter } from './http/docs.js';
import { loadSpec } from './http/specs.js';
import { createMetrics } from './metrics.js';
import { Signer, SigningThread } from './signing.js';
import { openDatabase } from './store/index.js';
import type { Database } from './store/types.js';
import { awaitFinal, startWorker, type Worker } from './worker.js';

export interface Gateway {
  /** The HTTP surface, for `http.createServer` (src/http/app.ts). */
  app: RequestListener;
  db: Database & { knex: Knex };
  worker: Worker;
  /** Stops the worker (releasing its leases), flushes the audit log, closes the database, then the signing thread. */
  close(): Promise<void>;
}

export interface GatewayOverrides {
  clock?: () => Date;
  /** Replaces the Alipay+ client (tests of the worker against a double). */
  alipayplus?: AlipayplusPort;
}

export async function createGateway(config: Config, logger: Logger, overrides: GatewayOverrides = {}): Promise<Gateway> {
  const clock = overrides.clock ?? (() => new Date());
  const db = await openDatabase(
    { url: config.databaseUrl, schema: config.databaseSchema, poolMax: config.databasePoolMax, statementTimeoutMs: config.databaseStatementTimeoutMs, busyTimeoutMs: config.sqliteBusyTimeoutMs, acquireTimeoutMs: config.databaseAcquireTimeoutMs },
    (error) => logger.warn({ err: error }, 'audit write failed; entries kept for the next attempt'),
  );
  const [acqpSpec, merchantSpec] = await Promise.all([loadSpec('acqp'), loadSpec('merchant')]);
  const docs = docsRouter();
  const signingThread = new SigningThread(config.privateKey);
  const signer = new Signer(config.clientId, config.privateKey, config.keyVersion, config.alipayplusPublicKeys, signingThread.sign);
  const metrics = createMetrics({
    pendingPayments: () => db.payments.countPending(clock().toISOString()),
    overdueSteps: () => db.schedule.countOverdue(clock().toISOString()),
  });
  const alipayplus = overrides.alipayplus ?? alipayplusClient({ baseUrl: config.alipayplusBaseUrl, signer, audit: db.audit, metrics, clock });

  const merchants = merchantService(db, clock);
  const userPresented = userPresentedService(db, alipayplus, { schedule: config.schedule, direct: config.directWallets, paymentNotifyUrl: config.paymentNotifyUrl }, clock);
  const orders = orderService(db, { codeBaseUrl: config.codeBaseUrl, defaultOrderCodeTtlSeconds: config.orderCodeTtlSeconds }, clock, userPresented.cancelPending);
  const push = pushPaymentService(db, { codeBaseUrl: config.codeBaseUrl, settlementQuoteToleranceMinorUnits: config.settlementQuoteToleranceMinorUnits }, clock);
  const worker = startWorker({
    db,
    service: userPresented,
    logger,
    clock,
    pollIntervalMs: config.workerPollIntervalMs,
    leaseMs: config.workerLeaseMs,
    concurrency: config.workerConcurrency,
  });

  const app = buildApp({
    acqpSpec,
    merchantSpec,
    docs,
    acqpOperations: acqpOperations(push, userPresented),
    signer,
    audit: db.audit,
    metrics,
    ready: () => db.ready(),
    merchantApi: {
      adminToken: config.adminToken,
      codeBaseUrl: config.codeBaseUrl,
      merchants,
      orders,
      userPresented,
      paymentWaitMs: config.paymentWaitMs,
      awaitFinal: (id, ms) => {
        worker.wake();
        return awaitFinal(db, worker, id, ms);
      },
      onCancelAccepted: () => worker.wake(),
    },
    requestTimeToleranceSeconds: config.requestTimeToleranceSeconds,
    alipayplusRateLimit: rateLimiter(config.rateLimitAlipayplusPerSecond),
    merchantRateLimit: rateLimiter(config.rateLimitMerchantPerSecond),
    bodyLimitBytes: config.bodyLimitBytes,
    logger,
    clock,
  });
  return {
    app,
    db,
    worker,
    async close() {
      await worker.stop();
      await db.close();
      await signingThread.close();
    },
  };
}
