/**
 * The one pipeline for every Alipay+-facing endpoint (DESIGN §2):
 *
 *   route (NO_INTERFACE_DEF, METHOD_NOT_SUPPORTED) → media type → raw body → Client-Id →
 *   Signature over the raw bytes (INVALID_SIGNATURE, KEY_NOT_FOUND) → Request-Time → JSON →
 *   express-openapi-validator (PARAM_ILLEGAL naming the field) → operation → signed response.
 *
 * Every outcome, failures included, is HTTP 200 with a `result` envelope signed over the exact bytes
 * sent, with Client-Id, Response-Time and Signature. Every exchange goes to the audit log. An operation
 * may tell its answer before it is committed (placeOrder, while its group of transactions commits):
 * the pipeline signs it meanwhile, and uses that signature only if the operation then returns that
 * very answer — a commit that fails answers otherwise, signed anew.
 *
 * It serves node:http requests directly, ahead of Express (src/http/app.ts): these four endpoints
 * answer every call Alipay+ makes, and Express's per-request work (re-prototyping req and res, the
 * router's layers, body-parser's streams) cost more than the endpoint's own rules. The validator is
 * still express-openapi-validator, given the few Express request fields it reads (validatorRequest).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { PaymentRefused, result, type Result } from '../../domain/result-codes.js';
import { nowIso, type Signer } from '../../signing.js';
import type { AuditLog } from '../../store/types.js';
import type { Metrics } from '../../metrics.js';
import { findNul, mayContainNul } from '../nul.js';
import type { RateLimiter } from '../rate-limit.js';
import { requestIdOf } from '../request-id.js';
import { pathValidator } from '../specs.js';

export type AlipayplusBody = { result: Result } & Record<string, unknown>;

export interface AlipayplusOperation {
  /** The API name, as in the path and the audit log. */
  api: string;
  /** `decided`, if the operation calls it, hears the answer before it is final (see above). */
  handle(body: unknown, decided?: (answer: AlipayplusBody) => void): Promise<AlipayplusBody>;
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

/** Serves one Alipay+ request on node:http; every outcome is answered, signed. */
export type AlipayplusHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** Where Alipay+ calls: every request under it is the pipeline's. */
export const ALIPAYPLUS_PREFIX = '/aps/';

/** An answer and its signed headers (being signed): the bytes to send and what they were signed with. */
interface SignedAnswer {
  body: AlipayplusBody;
  json: string;
  responseTime: string;
  headers: Promise<Record<string, string>>;
}

