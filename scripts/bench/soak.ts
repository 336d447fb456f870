/**
 * The soak: minutes of flow A at a steady rate (autocannon `overallRate`), each connection looping
 * through a POS order (POST /v1/orders) → the wallet's decode (userInitiatedPay) → the payment
 * (placeOrder) → Alipay+'s notification (notifyPayment) for that payment. The connection's context
 * carries the code from one step to the next.
 *
 * Unlike the throughput cases, requests are signed as they go: a pre-signed pool would outlive
 * Request-Time's 600 s and the order codes' 180 s, and at a steady low rate (~150 signs/s, about 4 %
 * of a core) the generator's cost does not limit what is measured. RSS is sampled every 10 s.
 */
import type { KeyObject } from 'node:crypto';
import type { GatewayHandle } from './gateway.js';
import { runLoad, type LoadResult, type RequestSource } from './load.js';
import { fileSize, fileSizePeakTracker, rssBytes } from './processes.js';
import { ACQP_PATH, alipayplusChecker, JPY, notifyPaymentBody, placeOrderBody, signRequestNow, userInitiatedPayBody, type BenchKeys } from './requests.js';
import { SIGNATURE_SAMPLE } from './cases.js';

export interface SoakResult extends LoadResult {
  rate: number;
  rssStartBytes: number | undefined;
  rssEndBytes: number | undefined;
  rssPeakBytes: number | undefined;
  /** [seconds since start, RSS bytes] every 10 s. */
  rssSeries: [number, number][];
  /** SQLite: the largest the write-ahead log grew, and its size at the end (it must not grow without end). */
  walPeakBytes: number | undefined;
  walEndBytes: number | undefined;
  warmup: { seconds: number; requests: number; errors: number; problems: string[] };
}

interface FlowContext {
  codeValue?: string;
  paymentRequestId?: string;
  amount?: string;
}

export function flow(gw: GatewayHandle, key: KeyObject, acqpPublicKey: KeyObject): RequestSource[] {
  let n = 0;
  const alipayplus = (api: string, body: (c: FlowContext) => string, onAnswer?: (parsed: Record<string, unknown>, c: FlowContext) => void): RequestSource => {
    const path = `${ACQP_PATH}${api}`;
    const check = alipayplusChecker(acqpPublicKey, SIGNATURE_SAMPLE);
    return {
      path,
      next: (context) => signRequestNow(path, body(context as FlowContext), key),
      check: (status, text, headers, context) => {
        const problem = check(path, status, text, headers);
        if (!problem && onAnswer) onAnswer(JSON.parse(text), context as FlowContext);
        return problem;
      },
    };
  };
  // A code that was never issued: when an earlier step failed, the next ones fail visibly too.
  const missing = 'https://pay.bench.acqp.example/o/AAAAAAAAAAAAAAAAAAAAAA';
  return [
    {
      path: '/v1/orders',
      next: (context) => {
        const amount = String(100 + (n++ % 9000));
        (context as FlowContext).amount = amount;
        const body = { storeId: gw.store.storeId, referenceOrderId: `SOAK-${n}`, orderDescription: 'Matcha latte', amount: JPY(amount), terminalId: 'POS-1', expiresInSeconds: 120 };
        return { headers: { Authorization: `Bearer ${gw.merchant.apiKey}`, 'Content-Type': 'application/json' }, body: Buffer.from(JSON.stringify(body)) };
      },
      check: (status, text, _headers, context) => {
        if (status !== 201) return `HTTP ${status}: ${text.slice(0, 160)}`;
        const created = JSON.parse(text) as { codeValue?: string; paymentRequestId?: string };
        Object.assign(context as FlowContext, { codeValue: created.codeValue, paymentRequestId: created.paymentRequestId });
        return created.codeValue ? null : `unexpected body: ${text.slice(0, 160)}`;
      },
    },
    alipayplus('userInitiatedPay', (c) => userInitiatedPayBody(c.codeValue ?? missing)),
    alipayplus('placeOrder', (c) => placeOrderBody(c.codeValue ?? missing, JPY(c.amount ?? '1'))),
    alipayplus('notifyPayment', (c) => notifyPaymentBody(c.paymentRequestId ?? 'pr_missing')),
  ];
}

export async function soak(gw: GatewayHandle, keys: BenchKeys, seconds: number, rate: number, warmupSeconds: number, connections: number): Promise<SoakResult> {
  const sources = flow(gw, keys.alipayplus.privateKey, keys.acqp.publicKey);
  const w = await runLoad({ url: gw.url, connections, durationSeconds: warmupSeconds, overallRate: rate, sources, server: gw.child });
  const pid = gw.child.pid;
  const rssStartBytes = rssBytes(pid);
  const started = Date.now();
  const rssSeries: [number, number][] = [[0, rssStartBytes ?? 0]];
  let peak = rssStartBytes ?? 0;
  const wal = gw.walFile ? fileSizePeakTracker(gw.walFile) : undefined;
  const sampler = setInterval(() => {
    const rss = rssBytes(pid);
    if (rss === undefined) return;
    peak = Math.max(peak, rss);
    rssSeries.push([Math.round((Date.now() - started) / 1000), rss]);
    process.stdout.write(`  soak ${Math.round((Date.now() - started) / 1000)} s: RSS ${(rss / 2 ** 20).toFixed(1)} MiB\n`);
  }, 10_000);
  sampler.unref();
  let result: LoadResult;
  try {
    result = await runLoad({ url: gw.url, connections, durationSeconds: seconds, overallRate: rate, sources, server: gw.child });
  } finally {
    clearInterval(sampler);
  }
  const rssEndBytes = rssBytes(pid);
  const walPeakBytes = wal?.stop();
  const walEndBytes = gw.walFile ? fileSize(gw.walFile) : undefined;
  return {
    ...result,
    rate,
    rssStartBytes,
    rssEndBytes,
    rssPeakBytes: Math.max(peak, rssEndBytes ?? 0) || undefined,
    rssSeries,
    walPeakBytes,
    walEndBytes,
    warmup: { seconds: warmupSeconds, requests: w.requests, errors: w.errors, problems: w.problems },
  };
}
