/**
 * The merchant API (openapi/merchant.yaml): bearer auth (admin token or a merchant's API key), requests
 * validated against the spec, errors as problem+json, and a merchant only ever sees its own data.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import { codeValue } from '../../domain/codes.js';
import { InvalidInput, NotFound, type MerchantChanges, type MerchantInput, type MerchantService, type StoreInput } from '../../domain/merchants.js';
import type { Merchant, Payment, PaymentStatus } from '../../domain/model.js';
import { PaymentCodeNotRoutable, type UserPresentedInput, type UserPresentedService } from '../../domain/user-presented-payments.js';
import { Conflict } from '../../domain/idempotency.js';
import type { OrderInput, OrderService } from '../../domain/orders.js';
import { merchantProblemFor, PaymentRefused } from '../../domain/result-codes.js';
import { DuplicateKey } from '../../store/types.js';
import type { RateLimiter } from '../rate-limit.js';
import { findNul, mayContainNul } from '../nul.js';
import { pathValidator } from '../specs.js';
import { sendProblem } from './problem.js';
import { decodeCursor, encodeCursor, merchantResource, paymentResource, storeResource } from './representations.js';

export interface MerchantRouterOptions {
  spec: object;
  /** Per API key (and for the admin token), checked once the caller is authenticated. */
  rateLimit: RateLimiter;
  adminToken: string;
  codeBaseUrl: string;
  bodyLimitBytes: number;
  merchants: MerchantService;
  orders: OrderService;
  userPresented: UserPresentedService;
  /** How long POST /v1/payments waits for a final state before answering PENDING. */
  paymentWaitMs: number;
  /** Waits until the payment is final or `ms` passed; returns it as it is then. */
  awaitFinal: (paymentRequestId: string, ms: number) => Promise<Payment | undefined>;
  /** A cancelPayment was scheduled now: wake the worker. */
  onCancelAccepted: () => void;
  logger: Logger;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

function bearer(req: Request): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
  return match?.[1];
}

/** An OpenAPI path template as an Express route: `/v1/payments/{paymentRequestId}` → `/v1/payments/:paymentRequestId`. */
const expressPath = (template: string) => template.replace(/\{(\w+)\}/g, ':$1');

const merchantOf = (res: Response) => res.locals.merchant as Merchant;

/** Errors that mean "the database is not there right now": the caller may retry (503). */
function isUnavailable(error: unknown): boolean {
  const e = error as { name?: string; code?: string };
  return e?.name === 'KnexTimeoutError' || ['ECONNREFUSED', 'ECONNRESET', 'SQLITE_BUSY', 'SQLITE_LOCKED', '57P01', '57P03'].includes(e?.code ?? '');
}

