/**
 * The typed merchant API client partners can use as is (openapi-fetch over generated/merchant.ts):
 * bearer auth built in, and retries of the calls that are safe to repeat — GETs, and POSTs that carry
 * an Idempotency-Key (added automatically to order and payment creation, so a retried POST can never
 * create a second order or charge twice). Retried on network errors, 429 and 503, with backoff.
 */
import { randomUUID } from 'node:crypto';
import createClient, { type Client } from 'openapi-fetch';
import type { paths } from '../../generated/merchant.js';

export type { paths as MerchantApiPaths } from '../../generated/merchant.js';

export interface MerchantClientOptions {
  /** e.g. http://127.0.0.1:8080 */
  baseUrl: string;
  /** A merchant API key, or the admin token for /v1/merchants. */
  token: string;
  /** Attempts after the first one (default 3). */
  retries?: number;
  /** Delay before retry n is backoffMs × 2^(n-1) (default 200 ms). */
  backoffMs?: number;
  fetch?: typeof fetch;
}

const CREATES_PAYMENT = new Set(['/v1/orders', '/v1/payments']);
const RETRYABLE_STATUS = new Set([429, 503]);

export function createMerchantClient(options: MerchantClientOptions): Client<paths> {
  const retries = options.retries ?? 3;
  const backoffMs = options.backoffMs ?? 200;
  const baseFetch = options.fetch ?? globalThis.fetch;

  async function retryingFetch(request: Request): Promise<Response> {
    const repeatable = request.method === 'GET' || request.headers.has('Idempotency-Key');
    for (let attempt = 0; ; attempt++) {
      const last = !repeatable || attempt >= retries;
      try {
        const response = await baseFetch(last ? request : request.clone());
        if (last || !RETRYABLE_STATUS.has(response.status)) return response;
      } catch (error) {
        if (last) throw error;
      }
      await new Promise((r) => setTimeout(r, backoffMs * 2 ** attempt));
    }
  }

  const client = createClient<paths>({ baseUrl: options.baseUrl, headers: { Authorization: `Bearer ${options.token}` }, fetch: retryingFetch });
  client.use({
    onRequest({ request }) {
      const path = new URL(request.url).pathname;
      if (request.method === 'POST' && CREATES_PAYMENT.has(path) && !request.headers.has('Idempotency-Key')) request.headers.set('Idempotency-Key', randomUUID());
      return request;
    },
  });
  return client;
}
