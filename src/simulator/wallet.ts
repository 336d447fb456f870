/**
 * The wallet side of the Merchant-presented flows (DESIGN §1 A and B): what Alipay+ does when a user
 * scans a code the gateway issued. `userInitiatedPay` decodes it; once the user confirmed (and, for an
 * entry code, typed the amount), `placeOrder` (seed 002) hands the paid order to the gateway.
 * Every request is signed as Alipay+ over its exact bytes and every answer verified with the gateway's
 * public key; an answer that does not verify is reported, never believed. Used by scripts/wallet.ts and
 * by tests.
 */
import { randomInt } from 'node:crypto';
import type { components } from '../../generated/acqp.js';
import { loadPrivateKey, loadPublicKey, nowIso, Signer, type VerifyOutcome } from '../signing.js';
import { newPaymentId } from './ids.js';

type PlaceOrderRequest = components['schemas']['PlaceOrderRequest'];
type Amount = components['schemas']['Amount'];

export const GATEWAY_API_PREFIX = '/aps/api/v1/payments/';

/** The seed 002 sample's user agent: an Android wallet app. */
export const DEFAULT_USER_AGENT =
  'Mozilla/5.0 (Linux; Android 9; MI 9 SE Build/PKQ1.181121.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/90.0.4430.66 Mobile Safari/537.36 Language/en Ariver/2.22.0.2 Griver/2.24.0 AppContainer/10.5.10 AlipayConnect AlipayConnect';

/** Kakao Pay's pspId (reference §5.5), the wallet the seed samples use. */
export const DEFAULT_PSP_ID = '1022172000000000001';

export interface WalletOptions {
  /** The gateway's origin, e.g. http://127.0.0.1:8080. */
  gatewayUrl: string;
  /** The ACQP's client id: Alipay+ sends it in both directions. */
  clientId: string;
  /** Alipay+'s private key (sandbox: <ACQP_DATA_DIR>/keys/alipayplus-sandbox-private.pem). */
  privateKeyPem: string;
  /** The keyVersion written in the signatures. Default 1. */
  keyVersion?: string;
  /** The gateway's public key (sandbox: <ACQP_DATA_DIR>/keys/acqp-public.pem). */
  gatewayPublicKeyPem: string;
  /** The keyVersion the gateway signs with (ACQP_KEY_VERSION). Default 1. */
  gatewayKeyVersion?: string;
  acquirerId: string;
  /** Default Kakao Pay. */
  pspId?: string;
  /** The wallet user. Default a new `2088…` id. */
  customerId?: string;
  userAgent?: string;
  clock?: () => Date;
}

/** One signed request and its answer, as sent and received. */
export interface Exchange {
  api: string;
  method: 'POST';
  path: string;
  requestHeaders: Record<string, string>;
  requestBody: string;
  /** null when no HTTP answer came. */
  status: number | null;
  responseHeaders: Record<string, string>;
  responseBody: string;
  /** The answer as JSON, or null. */
  body: any;
  /** The answer's signature, verified with the gateway's public key over the exact bytes received. */
  signature: VerifyOutcome;
  /** Why no answer came. */
  error?: string;
}

export interface ScanResult {
  decode: Exchange;
  placeOrder: Exchange | null;
  /** placeOrder answered a correctly signed S. */
  paid: boolean;
  /** Why placeOrder was not sent or did not succeed; null when paid. */
  reason: string | null;
}

/** An Exchange is believed only when signed correctly; then its `result` says what happened. */
function outcomeOf(exchange: Exchange): string | null {
  if (exchange.status !== 200) return exchange.error ?? `HTTP ${exchange.status}`;
  if (!exchange.signature.ok) return `answer not believed: ${exchange.signature.message}`;
  const result = exchange.body?.result;
  if (!result) return 'answer is not a result envelope';
  return result.resultStatus === 'S' ? null : `${result.resultStatus}/${result.resultCode}: ${result.resultMessage ?? ''}`.trim();
}

/**
 * The placeOrder body for a decoded code (seed 002 shape). paymentAmount is the order's, or `amount`
 * (required for an entry code: the user typed it); its currency defaults to the decode's settlement
 * currency, else JPY. settlementAmount = paymentAmount (no currency conversion).
 */