export function merchantRouter(options: MerchantRouterOptions): Router {
  const { merchants, orders, logger } = options;
  const router = express.Router();
  const adminDigest = digest(options.adminToken);

  const limited = (key: string) => !options.rateLimit.take(key);
  const tooMany = (res: Response) => {
    res.setHeader('Retry-After', '1');
    sendProblem(res, { status: 429, type: '/problems/too-many-requests', title: 'Too many requests', detail: 'This API key is over its request rate; retry after a second.' });
  };
  const unauthorized = (res: Response, detail: string) => sendProblem(res, { status: 401, type: '/problems/unauthorized', title: 'Unauthorized', detail });

  // Comparing digests keeps the comparison constant-time whatever the token's length.
  /**
   * Authentication comes before validation, so a caller without credentials learns nothing about the
   * API: /v1/merchants… takes the admin token, every other /v1 call a merchant's API key.
   */
  const authenticate: RequestHandler = async (req, res, next) => {
    const token = bearer(req);
    const path = `${req.baseUrl}${req.path}`;
    if (path === '/v1/merchants' || path.startsWith('/v1/merchants/')) {
      if (!token || !timingSafeEqual(digest(token), adminDigest)) return unauthorized(res, 'This call needs the admin token as a Bearer token.');
      return limited('admin') ? tooMany(res) : next();
    }
    const merchant = token ? await merchants.authenticate(token) : undefined;
    if (!merchant) return unauthorized(res, "This call needs a merchant's API key as a Bearer token.");
    if (limited(merchant.merchantId)) return tooMany(res);
    res.locals.merchant = merchant;
    next();
  };

  const paymentView = (payment: Parameters<typeof paymentResource>[0]) => paymentResource(payment, orders.statusOf(payment), orders.codeValueOf(payment));

  // NUL characters cannot be stored (Postgres text): refused as invalid input, in the URL or the body.
  const refuseNul: RequestHandler = (req, res, next) => {
    let nulAt: string | null = null;
    try {
      if (mayContainNul(decodeURIComponent(req.originalUrl))) nulAt = 'url';
    } catch {
      nulAt = 'url (malformed percent-encoding)';
    }
    nulAt ??= res.locals.bodyMayHaveNul ? findNul(req.body) : null;
    if (!nulAt) return next();
    sendProblem(res, { status: 400, type: '/problems/validation-error', title: 'Invalid request', detail: `${nulAt} contains a NUL character.`, errors: [{ path: nulAt, message: 'contains a NUL character' }] });
  };
  const json = express.json({
    limit: options.bodyLimitBytes,
    verify: (_req, res, raw) => {
      (res as Response).locals.bodyMayHaveNul = mayContainNul(raw);
    },
  });
  router.use('/v1', authenticate, json, refuseNul);
  // A validator per path of the spec (specs.ts), mounted on that path for every method: it answers 405
  // for those the path lacks. A path the spec lacks meets none and ends at the app's 404.
  for (const path of Object.keys((options.spec as { paths: Record<string, unknown> }).paths)) {
    router.all(expressPath(path), pathValidator(options.spec, path, { allowUnknownQueryParameters: false }));
  }

  router.post('/v1/merchants', async (req, res) => {
    const { merchant, apiKey } = await merchants.onboard(req.body as MerchantInput);
    res.status(201).json({ ...merchantResource(merchant), apiKey });
  });

  router.get('/v1/merchants/:merchantId', async (req, res) => {
    res.json(merchantResource(await merchants.get(req.params.merchantId as string)));
  });

  router.patch('/v1/merchants/:merchantId', async (req, res) => {
    res.json(merchantResource(await merchants.update(req.params.merchantId as string, req.body as MerchantChanges)));
  });

  router.post('/v1/stores', async (req, res) => {
    const store = await merchants.addStore(merchantOf(res), req.body as StoreInput);
    res.status(201).json(storeResource(store, codeValue(options.codeBaseUrl, 'ENTRY_CODE', store.entryCodeToken)));
  });

  router.get('/v1/stores/:storeId', async (req, res) => {
    const store = await merchants.getStore(merchantOf(res), req.params.storeId as string);
    res.json(storeResource(store, codeValue(options.codeBaseUrl, 'ENTRY_CODE', store.entryCodeToken)));
  });

  router.post('/v1/orders', async (req, res) => {
    const key = req.get('idempotency-key');
    const created = await orders.createOrder(merchantOf(res), req.body as OrderInput, key ? { key, request: req.body } : undefined);
    res.status(201).json(created);
  });

  router.post('/v1/payments', async (req, res) => {
    const key = req.get('idempotency-key');
    const { payment } = await options.userPresented.create(merchantOf(res), req.body as UserPresentedInput, key ? { key, request: req.body } : undefined);
    const settled = (await options.awaitFinal(payment.paymentRequestId, options.paymentWaitMs)) ?? payment;
    res.status(201).json(paymentView(settled));
  });

  router.get('/v1/payments', async (req, res) => {
    const query = req.query as Record<string, string | undefined>;
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (query.cursor !== undefined && !after) throw new InvalidInput('cursor is not a cursor this API returned', 'cursor');
    const limit = query.limit === undefined ? 50 : Number(query.limit);
    const createdFrom = query.createdFrom && new Date(query.createdFrom).toISOString();
    const createdTo = query.createdTo && new Date(query.createdTo).toISOString();
    const items = await orders.listPayments(merchantOf(res), { status: query.status as PaymentStatus | undefined, createdFrom, createdTo, limit: limit + 1, after });
    const page = items.slice(0, limit);
    res.json({ items: page.map(paymentView), nextCursor: items.length > limit ? encodeCursor(page[page.length - 1]!) : null });
  });

  router.get('/v1/payments/:paymentRequestId', async (req, res) => {
    res.json(paymentView(await orders.getPayment(merchantOf(res), req.params.paymentRequestId as string)));
  });

  router.post('/v1/payments/:paymentRequestId/cancel', async (req, res) => {
    const { payment, accepted } = await orders.cancel(merchantOf(res), req.params.paymentRequestId as string);
    if (accepted) options.onCancelAccepted();
    res.status(accepted ? 202 : 200).json(paymentView(payment));
  });

  router.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (!req.path.startsWith('/v1/')) return next(error);
    const e = error as { status?: number; type?: string; errors?: { path?: string; message?: string }[]; message?: string; headers?: Record<string, string> };
    if (error instanceof PaymentRefused) {
      const p = merchantProblemFor(error.code);
      return sendProblem(res, { ...p, detail: error.message, resultCode: error.code });
    }
    if (error instanceof InvalidInput) {
      return sendProblem(res, { status: 400, type: '/problems/validation-error', title: 'Invalid request', detail: error.message, errors: [{ path: error.field ?? '', message: error.message }] });
    }
    if (error instanceof NotFound) return sendProblem(res, { status: 404, type: '/problems/not-found', title: 'Not found', detail: error.message });
    if (error instanceof DuplicateKey) {
      return sendProblem(res, { status: 409, type: '/problems/duplicate', title: 'Already exists', detail: `Another record already has this ${error.entity}.` });
    }
    if (error instanceof PaymentCodeNotRoutable) {
      const title = error.reason === 'direct-wallet' ? 'Payment code routed to a directly integrated wallet' : 'Not an Alipay+ payment code';
      return sendProblem(res, { status: 422, type: `/problems/${error.reason}`, title, detail: error.message });
    }
    if (error instanceof Conflict) return sendProblem(res, { status: 409, type: `/problems/${error.type}`, title: 'Conflict', detail: error.message });
    if (e?.type === 'entity.parse.failed') return sendProblem(res, { status: 400, type: '/problems/validation-error', title: 'Invalid request', detail: 'The body is not valid JSON.' });
    if (e?.type === 'entity.too.large') return sendProblem(res, { status: 413, type: '/problems/too-large', title: 'Body too large', detail: 'The request body is too large.' });
    if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
      const errors = (e.errors ?? []).map((x) => ({ path: (x.path ?? '').replace(/^\/(body|query|params|headers)\/?/, '').replace(/\//g, '.'), message: x.message ?? '' }));
      const known: Record<number, [string, string]> = {
        400: ['/problems/validation-error', 'Invalid request'],
        404: ['/problems/not-found', 'Not found'],
        405: ['/problems/method-not-allowed', 'Method not allowed'],
        415: ['/problems/unsupported-media-type', 'Unsupported media type'],
      };
      const [type, title] = known[e.status] ?? ['/problems/bad-request', 'Bad request'];
      // A 405 must say which methods the path has (RFC 9110 §15.5.6): the validator's error carries them.
      if (e.headers?.Allow) res.setHeader('Allow', e.headers.Allow);
      return sendProblem(res, { status: e.status, type, title, detail: errors.map((x) => `${x.path || 'request'}: ${x.message}`).join('; ') || e.message, errors });
    }
    if (isUnavailable(error)) {
      logger.warn({ err: error, reqId: req.id }, 'database unavailable on the merchant API');
      return sendProblem(res, { status: 503, type: '/problems/unavailable', title: 'Service unavailable', detail: 'The gateway cannot reach its database; retry shortly.' });
    }
    logger.error({ err: error, path: req.path, reqId: req.id }, 'unexpected failure on the merchant API');
    sendProblem(res, { status: 500, type: '/problems/internal', title: 'Internal error', detail: 'An unexpected error occurred; it has been logged.' });
  });

  return router;
}
