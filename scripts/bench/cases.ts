/**
 * The measured cases. Each one prepares what it sends (signing it all beforehand), warms up, then
 * measures for a fixed duration at fixed concurrency while the gateway's peak RSS is tracked.
 */
import { randomBytes, type KeyObject } from 'node:crypto';
import type { GatewayHandle } from './gateway.js';
import { runLoad, type LoadResult, type RequestSource } from './load.js';
import type { CaseName, Options } from './options.js';
import { cpuSeconds, cpuSecondsOfAll, fileSizePeakTracker, rssPeakTracker, stolenCpu, type Child } from './processes.js';
import {
  ACQP_PATH,
  alipayplusChecker,
  CODE_BASE_URL,
  JPY,
  notifyPaymentBody,
  placeOrderBody,
  RequestPool,
  signAll,
  userInitiatedPayBody,
  type BenchKeys,
} from './requests.js';

/** Responses whose signature is verified: the first 20 of each run, then one in this many. */
export const SIGNATURE_SAMPLE = 10;

export interface Measurement extends LoadResult {
  /** Requests the generator had to re-send because a unique pool ran out (counted in errors). */
  poolWrapped: number;
  poolSize: number;
  warmup: { seconds: number; requests: number; rps: number; errors: number; problems: string[] };
  peakRssBytes: number | undefined;
  /** SQLite: the largest the write-ahead log file grew while measured. */
  peakWalBytes: number | undefined;
  /** CPU the server process used while measured, in cores (1.0 = one core busy all the time). */
  serverCpuCores: number | undefined;
  /** Postgres: CPU its server's processes on this machine used while measured, in cores (the database's share of the two). */
  databaseCpuCores: number | undefined;
  /** CPU this process (the load generator) used while measured, in cores. */
  generatorCpuCores: number;
  /** CPU the hypervisor took from this VM while measured (steal), in cores: others' load on the host. */
  stolenCpuCores: number | undefined;
}

interface Prepared {
  source: RequestSource;
  pool?: RequestPool;
}

/** Warm-up, then measurement, of sources made by `prepare` (called once per phase). */
export async function measure(
  url: string,
  server: Child,
  options: Options,
  prepare: (phase: 'warmup' | 'measure', warmupRps: number) => Promise<Prepared>,
  store: { walFile?: string | undefined; serverCommand?: string | undefined } = {},
): Promise<Measurement> {
  const warm = await prepare('warmup', 0);
  const pid = server.pid;
  const w = await runLoad({ url, connections: options.connections, durationSeconds: options.warmupSeconds, sources: [warm.source], server });
  // Replays after a warm-up pool ran out are harmless (the warm-up is not measured), so not errors.
  const run = await prepare('measure', w.rps);
  const rss = rssPeakTracker(pid);
  const wal = store.walFile ? fileSizePeakTracker(store.walFile) : undefined;
  const databaseCpuBefore = store.serverCommand ? cpuSecondsOfAll(store.serverCommand) : undefined;
  const serverCpuBefore = cpuSeconds(pid);
  const generatorCpuBefore = process.cpuUsage();
  const stolen = stolenCpu();
  const m = await runLoad({ url, connections: options.connections, durationSeconds: options.durationSeconds, sources: [run.source], server });
  const stolenCpuCores = stolen.stop();
  const generatorCpu = process.cpuUsage(generatorCpuBefore);
  const serverCpuAfter = cpuSeconds(pid);
  const databaseCpuAfter = store.serverCommand ? cpuSecondsOfAll(store.serverCommand) : undefined;
  const peakRssBytes = rss.stop();
  const peakWalBytes = wal?.stop();
  // Not rounded: --ab turns them back into CPU seconds per request (scripts/bench/ab.ts).
  const cores = (seconds: number) => seconds / m.durationSeconds;
  const coresBetween = (before: number | undefined, after: number | undefined) => (before === undefined || after === undefined ? undefined : cores(after - before));
  const poolWrapped = run.pool?.unique ? run.pool.wrapped : 0;
  return {
    ...m,
    errors: m.errors + poolWrapped,
    problems: poolWrapped > 0 ? [...m.problems, `${poolWrapped}× pool of unique requests ran out (replays, not new orders)`] : m.problems,
    poolWrapped,
    poolSize: run.pool?.requests.length ?? 0,
    warmup: { seconds: options.warmupSeconds, requests: w.requests, rps: w.rps, errors: w.errors, problems: w.problems },
    peakRssBytes,
    peakWalBytes,
    serverCpuCores: coresBetween(serverCpuBefore, serverCpuAfter),
    databaseCpuCores: coresBetween(databaseCpuBefore, databaseCpuAfter),
    generatorCpuCores: cores((generatorCpu.user + generatorCpu.system) / 1e6),
    stolenCpuCores,
  };
}

/** An Alipay+ source cycling a pool; `onAnswer` sees each good answer's parsed body. */
function alipayplusSource(api: string, pool: RequestPool, acqpPublicKey: KeyObject, onAnswer?: (body: Record<string, unknown>) => void): RequestSource {
  const path = `${ACQP_PATH}${api}`;
  const check = alipayplusChecker(acqpPublicKey, SIGNATURE_SAMPLE);
  return {
    path,
    next: () => pool.next(),
    check: (status, body, headers) => {
      const problem = check(path, status, body, headers);
      if (!problem && onAnswer) onAnswer(JSON.parse(body));
      return problem;
    },
  };
}

