/**
 * The simulator's HTTP face: Alipay+'s three APIs as the gateway sees them, and the unsigned control
 * endpoints under /simulator (control.ts).
 *
 * Alipay+ pipeline: route (NO_INTERFACE_DEF, METHOD_NOT_SUPPORTED, MEDIA_TYPE_NOT_ACCEPTABLE) → raw
 * bytes → Client-Id (INVALID_CLIENT) → signature over the raw bytes (INVALID_SIGNATURE, KEY_NOT_FOUND)
 * → Request-Time and JSON (PARAM_ILLEGAL) → openapi/alipayplus.yaml (PARAM_ILLEGAL naming the field)
 * → payments.ts → delivery. Every JSON answer is HTTP 200, signed over the exact bytes sent with
 * Client-Id, Response-Time and Signature, except the deliberately broken deliveries of magic.ts.
 * Request-Time is only checked for its form, not against the clock: tests move the gateway's clock.
 */
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import type { Logger } from 'pino';
import { RESULT_CODES, type ResultCode } from '../domain/result-codes.js';
import { maskCode } from '../logger.js';
import type { Signer } from '../signing.js';
import { controlRouter } from './control.js';
import { alipayplusTime } from './ids.js';
import type { Notifier } from './notifier.js';
import type { AnswerBody, JsonDelivery, Payments, Reply } from './payments.js';
import type { PayRequest, SimulatorState } from './state.js';

export const API_PATHS = {
  '/aps/api/v1/payments/pay': 'pay',
  '/aps/api/v1/payments/inquiryPayment': 'inquiryPayment',
  '/aps/api/v1/payments/cancelPayment': 'cancelPayment',
} as const;

type Api = (typeof API_PATHS)[keyof typeof API_PATHS];

export interface AppOptions {
  signer: Signer;
  /** Bundled openapi/alipayplus.yaml. */
  spec: object;
  payments: Payments;
  state: SimulatorState;
  notifier: Notifier;
  payHangMs: number;
  clock: () => Date;
  logger: Logger;
}