/** One request on its way through the pipeline. */
interface Exchange {
  started: number;
  /** The request target as sent, query included: what the signature covers. */
  url: string;
  path: string;
  requestId: string;
  /** The request headers the audit keeps, as received. */
  auditHeaders: Record<string, string>;
  operation?: AlipayplusOperation;
  rawBody?: Buffer;
  body?: Record<string, unknown>;
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$/;

function isJsonMediaType(contentType: string | undefined): boolean {
  if (!contentType) return true; // a missing Content-Type is read as JSON
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  return type === 'application/json';
}

const header = (req: IncomingMessage, name: string): string | undefined => {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
};

/** Turns anything thrown in the pipeline into the Alipay+ result. The one place that does. */
export function resultFor(error: unknown): { result: Result; unexpected: boolean } {
  if (error instanceof PaymentRefused) return { result: result(error.code, error.message), unexpected: false };
  const e = error as { status?: number; errors?: { path?: string; message?: string }[] };
  if (e?.status === 400 && Array.isArray(e.errors)) {
    const detail = e.errors
      .map((x) => `${(x.path ?? '').replace(/^\/(body|headers)\/?/, '').replace(/\//g, '.') || 'body'}: ${x.message}`)
      .join('; ');
    return { result: result('PARAM_ILLEGAL', `Illegal parameters: ${detail}`.slice(0, 256)), unexpected: false };
  }
  return { result: result('UNKNOWN_EXCEPTION'), unexpected: true };
}

const refuse = (code: Parameters<typeof result>[0], message?: string): never => {
  throw new PaymentRefused(code, message);
};

/**
 * The raw request body, at most `limit` bytes. Refused before reading when Content-Length says it is
 * too large, and as soon as it grows past the limit otherwise; the rest is left for node:http to drain.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const encoding = (header(req, 'content-encoding') ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity') return Promise.reject(new PaymentRefused('MEDIA_TYPE_NOT_ACCEPTABLE', `Content-Encoding ${encoding} is not accepted.`));
  const tooLarge = () => new PaymentRefused('PARAM_ILLEGAL', 'The request body is too large.');
  if (Number(header(req, 'content-length') ?? 0) > limit) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const stop = (error: PaymentRefused) => {
      req.off('data', onData).off('end', onEnd).off('error', onError).off('aborted', onError);
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      length += chunk.length;
      if (length > limit) return stop(tooLarge());
      chunks.push(chunk);
    };
    const onEnd = () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length));
    const onError = () => stop(new PaymentRefused('PARAM_ILLEGAL', 'The request body could not be read.'));
    req.on('data', onData).on('end', onEnd).on('error', onError).on('aborted', onError);
  });
}

/** Express's routing options as the validator asks for them: none enabled (not strict, not case sensitive). */
const EXPRESS_DEFAULTS = { enabled: () => false };

/**
 * express-openapi-validator reads these Express request fields (5.6: path, originalUrl, baseUrl, query,
 * params, body, and `app.enabled` for its routing options); the pipeline gives them on the bare request.
 * It may coerce the body in place: the operation gets `body` from the request it validated.
 */
function validatorRequest(req: IncomingMessage, exchange: Exchange): IncomingMessage & { body: unknown } {
  req.headers['content-type'] = 'application/json'; // a missing one was read as JSON (route)
  const query = exchange.url.length > exchange.path.length ? Object.fromEntries(new URLSearchParams(exchange.url.slice(exchange.path.length + 1))) : {};
  return Object.assign(req, {
    path: exchange.path,
    originalUrl: exchange.url,
    baseUrl: '',
    query,
    params: {},
    body: exchange.body,
    app: EXPRESS_DEFAULTS,
  });
}

type Middleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;

/** The validator's middlewares run in series, as a promise. */
function validatorFor(spec: object, path: string): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const middlewares = pathValidator(spec, path, { allowUnknownQueryParameters: true }) as unknown as Middleware[];
  return (req, res) =>
    new Promise((resolve, reject) => {
      let index = 0;
      const next = (error?: unknown): void => {
        if (error !== undefined && error !== null) return reject(error);
        const middleware = middlewares[index++];
        if (!middleware) return resolve();
        try {
          middleware(req, res, next);
        } catch (thrown) {
          reject(thrown);
        }
      };
      next();
    });
}

