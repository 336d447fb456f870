/** The HTTP surface: the Alipay+ pipeline, the merchant API and the operations endpoints, in one app. */
import express, { type Express } from 'express';
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
  acqpOperations: Record<string, AlipayplusOperation>;
  signer: Signer;
  audit: AuditLog;
  ready: () => Promise<boolean>;
  merchantApi: Omit<MerchantRouterOptions, 'spec' | 'logger' | 'bodyLimitBytes'>;
  requestTimeToleranceSeconds: number;
  bodyLimitBytes: number;
  logger: Logger;
  clock: () => Date;
}

export function buildApp(parts: AppParts): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(
    alipayplusPipeline({
      spec: parts.acqpSpec,
      operations: parts.acqpOperations,
      signer: parts.signer,
      requestTimeToleranceSeconds: parts.requestTimeToleranceSeconds,
      bodyLimitBytes: parts.bodyLimitBytes,
      audit: parts.audit,
      logger: parts.logger,
      clock: parts.clock,
    }),
  );
  app.use(merchantRouter({ ...parts.merchantApi, spec: parts.merchantSpec, logger: parts.logger, bodyLimitBytes: parts.bodyLimitBytes }));
  app.use(operationsRouter(parts.ready));
  app.use((_req, res) => sendProblem(res, { status: 404, type: '/problems/not-found', title: 'Not found', detail: 'No such endpoint.' }));
  return app;
}