/** Thrown inside the pipeline; answered as a signed F (or U) envelope. */
class Refusal extends Error {
  constructor(
    readonly code: ResultCode,
    message?: string,
  ) {
    super(message ?? RESULT_CODES[code].message);
  }
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$/;

const BAD_GATEWAY_HTML = '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';

function envelope(code: ResultCode, message?: string): AnswerBody {
  const entry = RESULT_CODES[code];
  return { result: { resultCode: code, resultStatus: entry.status, resultMessage: (message ?? entry.message).slice(0, 256) } };
}

/** express-openapi-validator and body-parser errors → the Alipay+ result naming the field. */
function refusalOf(error: unknown): Refusal | null {
  if (error instanceof Refusal) return error;
  const e = error as { status?: number; type?: string; errors?: { path?: string; message?: string }[] };
  if (e?.type === 'entity.too.large') return new Refusal('PARAM_ILLEGAL', 'The request body is too large.');
  if (e?.status === 400 && Array.isArray(e.errors)) {
    const detail = e.errors.map((x) => `${(x.path ?? '').replace(/^\/(body|headers)\/?/, '').replace(/\//g, '.') || 'body'}: ${x.message}`).join('; ');
    return new Refusal('PARAM_ILLEGAL', `Illegal parameters: ${detail}`);
  }
  return null;
}

export function createApp(options: AppOptions): express.Express {
  const { signer, payments, logger, clock } = options;
  const app = express();
  app.disable('x-powered-by');
  app.use('/simulator', controlRouter(options.state, options.notifier));

  /** Serialises once and signs those bytes; the broken deliveries sign or send other bytes on purpose. */
  async function sendJson(req: Request, res: Response, body: AnswerBody, delivery: JsonDelivery = 'SIGNED'): Promise<void> {
    const full = JSON.stringify(body);
    const sent = delivery === 'TRUNCATED' ? full.slice(0, Math.floor(full.length / 2)) : full;
    const signed = delivery === 'BAD_SIGNATURE' ? `${sent} ` : sent;
    const responseTime = alipayplusTime(clock(), true);
    res
      .status(200)
      .set(await signer.signedHeaders('Response-Time', req.originalUrl, responseTime, signed))
      .end(sent);
  }

  /** Holds the request without answering, then drops the connection, as a lost answer looks to a client. */
  function neverAnswer(req: Request): void {
    const timer = setTimeout(() => req.socket.destroy(), options.payHangMs);
    req.socket.once('close', () => clearTimeout(timer));
  }

  async function deliver(req: Request, res: Response, reply: Reply): Promise<void> {
    if (reply.kind === 'NO_ANSWER') return neverAnswer(req);
    if (reply.kind === 'HTTP_502') {
      res.status(502).type('text/html').send(BAD_GATEWAY_HTML);
      return;
    }
    await sendJson(req, res, reply.body, reply.delivery);
  }

  const apiOf = (res: Response): Api => res.locals.api as Api;

  const route: RequestHandler = (req, res, next) => {
    const api = API_PATHS[req.path as keyof typeof API_PATHS];
    if (!api) throw new Refusal('NO_INTERFACE_DEF', `No API at ${req.path}.`);
    res.locals.api = api;
    if (req.method !== 'POST') throw new Refusal('METHOD_NOT_SUPPORTED', `${req.method} is not supported; use POST.`);
    const type = (req.get('content-type') ?? 'application/json').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') throw new Refusal('MEDIA_TYPE_NOT_ACCEPTABLE', 'Content-Type must be application/json.');
    next();
  };

  const authenticate: RequestHandler = (req, _res, next) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (req.get('client-id') !== signer.clientId) throw new Refusal('INVALID_CLIENT', 'Client-Id is not the client id of this ACQP.');
    const requestTime = req.get('request-time') ?? '';
    const verified = signer.verify(req.originalUrl, requestTime, raw, req.get('signature'));
    if (!verified.ok) throw new Refusal(verified.reason, verified.message);
    if (!ISO_8601.test(requestTime)) throw new Refusal('PARAM_ILLEGAL', 'Request-Time must be an ISO 8601 date-time with an offset or Z.');
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new Refusal('PARAM_ILLEGAL', 'The body is not valid JSON.');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Refusal('PARAM_ILLEGAL', 'The body must be a JSON object.');
    req.body = parsed;
    req.headers['content-type'] = 'application/json';
    next();
  };

  const validators = OpenApiValidator.middleware({
    apiSpec: options.spec as never,
    validateRequests: true,
    validateResponses: false,
    validateSecurity: false,
    validateApiSpec: false,
  });

  const handle: RequestHandler = async (req, res) => {
    const api = apiOf(res);
    const reply = api === 'pay' ? payments.pay(req.body as PayRequest) : payments[api](req.body);
    const body = req.body as { paymentRequestId?: string; paymentId?: string; paymentMethod?: { paymentMethodId?: string } };
    logger.info(
      {
        api,
        paymentRequestId: body.paymentRequestId,
        paymentId: body.paymentId,
        ...(body.paymentMethod?.paymentMethodId ? { paymentCode: maskCode(body.paymentMethod.paymentMethodId) } : {}),
        answer: reply.kind === 'JSON' ? `${reply.body.result.resultStatus}/${reply.body.result.resultCode}` : reply.kind,
        ...(reply.kind === 'JSON' && reply.delivery !== 'SIGNED' ? { delivery: reply.delivery } : {}),
      },
      'Alipay+ call',
    );
    await deliver(req, res, reply);
  };

  const fail = async (error: unknown, req: Request, res: Response, next: NextFunction): Promise<void> => {
    if (res.headersSent) return next(error);
    const refusal = refusalOf(error);
    if (!refusal) {
      logger.error({ err: error, path: req.path }, 'unexpected failure');
      return await sendJson(req, res, envelope('UNKNOWN_EXCEPTION'));
    }
    logger.info({ api: res.locals.api ?? req.path, answer: `F/${refusal.code}`, reason: refusal.message }, 'Alipay+ call refused');
    await sendJson(req, res, envelope(refusal.code, refusal.message));
  };

  app.use(route, express.raw({ type: () => true, limit: '1mb' }), authenticate, ...validators, handle, fail);
  return app;
}
