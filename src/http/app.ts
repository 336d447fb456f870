/** The HTTP surface: the Alipay+ pipeline, the merchant API and the operations endpoints, in one app. */
import express, { type Express, type Router } from 'express';
import type { Metrics } from '../metrics.js';
import type { RateLimiter } from './rate-limit.js';
import { requestIds } from './request-id.js';
import type { Logger } from 'pino';
import { alipayplusPipeline, type AlipayplusOperation } from './alipayplus/pipeline.js';
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

export function buildApp(parts: AppParts): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(requestIds(parts.logger));
  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    const path = req.path; // read now: mounted routers rewrite it on the way
    res.on('finish', () => {
      const surface = path.startsWith('/aps/') ? 'alipayplus' : path.startsWith('/v1/') ? 'merchant' : 'ops';
      const route = surface === 'alipayplus' ? (parts.acqpOperations[path]?.api ?? 'unknown') : req.route ? `${req.baseUrl}${req.route.path}` : 'unmatched';
      parts.metrics.requestDuration.observe({ surface, route, status: String(res.statusCode) }, Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  });
  app.use(
    alipayplusPipeline({
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
    }),
  );
  app.use(merchantRouter({ ...parts.merchantApi, spec: parts.merchantSpec, logger: parts.logger, bodyLimitBytes: parts.bodyLimitBytes, rateLimit: parts.merchantRateLimit }));
  app.use(operationsRouter(parts.ready, parts.metrics));
  app.use(parts.docs);
  app.use((_req, res) => sendProblem(res, { status: 404, type: '/problems/not-found', title: 'Not found', detail: 'No such endpoint.' }));
  return app;
}
