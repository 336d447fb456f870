/**
 * The one pipeline for every Alipay+-facing endpoint (DESIGN §2):
 *
 *   route (NO_INTERFACE_DEF, METHOD_NOT_SUPPORTED) → media type → raw body → Client-Id →
 *   Signature over the raw bytes (INVALID_SIGNATURE, KEY_NOT_FOUND) → Request-Time → JSON →
 *   express-openapi-validator (PARAM_ILLEGAL naming the field) → operation → signed response.
 *
 * Every outcome, failures included, is HTTP 200 with a `result` envelope signed over the exact bytes
 * sent, with Client-Id, Response-Time and Signature. Every exchange goes to the audit log.
 */
import express, { type Request, type RequestHandler, type Response } from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import type { Logger } from 'pino';
import { PaymentRefused, result, type Result } from '../../domain/result-codes.js';
import { nowIso, type Signer } from '../../signing.js';
import type { AuditLog } from '../../store/types.js';
import type { Metrics } from '../../metrics.js';
import { findNul, mayContainNul } from '../nul.js';
import type { RateLimiter } from '../rate-limit.js';

export type AlipayplusBody = { result: Result } & Record<string, unknown>;

export interface AlipayplusOperation {
  /** The API name, as in the path and the audit log. */
  api: string;
  handle(body: unknown): Promise<AlipayplusBody>;
}

export interface AlipayplusPipelineOptions {
  /** Bundled acqp.yaml. */
  spec: object;
  /** Operations by path, e.g. `/aps/api/v1/payments/placeOrder`. */
  operations: Record<string, AlipayplusOperation>;
  signer: Signer;
  requestTimeToleranceSeconds: number;
  /** Per Client-Id, checked once the request is authentic. */
  rateLimit: RateLimiter;
  bodyLimitBytes: number;
  audit: AuditLog;
  metrics: Metrics;
  logger: Logger;
  clock: () => Date;
}

interface PipelineState {
  started: number;
  operation?: AlipayplusOperation;
  rawBody?: Buffer;
}

const stateOf = (res: Response): PipelineState => res.locals as PipelineState;

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$/;

function isJsonMediaType(contentType: string | undefined): boolean {
  if (!contentType) return true; // a missing Content-Type is read as JSON
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  return type === 'application/json';
}

/** Turns anything thrown in the pipeline into the Alipay+ result. The one place that does. */
export function resultFor(error: unknown): { result: Result; unexpected: boolean } {
  if (error instanceof PaymentRefused) return { result: result(error.code, error.message), unexpected: false };
  const e = error as { status?: number; type?: string; errors?: { path?: string; message?: string }[]; message?: string };
  if (e?.type === 'entity.too.large') return { result: result('PARAM_ILLEGAL', 'The request body is too large.'), unexpected: false };
  if (e?.type === 'entity.verify.failed' || e?.type === 'request.aborted') return { result: result('PARAM_ILLEGAL', 'The request body could not be read.'), unexpected: false };
  if (e?.status === 415) return { result: result('MEDIA_TYPE_NOT_ACCEPTABLE'), unexpected: false };
  if (e?.status === 404) return { result: result('NO_INTERFACE_DEF'), unexpected: false };
  if (e?.status === 405) return { result: result('METHOD_NOT_SUPPORTED'), unexpected: false };
  if (e?.status === 400 && Array.isArray(e.errors)) {
    const detail = e.errors
      .map((x) => `${(x.path ?? '').replace(/^\/(body|headers)\/?/, '').replace(/\//g, '.') || 'body'}: ${x.message}`)
      .join('; ');
    return { result: result('PARAM_ILLEGAL', `Illegal parameters: ${detail}`.slice(0, 256)), unexpected: false };
  }
  return { result: result('UNKNOWN_EXCEPTION'), unexpected: true };
}

