/**
 * The gateway's calls to Alipay+ (openapi/alipayplus.yaml), typed by openapi-fetch over
 * generated/alipayplus.ts. Each call serialises its body once, signs those exact bytes, verifies the
 * answer's signature over the raw response bytes and fails closed: a non-200, an unsigned or badly
 * signed answer, or one that is not JSON is never believed and counts as "no result". Every call
 * goes to the audit log, with the payment code masked.
 */
import createClient from 'openapi-fetch';
import type { paths } from '../../generated/alipayplus.js';
import type { AlipayplusPort, CallResult } from '../domain/user-presented-payments.js';
import { maskCode } from '../logger.js';
import { nowIso, type Signer } from '../signing.js';
import type { Metrics } from '../metrics.js';
import type { AuditLog } from '../store/types.js';

export const ALIPAYPLUS_PATHS = {
  pay: '/aps/api/v1/payments/pay',
  inquiryPayment: '/aps/api/v1/payments/inquiryPayment',
  cancelPayment: '/aps/api/v1/payments/cancelPayment',
} as const;

type Api = keyof typeof ALIPAYPLUS_PATHS;

/** Client timeouts (reference §1.9): 8 s for pay and cancelPayment, 5 s for inquiryPayment. */
export const DEFAULT_TIMEOUTS_MS: Record<Api, number> = { pay: 8000, inquiryPayment: 5000, cancelPayment: 8000 };

export interface AlipayplusClientOptions {
  /** An origin, optionally with a path prefix; `/aps/api/v1/payments/…` is appended. */
  baseUrl: string;
  signer: Signer;
  audit: AuditLog;
  metrics?: Metrics;
  timeoutsMs?: Partial<Record<Api, number>>;
  clock?: () => Date;
  /** Extra request headers, e.g. Prism's `Prefer` in contract tests. */
  headers?: () => Record<string, string>;
  fetch?: typeof fetch;
}

/** The audit keeps bodies, but never a full payment code. */
function maskPaymentCode(body: string): string {
  return body.replace(/("paymentMethodId":")([^"]*)"/, (_m, head: string, code: string) => `${head}${maskCode(code)}"`);
}

export function alipayplusClient(options: AlipayplusClientOptions): AlipayplusPort & { call(api: Api, body: string): Promise<CallResult> } {
  const { signer, audit } = options;
  const clock = options.clock ?? (() => new Date());
  const timeouts = { ...DEFAULT_TIMEOUTS_MS, ...options.timeoutsMs };
  const client = createClient<paths>({ baseUrl: options.baseUrl.replace(/\/+$/, ''), fetch: options.fetch });
  const pathPrefix = new URL(options.baseUrl).pathname.replace(/\/+$/, '');

  async function call(api: Api, body: string): Promise<CallResult> {
    const started = Date.now();
    const signedPath = `${pathPrefix}${ALIPAYPLUS_PATHS[api]}`;
    const requestTime = nowIso(clock());
    const signed = await signer.signedHeaders('Request-Time', signedPath, requestTime, body);
    const requestHeaders = { ...signed, ...options.headers?.() };
    let httpStatus: number | null = null;
    let responseText: string | null = null;
    let responseHeaders: Record<string, string> = {};
    let result: CallResult;
    try {
      const { response, data } = await client.POST(ALIPAYPLUS_PATHS[api], {
        body: JSON.parse(body),
        // The body is serialised once, here; the signature covers exactly these bytes.
        bodySerializer: () => body,
        headers: requestHeaders,
        parseAs: 'text',
        signal: AbortSignal.timeout(timeouts[api]),
      } as never);
      httpStatus = response.status;
      responseHeaders = Object.fromEntries(['client-id', 'response-time', 'signature', 'content-type'].map((h) => [h, response.headers.get(h) ?? '']));
      responseText = typeof data === 'string' ? data : await response.text().catch(() => '');
      result = believe(signedPath, response, responseText);
    } catch (error) {
      const e = error as Error;
      result = { kind: 'NO_RESULT', reason: e.name === 'TimeoutError' ? `no answer within ${timeouts[api]} ms` : `transport error: ${e.message}` };
    }
    const answered = result.kind === 'ANSWER' ? (result.body.result ?? {}) : {};
    options.metrics?.outboundCalls.inc({ api, outcome: result.kind === 'ANSWER' ? String(answered.resultStatus ?? 'NO_RESULT') : 'NO_RESULT' });
    audit.record({
      direction: 'OUT',
      api,
      paymentRequestId: (JSON.parse(body) as { paymentRequestId?: string }).paymentRequestId ?? null,
      paymentId: result.kind === 'ANSWER' ? (result.body.paymentId ?? null) : null,
      requestHeaders: { 'client-id': signer.clientId, 'request-time': requestTime, signature: signed.Signature ?? '' },
      requestBody: maskPaymentCode(body),
      httpStatus,
      responseHeaders,
      responseBody: responseText,
      resultStatus: answered.resultStatus ?? null,
      resultCode: result.kind === 'ANSWER' ? (answered.resultCode ?? null) : `NO_RESULT: ${result.reason}`.slice(0, 64),
      latencyMs: Date.now() - started,
      createdAt: requestTime,
    });
    return result;
  }

  /** Fail closed: only a signed HTTP 200 JSON object with a `result` is an answer. */
  function believe(signedPath: string, response: Response, text: string): CallResult {
    if (response.status !== 200) return { kind: 'NO_RESULT', reason: `HTTP ${response.status}` };
    const verified = signer.verify(signedPath, response.headers.get('response-time') ?? '', text, response.headers.get('signature') ?? undefined);
    if (!verified.ok) return { kind: 'NO_RESULT', reason: `answer not believed: ${verified.message}` };
    try {
      const body = JSON.parse(text) as Record<string, any>;
      if (body && typeof body === 'object' && body.result && typeof body.result === 'object') return { kind: 'ANSWER', body };
    } catch {
      // fall through
    }
    return { kind: 'NO_RESULT', reason: 'answer is not a JSON result envelope' };
  }

  return {
    call,
    pay: (body) => call('pay', body),
    inquiryPayment: (paymentRequestId) => call('inquiryPayment', JSON.stringify({ paymentRequestId })),
    cancelPayment: (paymentRequestId) => call('cancelPayment', JSON.stringify({ paymentRequestId })),
  };
}
