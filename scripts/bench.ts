/**
 * `npm run bench`: the gateway's throughput against the physical floor of a signed endpoint, measured
 * in one run on this machine (issue #6). Options: scripts/bench/options.ts.
 *
 * Everything runs on 127.0.0.1. This process is the load generator (autocannon); the floor and the
 * gateway are child processes, each started, warmed up, measured and stopped here. Keys, admin token,
 * data directory and Postgres schema are throwaway: generated for the run, removed afterwards.
 *
 * For each case: requests/s, p50/p99/max latency, errors (anything but HTTP 200 + SUCCESS for Alipay+
 * APIs, 201 for the merchant API, plus connection errors and timeouts), the gateway's peak RSS, and the
 * ratio to the floor: to the floor measured at the start, and to the floor measured again just before
 * and after the case (this VM's speed drifts over minutes). The table goes to stdout, the figures to
 * bench/results.json. The exit code is non-zero when any case had an error or could not run, so
 * `--smoke` doubles as a functional test.
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Knex } from 'knex';
import { abCase, checkoutRevision, coresToCpuSeconds, cpuMsPerRequest } from './bench/ab.js';
import { caseRunner, floorSource, measure, SIGNATURE_SAMPLE, type CaseState, type Measurement } from './bench/cases.js';
import { postgresReachable, startGateway, type GatewayHandle } from './bench/gateway.js';
import { parseOptions, UsageError, type CaseName, type DatabaseKind, type Options } from './bench/options.js';
import { freePort, machineBusy, pinCores, startChild, waitReady } from './bench/processes.js';
import { addRatios, caseResult, mib, table, type BenchResults, type NearbyFloor } from './bench/report.js';
import { newKeyPair, type BenchKeys } from './bench/requests.js';
import { countPayments, openStore, seedOrders, settleAfterSeeding } from './bench/seed.js';
import { flow, soak } from './bench/soak.js';
import { runLoad } from './bench/load.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

let options: Options;
try {
  options = parseOptions(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  console.error(`bench: ${error.message}`);
  process.exit(2);
}

const log = (line: string) => process.stdout.write(`${line}\n`);
const workDir = mkdtempSync(join(tmpdir(), 'acqp-bench-'));
const started = Date.now();

/** Stopping what runs, in reverse order, also on Ctrl-C: gateways first (they drop their schema). */
const cleanups: (() => Promise<void>)[] = [];
async function cleanUp(): Promise<void> {
  while (cleanups.length > 0) await cleanups.pop()!().catch((error) => console.error(`cleanup: ${(error as Error).message}`));
  rmSync(workDir, { recursive: true, force: true });
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\nbench: ${signal}, stopping`);
    void cleanUp().finally(() => process.exit(130));
  });
}

function commit(): string | null {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'openapi'], { cwd: repoRoot, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head}+uncommitted` : head;
  } catch {
    return null;
  }
}

const results: BenchResults = {
  meta: {
    date: new Date().toISOString(),
    mode: options.mode,
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    commit: commit(),
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    connections: options.connections,
    warmupSeconds: options.warmupSeconds,
    durationSeconds: options.mode === 'soak' ? options.soakSeconds : options.durationSeconds,
    seedOrders: options.scale ? options.seedOrders : null,
    signatureCheck: `every answer's signature on the first 20 answers of each run, then one in ${SIGNATURE_SAMPLE}`,
    machineBusyBefore: null,
    floorOnItsOwnCore: null,
    nearbyFloorSeconds: null,
    bodyCheck: 'every answer: HTTP 200 and result SUCCESS/S (Alipay+ APIs), HTTP 201 with a PENDING order and its codeValue (POST /v1/orders)',
  },
  cases: [],
  seeding: [],
  soak: null,
  ab: null,
  skipped: [],
  failures: [],
  errors: 0,
};

// Throwaway keys for the whole run: Alipay+'s (signs requests) and the gateway's (signs answers).
const keys: BenchKeys = { alipayplus: newKeyPair(), acqp: newKeyPair() };
const cpuProfileDir = options.cpuProf ? join(repoRoot, 'bench', 'profiles') : undefined;
if (cpuProfileDir) mkdirSync(cpuProfileDir, { recursive: true });

/** The floor's process, kept running after its first measurement to be measured again between cases. */
interface Floor {
  /** Its req/s in the first measurement, the run's floor. */
  rps: number;
  /** A short measurement (options.nearbyFloorSeconds) on a quiet machine. */
  measureAgain(): Promise<NearbyFloor['before']>;
}