export function alipayplusPipeline(options: AlipayplusPipelineOptions): AlipayplusHandler {
  const { signer, operations, audit, logger, clock, metrics } = options;
  const validators = new Map(Object.keys(operations).map((path) => [path, validatorFor(options.spec, path)]));

  /** Checks what can be checked before the body is read. */
  function route(req: IncomingMessage, exchange: Exchange): AlipayplusOperation {
    const operation = operations[exchange.path];
    if (!operation) return refuse('NO_INTERFACE_DEF', `No API at ${exchange.path}.`);
    exchange.operation = operation;
    if (req.method !== 'POST') refuse('METHOD_NOT_SUPPORTED', `${req.method} is not supported; use POST.`);
    if (!isJsonMediaType(header(req, 'content-type'))) refuse('MEDIA_TYPE_NOT_ACCEPTABLE', 'Content-Type must be application/json.');
    return operation;
  }

  /** Client-Id, signature, rate, Request-Time, then the JSON: in this order (DESIGN §2). */
  function authenticate(req: IncomingMessage, exchange: Exchange, raw: Buffer): Record<string, unknown> {
    if (header(req, 'client-id') !== signer.clientId) refuse('INVALID_CLIENT', 'Client-Id is not this acquirer’s client id.');
    const requestTime = header(req, 'request-time') ?? '';
    const verified = signer.verify(exchange.url, requestTime, raw, header(req, 'signature'));
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
    return parsed as Record<string, unknown>;
  }

  function sign(exchange: Exchange, body: AlipayplusBody): SignedAnswer {
    const json = JSON.stringify(body);
    const responseTime = nowIso(clock());
    const headers = signer.signedHeaders('Response-Time', exchange.url, responseTime, json);
    headers.catch(() => undefined); // an answer signed ahead may never be sent; respond() awaits its own
    return { body, json, responseTime, headers };
  }

  /** Sends `body`, with the signature made ahead for it if there is one (the same object: the same bytes). */
  async function respond(res: ServerResponse, exchange: Exchange, body: AlipayplusBody, signedAhead: SignedAnswer | undefined): Promise<void> {
    const { json, responseTime, headers: signing } = signedAhead?.body === body ? signedAhead : sign(exchange, body);
    const headers = await signing;
    res.writeHead(200, { ...headers, 'X-Request-Id': exchange.requestId }).end(json);
    const api = exchange.operation?.api;
    metrics.alipayplusRequests.inc({ api: api ?? 'unknown', resultCode: body.result.resultCode });
    metrics.requestDuration.observe({ surface: 'alipayplus', route: api ?? 'unknown', status: '200' }, (Date.now() - exchange.started) / 1000);
    audit.record({
      direction: 'IN',
      api: api ?? exchange.path,
      paymentRequestId: (body.paymentRequestId as string | undefined) ?? (exchange.body?.paymentRequestId as string | undefined) ?? null,
      paymentId: (exchange.body?.paymentId as string | undefined) ?? null,
      requestHeaders: exchange.auditHeaders,
      requestBody: exchange.rawBody?.toString('utf8') ?? '',
      httpStatus: 200,
      responseHeaders: headers,
      responseBody: json,
      resultStatus: body.result.resultStatus,
      resultCode: body.result.resultCode,
      latencyMs: Date.now() - exchange.started,
      createdAt: responseTime,
    });
  }

  async function serve(req: IncomingMessage, res: ServerResponse, exchange: Exchange): Promise<void> {
    let answer: AlipayplusBody;
    let signedAhead: SignedAnswer | undefined;
    try {
      const operation = route(req, exchange);
      const raw = await readBody(req, options.bodyLimitBytes);
      exchange.rawBody = raw;
      exchange.body = authenticate(req, exchange, raw);
      const validated = validatorRequest(req, exchange);
      await validators.get(exchange.path)!(validated, res);
      answer = await operation.handle(validated.body, (decided) => {
        signedAhead = sign(exchange, decided);
      });
    } catch (error) {
      const { result: outcome, unexpected } = resultFor(error);
      if (unexpected) logger.error({ err: error, path: exchange.path, reqId: exchange.requestId }, 'unexpected failure on an Alipay+ endpoint');
      answer = { result: outcome };
    }
    await respond(res, exchange, answer, signedAhead);
    if (logger.isLevelEnabled('debug')) logger.debug({ reqId: exchange.requestId, method: req.method, url: exchange.url, status: 200, ms: Date.now() - exchange.started }, 'request');
  }

  return (req, res) => {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const exchange: Exchange = {
      started: Date.now(),
      url,
      path: query < 0 ? url : url.slice(0, query),
      requestId: requestIdOf(req.headers),
      auditHeaders: {
        'content-type': header(req, 'content-type') ?? '',
        'client-id': header(req, 'client-id') ?? '',
        'request-time': header(req, 'request-time') ?? '',
        signature: header(req, 'signature') ?? '',
      },
    };
    serve(req, res, exchange).catch((error: unknown) => {
      // Only signing or writing the answer can fail here: nothing is left to answer with.
      logger.error({ err: error, path: exchange.path, reqId: exchange.requestId }, 'could not answer an Alipay+ request');
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  };
}
