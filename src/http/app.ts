/**
 * The HTTP surface: the Alipay+ pipeline on node:http for everything under /aps/, and one Express app
 * for the merchant API, the operations endpoints and the docs.
 */
import type { RequestListener } from 'node:http';
import express, { type Router } from 'express';
import type { Metrics } from '../metrics.js';
import type { RateLimiter } from './rate-limit.js';
import { requestIds } from './request-id.js';
import type { Logger } from 'pino';
import { ALIPAYPLUS_PREFIX, alipayplusPipeline, type AlipayplusOperation } from './alipayplus/pipeline.js';
import { merchantRouter, type MerchantRouterOptions } from './merchant/router.js';
import { operationsRouter } from './ops.js';
import { sendProblem } from './merchant/problem.js';
import type { Signer } from '../signing.js';
import type { AuditLog } from '../store/types.js';

export interface AppParts {
  acqpSpec: object;
  merchantSpec: object;
  docs: Router;
  acqpOperations: Record<string, AlipayplusOperation>;
  signer: Signer;
  audit: AuditLog;
  metrics: Metrics;
  ready: () => Promise<boolean>;
  merchantApi: Omit<MerchantRouterOptions, 'spec' | 'logger' | 'bodyLimitBytes' | 'rateLimit'>;
  requestTimeToleranceSeconds: number;
  alipayplusRateLimit: RateLimiter;
  merchantRateLimit: RateLimiter;
  bodyLimitBytes: number;
  logger: Logger;
  clock: () => Date;
}

export function buildApp(parts: AppParts): RequestListener {
  const alipayplus = alipayplusPipeline({
    spec: parts.acqpSpec,
    operations: parts.acqpOperations,
    signer: parts.signer,
    requestTimeToleranceSeconds: parts.requestTimeToleranceSeconds,
    rateLimit: parts.alipayplusRateLimit,
    bodyLimitBytes: parts.bodyLimitBytes,
    audit: parts.audit,
    metrics: parts.metrics,
    logger: parts.logger,
    clock: parts.clock,
  });
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(requestIds(parts.logger));
  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    const path = req.path; // read now: mounted routers rewrite it on the way
    res.on('finish', () => {
      const surface = path.startsWith('/v1/') ? 'merchant' : 'ops';
      const route = req.route ? `${req.baseUrl}${req.route.path}` : 'unmatched';
      parts.metrics.requestDuration.observe({ surface, route, status: String(res.statusCode) }, Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  });
  app.use(merchantRouter({ ...parts.merchantApi, spec: parts.merchantSpec, logger: parts.logger, bodyLimitBytes: parts.bodyLimitBytes, rateLimit: parts.merchantRateLimit }));
  app.use(operationsRouter(parts.ready, parts.metrics));
  app.use(parts.docs);
  app.use((_req, res) => sendProblem(res, { status: 404, type: '/problems/not-found', title: 'Not found', detail: 'No such endpoint.' }));
  return (req, res) => (req.url?.startsWith(ALIPAYPLUS_PREFIX) ? alipayplus(req, res) : app(req, res));
}