async function startFloor(): Promise<Floor> {
  log('floor: bare node:http + RSA verify/sign, as a child process');
  const port = await freePort();
  const child = startChild(
    'floor',
    ['--import', 'tsx', '--import', './scripts/bench/process-title.mjs', 'scripts/bench/floor-server.ts'],
    {
      PATH: process.env.PATH,
      BENCH_PROCESS_TITLE: 'acqp-bench-floor',
      FLOOR_PORT: String(port),
      FLOOR_CLIENT_ID: 'BENCH_CLIENT_0001',
      FLOOR_ALIPAYPLUS_PUBLIC_PEM: keys.alipayplus.publicPem,
      FLOOR_ACQP_PRIVATE_PEM: keys.acqp.privatePem,
    },
    repoRoot,
  );
  cleanups.push(() => child.stop());
  const url = `http://127.0.0.1:${port}`;
  await waitReady(child, url);
  const prepared = await floorSource(keys);
  // The floor is one thread serving and one generating load: sharing a core they measured ~1,650
  // req/s here, on two ~2,100–2,400, and left to the scheduler either, from one run to the next.
  const run = (o: Options) => {
    const pinned = pinCores(child.pid, process.pid);
    results.meta.floorOnItsOwnCore = pinned !== undefined;
    return measure(url, child, o, async () => prepared).finally(() => pinned?.release());
  };
  const m = await run(options);
  results.cases.push(caseResult('floor', null, null, null, m));
  log(`  ${Math.round(m.rps)} req/s, ${m.errors} errors`);
  results.meta.nearbyFloorSeconds = options.nearbyFloorSeconds;
  const again = { ...options, warmupSeconds: 1, durationSeconds: options.nearbyFloorSeconds };
  return {
    rps: m.rps,
    async measureAgain() {
      await quietMachine();
      const n = await run(again);
      if (n.errors > 0) results.failures.push(`floor measured again: ${n.errors} errors: ${n.problems.join('; ')}`);
      log(`  floor again: ${Math.round(n.rps)} req/s, p99 ${n.latencyMs.p99} ms`);
      return { rps: n.rps, p99Ms: n.latencyMs.p99 };
    },
  };
}

/**
 * Each case between two measurements of the floor (the one after a case is the one before the next):
 * its ratio to the floor of the same minutes, not only to the floor of the run's start.
 */
function betweenFloors(floor: Floor | undefined) {
  let previous: NearbyFloor['after'] | undefined;
  return {
    async measure(run: () => Promise<Measurement>): Promise<{ m: Measurement; nearby: NearbyFloor | null }> {
      if (!floor) return { m: await run(), nearby: null };
      const before = previous ?? (await floor.measureAgain());
      const m = await run();
      previous = await floor.measureAgain();
      return { m, nearby: { before, after: previous } };
    },
    /** After seeding: the last floor is minutes old. */
    forget() {
      previous = undefined;
    },
  };
}

/** Starts the gateway built in `root` (this checkout's, or with --ab the other revision's). */
async function withGateway<T>(kind: DatabaseKind, body: (gw: GatewayHandle) => Promise<T>, root = repoRoot): Promise<T> {
  log(`gateway on ${kind}${root === repoRoot ? '' : ` (${root})`}: starting`);
  const gw = await startGateway({ kind, repoRoot: root, workDir, keys, postgresUrl: options.postgresUrl, cpuProfileDir });
  cleanups.push(() => gw.stop());
  try {
    return await body(gw);
  } finally {
    await gw.stop();
  }
}

/** Every endpoint once warm (JIT, validators, connection pool) before the first case: flow A in a loop. */
async function warmUp(kind: DatabaseKind, gw: GatewayHandle): Promise<void> {
  const warm = await runLoad({ url: gw.url, connections: options.connections, durationSeconds: Math.max(2, 2 * options.warmupSeconds), sources: flow(gw, keys.alipayplus.privateKey, keys.acqp.publicKey), server: gw.child });
  log(`  ${kind}: gateway warm-up, flow A (order → decode → placeOrder → notify) unthrottled: ${Math.round(warm.rps)} req/s`);
  if (warm.errors > 0) results.failures.push(`${kind}: gateway warm-up had ${warm.errors} errors: ${warm.problems.join('; ')}`);
}

/** Waits (at most 15 s) until the machine is nearly idle: the database may still be writing after a bulk load. */
async function quietMachine(): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const busy = await machineBusy(500);
    if (busy === undefined || busy < 0.1) return;
  }
}

