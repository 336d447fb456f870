/**
 * The composition root: config → store → domain services → HTTP app. main.ts runs it as a process;
 * tests build the very same gateway with their own config.
 */
import type { Express } from 'express';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { merchantService } from './domain/merchants.js';
import { orderService } from './domain/orders.js';
import { pushPaymentService } from './domain/push-payments.js';
import { acqpOperations } from './http/alipayplus/operations.js';
import { buildApp } from './http/app.js';
import { loadSpec } from './http/specs.js';
import { Signer } from './signing.js';
import { openDatabase } from './store/index.js';
import type { Database } from './store/types.js';

export interface Gateway {
  app: Express;
  db: Database & { knex: Knex };
  close(): Promise<void>;
}

export async function createGateway(config: Config, logger: Logger, clock: () => Date = () => new Date()): Promise<Gateway> {
  const db = await openDatabase(
    { url: config.databaseUrl, schema: config.databaseSchema, poolMax: config.databasePoolMax, statementTimeoutMs: config.databaseStatementTimeoutMs },
    (error) => logger.warn({ err: error }, 'audit write failed; entries kept for the next attempt'),
  );
  const [acqpSpec, merchantSpec] = await Promise.all([loadSpec('acqp'), loadSpec('merchant')]);
  const signer = new Signer(config.clientId, config.privateKey, config.keyVersion, config.alipayplusPublicKeys);
  const merchants = merchantService(db, clock);
  const orders = orderService(db, { codeBaseUrl: config.codeBaseUrl, defaultOrderCodeTtlSeconds: config.orderCodeTtlSeconds }, clock);
  const push = pushPaymentService(db, { codeBaseUrl: config.codeBaseUrl, settlementQuoteToleranceMinorUnits: config.settlementQuoteToleranceMinorUnits }, clock);
  const app = buildApp({
    acqpSpec,
    merchantSpec,
    acqpOperations: acqpOperations(push),
    signer,
    audit: db.audit,
    ready: () => db.ready(),
    merchantApi: { adminToken: config.adminToken, codeBaseUrl: config.codeBaseUrl, merchants, orders },
    requestTimeToleranceSeconds: config.requestTimeToleranceSeconds,
    bodyLimitBytes: config.bodyLimitBytes,
    logger,
    clock,
  });
  return { app, db, close: () => db.close() };
}