export function alipayplusPipeline(options: AlipayplusPipelineOptions): RequestHandler {
  const { signer, operations, audit, logger, clock } = options;

  async function respond(req: Request, res: Response, body: AlipayplusBody): Promise<void> {
    const json = JSON.stringify(body);
    const responseTime = nowIso(clock());
    const headers = await signer.signedHeaders('Response-Time', req.originalUrl, responseTime, json);
    res.status(200).set(headers).end(json);
    const state = stateOf(res);
    const api = state.operation?.api ?? 'unknown';
    options.metrics.alipayplusRequests.inc({ api, resultCode: body.result.resultCode });
    audit.record({
      direction: 'IN',
      api: state.operation?.api ?? req.path,
      paymentRequestId: (body.paymentRequestId as string | undefined) ?? (req.body as { paymentRequestId?: string } | undefined)?.paymentRequestId ?? null,
      paymentId: (req.body as { paymentId?: string } | undefined)?.paymentId ?? null,
      requestHeaders: {
        'content-type': req.get('content-type') ?? '',
        'client-id': req.get('client-id') ?? '',
        'request-time': req.get('request-time') ?? '',
        signature: req.get('signature') ?? '',
      },
      requestBody: state.rawBody?.toString('utf8') ?? '',
      httpStatus: 200,
      responseHeaders: headers,
      responseBody: json,
      resultStatus: body.result.resultStatus,
      resultCode: body.result.resultCode,
      latencyMs: Date.now() - state.started,
      createdAt: responseTime,
    });
  }

  const refuse = (code: Parameters<typeof result>[0], message?: string) => {
    throw new PaymentRefused(code, message);
  };

  const route: RequestHandler = (req, res, next) => {
    stateOf(res).started = Date.now();
    const operation = operations[req.path];
    if (!operation) refuse('NO_INTERFACE_DEF', `No API at ${req.path}.`);
    stateOf(res).operation = operation;
    if (req.method !== 'POST') refuse('METHOD_NOT_SUPPORTED', `${req.method} is not supported; use POST.`);
    if (!isJsonMediaType(req.get('content-type'))) refuse('MEDIA_TYPE_NOT_ACCEPTABLE', 'Content-Type must be application/json.');
    next();
  };

  // Raw bytes whatever the Content-Type says: the signature covers them exactly.
  const rawBody = express.raw({ type: () => true, limit: options.bodyLimitBytes });

  const authenticate: RequestHandler = (req, res, next) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    stateOf(res).rawBody = raw;
    if (req.get('client-id') !== signer.clientId) refuse('INVALID_CLIENT', 'Client-Id is not this acquirer’s client id.');
    const requestTime = req.get('request-time') ?? '';
    const verified = signer.verify(req.originalUrl, requestTime, raw, req.get('signature'));
    if (!verified.ok) refuse(verified.reason, verified.message);
    if (!options.rateLimit.take(signer.clientId)) refuse('REQUEST_TRAFFIC_EXCEED_LIMIT');
    const sent = ISO_8601.test(requestTime) ? Date.parse(requestTime) : NaN;
    if (Number.isNaN(sent)) refuse('PARAM_ILLEGAL', 'Request-Time must be an ISO 8601 date-time with an offset or Z.');
    if (Math.abs(clock().getTime() - sent) > options.requestTimeToleranceSeconds * 1000) {
      refuse('PARAM_ILLEGAL', `Request-Time is more than ${options.requestTimeToleranceSeconds} s away from the gateway's clock.`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString('utf8'));
    } catch {
      refuse('PARAM_ILLEGAL', 'The body is not valid JSON.');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) refuse('PARAM_ILLEGAL', 'The body must be a JSON object.');
    const nulAt = mayContainNul(raw) ? findNul(parsed) : null;
    if (nulAt) refuse('PARAM_ILLEGAL', `Illegal parameters: ${nulAt} contains a NUL character.`);
    req.body = parsed;
    req.headers['content-type'] = 'application/json';
    next();
  };

  // One validator per operation, over a spec holding that operation's path alone: the validator matches
  // a request by compiling the pattern of every path of its spec anew on each request
  // (express-openapi-validator 5.6; a cache is proposed upstream in its PR #1217).
  const validators = new Map(
    Object.keys(operations).map((path) => [
      path,
      series(
        OpenApiValidator.middleware({
          apiSpec: withOnlyPath(options.spec, path) as never,
          validateRequests: { allowUnknownQueryParameters: true },
          validateResponses: false,
          validateSecurity: false,
          validateApiSpec: false,
        }),
      ),
    ]),
  );
  const validate: RequestHandler = (req, res, next) => validators.get(req.path)!(req, res, next);

  const handle: RequestHandler = async (req, res) => {
    const operation = stateOf(res).operation!;
    await respond(req, res, await operation.handle(req.body));
  };

  const fail = async (error: unknown, req: Request, res: Response) => {
    const { result: outcome, unexpected } = resultFor(error);
    if (unexpected) (req.log ?? logger).error({ err: error, path: req.path }, 'unexpected failure on an Alipay+ endpoint');
    await respond(req, res, { result: outcome });
  };

  const steps = series([route, rawBody, authenticate, validate, handle]);
  return (req, res, next) => {
    if (!req.path.startsWith('/aps/')) return next();
    // Every step either answers or passes an error on: each failure is answered with a signed envelope.
    steps(req, res, (error) => fail(error, req, res).catch(next));
  };
}

/** Express middlewares run one after the other as one, without a router's per-layer matching. */
function series(handlers: RequestHandler[]): RequestHandler {
  return (req, res, done) => {
    let index = 0;
    const next = (error?: unknown): void => {
      if (error !== undefined && error !== null) return done(error);
      const handler = handlers[index++];
      if (handler === undefined) return done();
      try {
        const returned: unknown = handler(req, res, next);
        if (returned instanceof Promise) returned.catch(next);
      } catch (thrown) {
        next(thrown ?? new Error('a pipeline step threw nothing'));
      }
    };
    next();
  };
}

function withOnlyPath(spec: object, path: string): object {
  const paths = (spec as { paths: Record<string, unknown> }).paths;
  return { ...spec, paths: { [path]: paths[path] } };
}