async function runDatabase(kind: DatabaseKind, floor: Floor | undefined): Promise<void> {
  await withGateway(kind, async (gw) => {
    const store = openStore(gw.databaseUrl, gw.schema);
    try {
      await warmUp(kind, gw);
      const state: CaseState = { paidRequestIds: [], ceilingRps: floor?.rps };
      const cases = caseRunner(gw, keys, options, state);
      const floors = betweenFloors(floor);
      for (const name of options.cases) {
        const storeOrders = await countPayments(store);
        log(`  ${kind}/${name}: warm-up ${options.warmupSeconds} s, measure ${options.durationSeconds} s`);
        const { m, nearby } = await floors.measure(() => cases[name]());
        results.cases.push(caseResult(name, kind, 'empty', storeOrders, m, nearby));
        log(`    ${Math.round(m.rps)} req/s, p99 ${m.latencyMs.p99} ms, ${m.errors} errors`);
      }
      if (!options.scale) return;
      // The scale check: the read and write paths again with seedOrders more orders in the store.
      await seedForScale(kind, gw, store);
      await quietMachine();
      floors.forget();
      for (const name of scaleCases()) {
        const storeOrders = await countPayments(store);
        log(`  ${kind}/${name} with ${storeOrders} orders in the store`);
        const { m, nearby } = await floors.measure(() => cases[name]());
        results.cases.push(caseResult(name, kind, 'seeded', storeOrders, m, nearby));
        log(`    ${Math.round(m.rps)} req/s, p99 ${m.latencyMs.p99} ms, ${m.errors} errors`);
      }
    } finally {
      await store.destroy();
    }
  });
}

/** The cases the scale check measures again on the seeded store. */
const scaleCases = () => (['userInitiatedPay', 'placeOrder'] as const).filter((c) => options.cases.includes(c));

/** Adds options.seedOrders orders to the gateway's store (`store`: a connection of the bench's own). */
async function seedForScale(kind: DatabaseKind, gw: GatewayHandle, store: Knex): Promise<void> {
  log(`  ${kind}: seeding ${options.seedOrders} orders`);
  const seconds = await seedOrders(store, { databaseUrl: gw.databaseUrl, schema: gw.schema, merchantId: gw.merchant.merchantId, storeId: gw.store.storeId, entryCodeValue: gw.store.entryCode, currency: 'JPY' }, options.seedOrders);
  await settleAfterSeeding(store);
  const storeOrdersAfter = await countPayments(store);
  results.seeding.push({ db: kind, orders: options.seedOrders, seconds, storeOrdersAfter });
  log(`    ${seconds.toFixed(1)} s; ${storeOrdersAfter} orders in the store`);
}

/** --ab: each case measured on both gateways at once, in alternated slices (scripts/bench/ab.ts). */
async function runAb(kind: DatabaseKind, ab: NonNullable<Options['ab']>, baselineRoot: string): Promise<void> {
  await withGateway(
    kind,
    (baseline) =>
      withGateway(kind, async (change) => {
        await warmUp(kind, baseline);
        await warmUp(kind, change);
        const states: CaseState[] = [{ paidRequestIds: [] }, { paidRequestIds: [] }];
        const runners = [baseline, change].map((gw, i) => caseRunner(gw, keys, options, states[i]!));
        const alternate = async (names: readonly CaseName[], store: 'empty' | 'seeded') => {
          for (const name of names) {
            log(`  ${kind}/${name}${store === 'seeded' ? ' (seeded)' : ''}: ${ab.slices} slices of ${options.durationSeconds} s per build, alternated`);
            const result = await abCase(name, kind, store, ab.slices, [() => runners[0]![name](), () => runners[1]![name]()], (side, m) => {
              const cpu = cpuMsPerRequest(coresToCpuSeconds(m.serverCpuCores, m), m.requests);
              log(`    ${side === 0 ? results.ab!.baselineCommit : 'this'}: ${Math.round(m.rps)} req/s, p99 ${m.latencyMs.p99} ms${cpu === null ? '' : `, ${cpu.toFixed(3)} ms CPU/req`}, ${m.errors} errors`);
              // A slice whose warm-up ran slower than its measurement ran out of unique placeOrders.
              for (const state of states) state.ceilingRps = Math.max(state.ceilingRps ?? 0, m.rps);
            });
            results.ab!.cases.push(result);
          }
        };
        await alternate(options.cases, 'empty');
        if (!options.scale) return;
        // The scale check, side by side: both stores seeded alike, then its cases alternated again.
        for (const gw of [baseline, change]) {
          const store = openStore(gw.databaseUrl, gw.schema);
          try {
            await seedForScale(kind, gw, store);
          } finally {
            await store.destroy();
          }
        }
        await quietMachine();
        await alternate(scaleCases(), 'seeded');
      }),
    baselineRoot,
  );
}