export function placeOrderBody(
  decoded: Record<string, any>,
  input: { codeValue: string; acquirerId: string; pspId: string; customerId: string; userAgent: string; paymentId: string; amount?: { value: string; currency?: string } },
): PlaceOrderRequest {
  const orderAmount = decoded.paymentAmount as Amount | undefined;
  const currency = input.amount?.currency ?? orderAmount?.currency ?? decoded.settlementStrategy?.settlementCurrency ?? 'JPY';
  const paymentAmount: Amount | undefined = input.amount ? { currency, value: input.amount.value } : orderAmount;
  if (!paymentAmount) throw new Error('This code carries no amount (an entry code): give the amount the user typed.');
  return {
    acquirerId: input.acquirerId,
    pspId: input.pspId,
    codeValue: input.codeValue,
    paymentId: input.paymentId,
    ...(decoded.paymentRequestId ? { paymentRequestId: decoded.paymentRequestId as string } : {}),
    paymentAmount,
    settlementAmount: paymentAmount,
    merchant: decoded.order?.merchant,
    env: { userAgent: input.userAgent },
    customerId: input.customerId,
  };
}

export function createWallet(options: WalletOptions) {
  const clock = options.clock ?? (() => new Date());
  const signer = new Signer(
    options.clientId,
    loadPrivateKey(options.privateKeyPem),
    options.keyVersion ?? '1',
    new Map([[options.gatewayKeyVersion ?? '1', loadPublicKey(options.gatewayPublicKeyPem)]]),
  );
  const gatewayUrl = options.gatewayUrl.replace(/\/+$/, '');
  const pspId = options.pspId ?? DEFAULT_PSP_ID;
  const customerId = options.customerId ?? `2088${randomInt(0, 1e12).toString().padStart(12, '0')}`;
  const userAgent = options.userAgent ?? DEFAULT_USER_AGENT;

  /** Signs and sends one Alipay+-facing API of the gateway; the body is serialised once. */
  async function call(api: string, payload: unknown): Promise<Exchange> {
    const path = `${GATEWAY_API_PREFIX}${api}`;
    const requestBody = JSON.stringify(payload);
    const requestTime = nowIso(clock());
    const requestHeaders = await signer.signedHeaders('Request-Time', path, requestTime, requestBody);
    const exchange: Exchange = {
      api,
      method: 'POST',
      path,
      requestHeaders,
      requestBody,
      status: null,
      responseHeaders: {},
      responseBody: '',
      body: null,
      signature: { ok: false, reason: 'INVALID_SIGNATURE', message: 'No answer.' },
    };
    try {
      // Bytes, not a string: fetch would otherwise be free to re-encode.
      const response = await fetch(`${gatewayUrl}${path}`, { method: 'POST', headers: requestHeaders, body: Buffer.from(requestBody), signal: AbortSignal.timeout(10_000) });
      exchange.status = response.status;
      exchange.responseHeaders = Object.fromEntries(response.headers);
      exchange.responseBody = await response.text();
    } catch (error) {
      const e = error as Error;
      exchange.error = `no answer: ${(e.cause as Error | undefined)?.message ?? e.message}`;
      return exchange;
    }
    try {
      exchange.body = JSON.parse(exchange.responseBody);
    } catch {
      // not JSON: body stays null
    }
    exchange.signature = signer.verify(path, exchange.responseHeaders['response-time'] ?? '', exchange.responseBody, exchange.responseHeaders.signature);
    return exchange;
  }

  const decode = (codeValue: string) => call('userInitiatedPay', { acquirerId: options.acquirerId, pspId, codeValue, customerId });
  const placeOrder = (body: PlaceOrderRequest) => call('placeOrder', body);

  /** The user scans `codeValue` and confirms: decode, then placeOrder with a new paymentId. */
  async function scan(codeValue: string, amount?: { value: string; currency?: string }): Promise<ScanResult> {
    const decoded = await decode(codeValue);
    const decodeFailure = outcomeOf(decoded);
    if (decodeFailure) return { decode: decoded, placeOrder: null, paid: false, reason: `userInitiatedPay: ${decodeFailure}` };
    let body: PlaceOrderRequest;
    try {
      body = placeOrderBody(decoded.body, { codeValue, acquirerId: options.acquirerId, pspId, customerId, userAgent, paymentId: newPaymentId(clock()), ...(amount ? { amount } : {}) });
    } catch (error) {
      return { decode: decoded, placeOrder: null, paid: false, reason: (error as Error).message };
    }
    const placed = await placeOrder(body);
    const failure = outcomeOf(placed);
    return { decode: decoded, placeOrder: placed, paid: failure === null, reason: failure === null ? null : `placeOrder: ${failure}` };
  }

  return { customerId, pspId, call, decode, placeOrder, scan };
}

export type Wallet = ReturnType<typeof createWallet>;
