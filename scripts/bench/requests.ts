/**
 * What the load generator sends and how it judges the answers.
 *
 * Signing costs about 0.3 ms of CPU per request (RSA-2048), as much as the gateway spends on its own
 * answer: signing inside the measured loop would make the generator measure itself. So every signed
 * request is built and signed BEFORE its case starts (Request-Time is accepted for 600 s), in
 * parallel on libuv's thread pool (crypto.sign with a callback), and autocannon only cycles through
 * the prepared bytes.
 */
import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { contentToSign, formatSignatureHeader, parseSignatureHeader, verifyContent } from '../../src/signing.js';

export const ACQP_PATH = '/aps/api/v1/payments/';
export const CLIENT_ID = 'BENCH_CLIENT_0001';
export const ACQUIRER_ID = '1020000000000000001';
export const PSP_ID = '1022172000000000001';
export const CODE_BASE_URL = 'https://pay.bench.acqp.example';

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
  privatePem: string;
  publicPem: string;
}

/** A throwaway RSA-2048 key pair; the bench writes its PEMs only into its temporary data directory. */
export function newKeyPair(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKey,
    publicKey,
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** Both sides' keys: Alipay+'s (signs requests) and the gateway's (signs answers). */
export interface BenchKeys {
  alipayplus: KeyPair;
  acqp: KeyPair;
}

export interface PreparedRequest {
  method: 'POST';
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

/** Signs like Alipay+: `POST <path>\n<Client-Id>.<Request-Time>.<body>`, asynchronously on the thread pool. */
export function signRequest(path: string, body: string, key: KeyObject, requestTime = new Date().toISOString()): Promise<PreparedRequest> {
  const bytes = Buffer.from(body, 'utf8');
  return new Promise((resolve, reject) => {
    sign('sha256', contentToSign('POST', path, CLIENT_ID, requestTime, bytes), key, (error, signature) => {
      if (error) return reject(error);
      resolve({
        method: 'POST',
        path,
        headers: {
          'Content-Type': 'application/json; charset=UTF-8',
          'Client-Id': CLIENT_ID,
          'Request-Time': requestTime,
          Signature: formatSignatureHeader('1', encodeURIComponent(signature.toString('base64'))),
        },
        body: bytes,
      });
    });
  });
}

/** The same, synchronously: for the soak, whose steady low rate can afford signing as it goes. */
export function signRequestNow(path: string, body: string, key: KeyObject): PreparedRequest {
  const bytes = Buffer.from(body, 'utf8');
  const requestTime = new Date().toISOString();
  const signature = sign('sha256', contentToSign('POST', path, CLIENT_ID, requestTime, bytes), key);
  return {
    method: 'POST',
    path,
    headers: { 'Content-Type': 'application/json; charset=UTF-8', 'Client-Id': CLIENT_ID, 'Request-Time': requestTime, Signature: formatSignatureHeader('1', encodeURIComponent(signature.toString('base64'))) },
    body: bytes,
  };
}

/** Signs `count` bodies, at most `parallel` at a time so the thread pool stays busy but memory bounded. */
export async function signAll(count: number, build: (i: number) => { path: string; body: string }, key: KeyObject, parallel = 64): Promise<PreparedRequest[]> {
  const out: PreparedRequest[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const { path, body } = build(i);
      out[i] = await signRequest(path, body, key);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
  return out;
}

/**
 * A pool the generator cycles through. `unique` pools (placeOrder: one paymentId per order) must not
 * wrap while measured, since a repeat would be an idempotent replay rather than a new order: `wrapped`
 * counts the requests sent after the pool ran out, and the runner reports them as errors.
 */
export class RequestPool {
  private index = 0;
  wrapped = 0;
  constructor(
    readonly requests: PreparedRequest[],
    readonly unique: boolean,
  ) {
    if (requests.length === 0) throw new Error('empty request pool');
  }
  next(): PreparedRequest {
    if (this.index >= this.requests.length) this.wrapped++;
    return this.requests[this.index++ % this.requests.length]!;
  }
  get served(): number {
    return this.index;
  }
}

// ---- bodies --------------------------------------------------------------------------------------

export const JPY = (value: string) => ({ currency: 'JPY', value });

export function userInitiatedPayBody(codeValue: string): string {
  return JSON.stringify({ acquirerId: ACQUIRER_ID, pspId: PSP_ID, codeValue, customerId: '208812211212001' });
}

/** A fresh Alipay+ paymentId: 28 characters, unique per placeOrder. */
export const newPaymentId = (): string => `2010${randomBytes(12).toString('hex')}`;

/** placeOrder as Alipay+ sends it (seed 002), on a code for `amount` (an entry code: the user typed it). */
export function placeOrderBody(codeValue: string, amount: { currency: string; value: string }, paymentId = newPaymentId()): string {
  return JSON.stringify({
    acquirerId: ACQUIRER_ID,
    pspId: PSP_ID,
    codeValue,
    paymentId,
    paymentAmount: amount,
    settlementAmount: amount,
    merchant: {
      referenceMerchantId: 'M00000000001',
      merchantName: 'UGG',
      merchantMCC: '5411',
      merchantAddress: { region: 'JP', city: 'Tokyo' },
      store: { referenceStoreId: 'S00000000001', storeName: 'UGG-2', storeMCC: '5411' },
    },
    customerId: '210282121122',
    env: { userAgent: 'Mozilla/5.0 (Linux; Android 9) AlipayConnect' },
  });
}

/** A successful payment's notification (reference §3.4). */
export function notifyPaymentBody(paymentRequestId: string, paymentId = newPaymentId()): string {
  return JSON.stringify({
    acquirerId: ACQUIRER_ID,
    pspId: PSP_ID,
    paymentRequestId,
    paymentId,
    paymentResult: { resultCode: 'SUCCESS', resultStatus: 'S', resultMessage: 'success' },
    customerId: '210282121122',
    walletBrandName: 'KAKAOPAY',
    paymentTime: new Date().toISOString(),
  });
}

// ---- checks --------------------------------------------------------------------------------------

/**
 * Checks every answer: HTTP 200, a JSON body whose result is SUCCESS/S, and (on a sample of one in
 * `signatureEvery`, and always on the first answers of a case) the Signature over the exact bytes,
 * with Client-Id and Response-Time, verified with the gateway's public key. Returns the problem or null.
 */
export function alipayplusChecker(acqpPublicKey: KeyObject, signatureEvery: number) {
  let seen = 0;
  return (path: string, status: number, body: string, headers: Record<string, string | string[]>): string | null => {
    if (status !== 200) return `HTTP ${status}: ${body.slice(0, 160)}`;
    let parsed: { result?: { resultCode?: string; resultStatus?: string; resultMessage?: string } };
    try {
      parsed = JSON.parse(body);
    } catch {
      return `not JSON: ${body.slice(0, 160)}`;
    }
    const r = parsed.result;
    if (r?.resultCode !== 'SUCCESS' || r.resultStatus !== 'S') return `${r?.resultStatus ?? '?'} ${r?.resultCode ?? 'no result'}: ${r?.resultMessage ?? ''}`.slice(0, 200);
    if (seen++ < 20 || seen % signatureEvery === 0) {
      const h = lowerCase(headers);
      const parsedSig = parseSignatureHeader(h.signature);
      if (!parsedSig || h['client-id'] !== CLIENT_ID) return 'answer without Signature or with another Client-Id';
      if (!verifyContent(contentToSign('POST', path, CLIENT_ID, h['response-time'] ?? '', body), parsedSig.signature, acqpPublicKey)) return 'answer signature does not verify';
    }
    return null;
  };
}

function lowerCase(headers: Record<string, string | string[]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}