async function runSoak(kind: DatabaseKind): Promise<void> {
  await withGateway(kind, async (gw) => {
    log(`  soak on ${kind}: ${options.soakSeconds} s at ${options.soakRate} req/s after ${options.warmupSeconds} s of warm-up`);
    const s = await soak(gw, keys, options.soakSeconds, options.soakRate, options.warmupSeconds, options.connections);
    const { rssStartBytes, rssEndBytes, rssPeakBytes, rssSeries, walPeakBytes, walEndBytes, ...rest } = s;
    results.soak = {
      ...rest,
      db: kind,
      rssStartMiB: mib(rssStartBytes),
      rssEndMiB: mib(rssEndBytes),
      rssPeakMiB: mib(rssPeakBytes),
      rssSeriesMiB: rssSeries.map(([t, b]) => [t, mib(b) ?? 0]),
      walPeakMiB: mib(walPeakBytes),
      walEndMiB: mib(walEndBytes),
    };
  });
}

async function main(): Promise<void> {
  log(`bench (${options.mode}): ${options.connections} connections, ${cpus().length} cores; results → ${options.out}`);
  const busy = await machineBusy();
  results.meta.machineBusyBefore = busy === undefined ? null : Math.round(busy * 100) / 100;
  if (busy !== undefined && busy > 0.15) {
    console.warn(`*** the machine is ${Math.round(busy * 100)} % busy before the run: other processes will lower the figures ***`);
  }
  const databases: DatabaseKind[] = [];
  for (const kind of options.databases) {
    if (kind === 'postgres') {
      const problem = await postgresReachable(options.postgresUrl);
      if (problem) {
        const message = `Postgres not reachable at ${options.postgresUrl.replace(/\/\/[^@]*@/, '//***@')} (${problem}): its cases were not run`;
        results.skipped.push(message);
        console.warn(`*** ${message} ***`);
        continue;
      }
    }
    databases.push(kind);
  }
  // The gateway under test runs as production runs it: compiled JavaScript, not through tsx.
  execFileSync(process.execPath, [join(repoRoot, 'scripts', 'build.mjs')], { cwd: repoRoot, stdio: 'inherit' });
  if (options.ab) {
    const ab = options.ab;
    const baseline = checkoutRevision(repoRoot, ab.rev, join(workDir, 'baseline'));
    cleanups.push(async () => baseline.remove());
    results.ab = { baselineRevision: ab.rev, baselineCommit: baseline.commit, sliceSeconds: options.durationSeconds, warmupSeconds: options.warmupSeconds, cases: [] };
    for (const kind of databases) await runAb(kind, ab, baseline.root).catch((error) => results.failures.push(`A/B on ${kind}: ${(error as Error).stack ?? error}`));
    return;
  }
  if (options.mode === 'soak') {
    for (const kind of databases) await runSoak(kind).catch((error) => results.failures.push(`soak on ${kind}: ${(error as Error).stack ?? error}`));
    return;
  }
  const floor = options.floor
    ? await startFloor().catch((error) => {
        results.failures.push(`floor: ${(error as Error).stack ?? error}`);
        return undefined;
      })
    : undefined;
  if (options.cases.length === 0) return;
  for (const kind of databases) await runDatabase(kind, floor).catch((error) => results.failures.push(`${kind}: ${(error as Error).stack ?? error}`));
}

try {
  await main();
} finally {
  await cleanUp();
}

addRatios(results);
results.errors =
  results.cases.reduce((n, c) => n + c.errors + c.detail.warmup.errors, 0) +
  (results.soak ? results.soak.errors + results.soak.warmup.errors : 0) +
  (results.ab?.cases.reduce((n, c) => n + c.baseline.errors + c.change.errors, 0) ?? 0);
results.meta.totalSeconds = Math.round((Date.now() - started) / 1000);
const out = resolve(repoRoot, options.out);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
log('');
log(table(results));
log('');
log(`${results.meta.date}, ${results.meta.commit ?? 'no commit'}, Node ${process.version}, ${cpus().length} × ${results.meta.cpuModel}; ${results.meta.totalSeconds} s; written to ${options.out}`);
if (cpuProfileDir) log(`CPU profiles of the gateway in ${cpuProfileDir} (summary: npx tsx scripts/bench/profile-summary.ts <file>)`);
const ok = results.errors === 0 && results.failures.length === 0;
if (!ok) console.error(`bench: ${results.errors} errors, ${results.failures.length} failures`);
process.exit(ok ? 0 : 1);