/**
 * How many unique requests a measured run needs: the faster of the warm-up's rate and `ceilingRps`
 * (the floor's, when measured), with room for the gateway getting faster once warm, never fewer than
 * `minimum`. The warm-up alone is not enough: one placeOrder warm-up ran at 265 req/s and its
 * measurement at 570, and 2,735 requests were replays of a pool that had run out.
 */
export function uniquePoolSize(warmupRps: number, seconds: number, ceilingRps = 0, minimum = 500): number {
  return Math.max(minimum, Math.ceil(Math.max(warmupRps, ceilingRps) * seconds * 1.6) + 200);
}

/** The userInitiatedPay requests of the floor: the same shape, on codes the floor does not look up. */
export async function floorSource(keys: BenchKeys, count = 500): Promise<Prepared> {
  const codes = Array.from({ length: count }, () => `${CODE_BASE_URL}/o/${randomBytes(16).toString('base64url')}`);
  const pool = new RequestPool(await signAll(count, (i) => ({ path: `${ACQP_PATH}userInitiatedPay`, body: userInitiatedPayBody(codes[i]!) }), keys.alipayplus.privateKey), false);
  return { source: alipayplusSource('userInitiatedPay', pool, keys.acqp.publicKey), pool };
}

export interface CaseState {
  /** paymentRequestIds the gateway answered to placeOrder (notifyPayment uses them as known ids). */
  paidRequestIds: string[];
  /**
   * A rate the gateway's write path does not exceed, for sizing unique pools: the floor's req/s in
   * this run when measured; under --ab (no floor), the fastest slice so far of either build.
   */
  ceilingRps?: number;
}

export function caseRunner(gw: GatewayHandle, keys: BenchKeys, options: Options, state: CaseState) {
  const sign = (api: string, count: number, body: (i: number) => string) => signAll(count, (i) => ({ path: `${ACQP_PATH}${api}`, body: body(i) }), keys.alipayplus.privateKey);
  const run = (prepare: Parameters<typeof measure>[3]) => measure(gw.url, gw.child, options, prepare, { walFile: gw.walFile, serverCommand: gw.kind === 'postgres' ? 'postgres' : undefined });

  const cases: Record<CaseName, () => Promise<Measurement>> = {
    /** Merchant API write path: each request creates an order code (no signature: a bearer API key). */
    createOrder: () => {
      const bodies = Array.from({ length: 1000 }, (_, i) =>
        Buffer.from(JSON.stringify({ storeId: gw.store.storeId, referenceOrderId: `ORD-${i}`, orderDescription: 'Matcha latte', amount: JPY(String(100 + i)), terminalId: 'POS-1', expiresInSeconds: 180 })),
      );
      const headers = { Authorization: `Bearer ${gw.merchant.apiKey}`, 'Content-Type': 'application/json' };
      let i = 0;
      const source: RequestSource = {
        path: '/v1/orders',
        next: () => ({ headers, body: bodies[i++ % bodies.length]! }),
        check: (status, body) => {
          if (status !== 201) return `HTTP ${status}: ${body.slice(0, 160)}`;
          try {
            const created = JSON.parse(body) as { codeValue?: string; status?: string };
            return typeof created.codeValue === 'string' && created.status === 'PENDING' ? null : `unexpected body: ${body.slice(0, 160)}`;
          } catch {
            return `not JSON: ${body.slice(0, 160)}`;
          }
        },
      };
      return run(async () => ({ source }));
    },

    /** Read path: decoding order codes, each decoded many times (the same answer every time). */
    userInitiatedPay: async () => {
      // Fresh codes valid 180 s: the warm-up and the measurement (at most 30 + 120 s) end before they expire.
      const orders = await gw.createOrders(500, 180);
      const pool = new RequestPool(await sign('userInitiatedPay', orders.length, (i) => userInitiatedPayBody(orders[i]!.codeValue)), false);
      return run(async () => ({ source: alipayplusSource('userInitiatedPay', pool, keys.acqp.publicKey), pool }));
    },

    /** Write path: an entry-code payment per request (fresh paymentId), so each creates one order. */
    placeOrder: () =>
      run(async (phase, warmupRps) => {
        const count = phase === 'warmup' ? Math.ceil(options.warmupSeconds * 1000) : uniquePoolSize(warmupRps, options.durationSeconds, state.ceilingRps);
        const pool = new RequestPool(await sign('placeOrder', count, (i) => placeOrderBody(gw.store.entryCode, JPY(String(100 + (i % 9000))))), true);
        const collect = (body: Record<string, unknown>) => {
          if (state.paidRequestIds.length < 2000 && typeof body.paymentRequestId === 'string') state.paidRequestIds.push(body.paymentRequestId);
        };
        return { source: alipayplusSource('placeOrder', pool, keys.acqp.publicKey, collect), pool };
      }),

    /**
     * Notifications, acknowledged S whatever they say: half for payments the gateway knows (paid
     * entry-code payments from the placeOrder case, when it ran), half for unknown ones. Each is
     * recorded, so this is a write path too.
     */
    notifyPayment: async () => {
      const known = state.paidRequestIds;
      const pool = new RequestPool(
        await sign('notifyPayment', 1000, (i) => notifyPaymentBody(i % 2 === 0 && known.length > 0 ? known[i % known.length]! : `pr_unknown_${randomBytes(10).toString('hex')}`)),
        false,
      );
      return run(async () => ({ source: alipayplusSource('notifyPayment', pool, keys.acqp.publicKey), pool }));
    },
  };
  return cases;
}
