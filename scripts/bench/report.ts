/** The results: one JSON document (bench/results.json) and the same figures as a table. */
import { median, round3, type AbResults } from './ab.js';
import type { Measurement } from './cases.js';
import type { DatabaseKind, Mode } from './options.js';
import type { SoakResult } from './soak.js';

export interface CaseResult {
  /** e.g. `sqlite/placeOrder` or `sqlite/placeOrder@seeded`. */
  id: string;
  name: string;
  db: DatabaseKind | null;
  /** `empty`: only what earlier cases of the run created; `seeded`: with the scale check's orders. */
  store: 'empty' | 'seeded' | null;
  storeOrders: number | null;
  rps: number;
  latencyMs: { p50: number; p99: number; max: number; mean: number };
  requests: number;
  errors: number;
  peakRssMiB: number | null;
  /** SQLite: the largest the write-ahead log grew while measured. */
  peakWalMiB: number | null;
  /** rps ÷ the floor measured at the start of the run. */
  ratioToFloor: number | null;
  /**
   * The floor's req/s measured just before and just after this case (their mean): the VM's speed drifts
   * by ±15 % over minutes, so the floor of the run's start can be from a faster or slower stretch.
   */
  nearbyFloorRps: number | null;
  /**
   * How far apart the two floor measurements around the case were: |after − before| ÷ their mean.
   * The nearby ratio assumes the machine kept one speed through the case; past UNSTEADY_FLOOR it did not.
   */
  nearbyFloorSpread: number | null;
  /** The floor's p99 in those two measurements (their mean): the machine's own tail at 10 connections. */
  nearbyFloorP99Ms: number | null;
  /** rps ÷ nearbyFloorRps. */
  ratioToNearbyFloor: number | null;
  /** Scale check only: rps with the seeded store / rps with the empty store. */
  ratioToEmpty: number | null;
  /** Scale check only: the same, each side first divided by its floor nearby (the drift taken out). */
  ratioToEmptyNearbyFloor: number | null;
  detail: Omit<Measurement, 'rps' | 'latencyMs' | 'requests' | 'errors' | 'peakRssBytes' | 'peakWalBytes'>;
}

export interface BenchResults {
  meta: {
    date: string;
    mode: Mode;
    command: string;
    commit: string | null;
    node: string;
    cpus: number;
    cpuModel: string;
    connections: number;
    warmupSeconds: number;
    durationSeconds: number;
    seedOrders: number | null;
    signatureCheck: string;
    bodyCheck: string;
    /** Share of the whole machine (0–1) busy in the second before the run: others' load skews the figures. */
    machineBusyBefore: number | null;
    /**
     * Whether the floor had a core to itself and the load generator the other while it was measured
     * (processes.ts, pinCores); false where that could not be done (one core, no taskset), null when
     * no floor was measured.
     */
    floorOnItsOwnCore: boolean | null;
    /** How long the floor is measured before and after each gateway case (CaseResult.nearbyFloorRps). */
    nearbyFloorSeconds: number | null;
    totalSeconds?: number;
  };
  cases: CaseResult[];
  seeding: { db: DatabaseKind; orders: number; seconds: number; storeOrdersAfter: number }[];
  soak:
    | (Omit<SoakResult, 'rssStartBytes' | 'rssEndBytes' | 'rssPeakBytes' | 'rssSeries' | 'walPeakBytes' | 'walEndBytes'> & {
        db: DatabaseKind;
        rssStartMiB: number | null;
        rssEndMiB: number | null;
        rssPeakMiB: number | null;
        rssSeriesMiB: [number, number][];
        walPeakMiB: number | null;
        walEndMiB: number | null;
      })
    | null;
  /** `--ab`: this checkout against another revision, side by side. */
  ab: AbResults | null;
  skipped: string[];
  failures: string[];
  errors: number;
}

export const mib = (bytes: number | undefined): number | null => (bytes === undefined ? null : Math.round((bytes / 2 ** 20) * 10) / 10);

/** The floor measured just before and just after a case. */
export interface NearbyFloor {
  before: { rps: number; p99Ms: number };
  after: { rps: number; p99Ms: number };
}

/** A floor that moved more than this around a case (|after − before| ÷ mean): the case's ratios are rough. */
export const UNSTEADY_FLOOR = 0.2;

/** More CPU than this (cores) taken by the hypervisor while a case was measured: its figures are low. */
export const STOLEN_CPU_NOTED = 0.1;

export function caseResult(name: string, db: DatabaseKind | null, store: CaseResult['store'], storeOrders: number | null, m: Measurement, nearby: NearbyFloor | null = null): CaseResult {
  const { rps, latencyMs, requests, errors, peakRssBytes, peakWalBytes, ...detail } = m;
  const nearbyRps = nearby && (nearby.before.rps + nearby.after.rps) / 2;
  return {
    id: db ? `${db}/${name}${store === 'seeded' ? '@seeded' : ''}` : name,
    name,
    db,
    store,
    storeOrders,
    rps: Math.round(rps),
    latencyMs,
    requests,
    errors,
    peakRssMiB: mib(peakRssBytes),
    peakWalMiB: mib(peakWalBytes),
    ratioToFloor: null,
    nearbyFloorRps: nearbyRps === null ? null : Math.round(nearbyRps),
    nearbyFloorSpread: nearby && nearbyRps ? round3(Math.abs(nearby.after.rps - nearby.before.rps) / nearbyRps) : null,
    nearbyFloorP99Ms: nearby && (nearby.before.p99Ms + nearby.after.p99Ms) / 2,
    ratioToNearbyFloor: null,
    ratioToEmpty: null,
    ratioToEmptyNearbyFloor: null,
    detail,
  };
}

/** Fills in the ratios: to the floor of the same run (at its start and nearby), and seeded / empty for the scale check. */
export function addRatios(results: BenchResults): void {
  const floor = results.cases.find((c) => c.name === 'floor');
  const toNearbyFloor = (c: CaseResult) => (c.nearbyFloorRps ? c.rps / c.nearbyFloorRps : null);
  for (const c of results.cases) {
    if (floor && c !== floor && floor.rps > 0) c.ratioToFloor = round3(c.rps / floor.rps);
    const nearby = toNearbyFloor(c);
    if (nearby !== null) c.ratioToNearbyFloor = round3(nearby);
    if (c.store === 'seeded') {
      const empty = results.cases.find((e) => e.db === c.db && e.name === c.name && e.store === 'empty');
      if (empty && empty.rps > 0) c.ratioToEmpty = round3(c.rps / empty.rps);
      const emptyNearby = empty ? toNearbyFloor(empty) : null;
      if (nearby !== null && emptyNearby) c.ratioToEmptyNearbyFloor = round3(nearby / emptyNearby);
    }
  }
}

export function table(results: BenchResults): string {
  const header = ['case', 'db', 'orders in store', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'errors', 'peak RSS MiB', 'peak WAL MiB', '× floor', 'floor nearby', 'floor p99', '× nearby', '× empty', '× empty adj.', 'server CPU', 'db CPU', 'gen. CPU', 'stolen CPU'];
  const rows = results.cases.map((c) => [
    c.name === 'floor' ? 'floor (node:http + RSA)' : c.name === 'createOrder' ? 'POST /v1/orders' : c.name,
    c.db ?? '-',
    c.storeOrders === null ? '-' : `${formatCount(c.storeOrders)}${c.store === 'seeded' ? ' (seeded)' : ''}`,
    String(c.rps),
    fixed(c.latencyMs.p50),
    fixed(c.latencyMs.p99),
    fixed(c.latencyMs.max),
    String(c.errors),
    c.peakRssMiB === null ? '-' : c.peakRssMiB.toFixed(1),
    c.peakWalMiB === null ? '-' : c.peakWalMiB.toFixed(1),
    ratio(c.ratioToFloor),
    c.nearbyFloorRps === null ? '-' : `${c.nearbyFloorRps} ±${Math.round((c.nearbyFloorSpread ?? 0) * 50)}%`,
    c.nearbyFloorP99Ms === null ? '-' : fixed(c.nearbyFloorP99Ms),
    ratio(c.ratioToNearbyFloor),
    ratio(c.ratioToEmpty),
    ratio(c.ratioToEmptyNearbyFloor),
    c.detail.serverCpuCores === undefined ? '-' : c.detail.serverCpuCores.toFixed(2),
    c.detail.databaseCpuCores === undefined ? '-' : c.detail.databaseCpuCores.toFixed(2),
    c.detail.generatorCpuCores.toFixed(2),
    c.detail.stolenCpuCores === undefined ? '-' : c.detail.stolenCpuCores.toFixed(2),
  ]);
  const out: string[] = [];
  if (rows.length > 0) {
    out.push(...columns(header, rows, 3));
    out.push(
      '(× floor: to the floor measured at the start; floor nearby: the floor measured again just before and after the case, their mean',
      ' ± half their difference; floor p99: the floor’s own p99 in those two measurements, the machine’s tail at the same load;',
      ' × empty adj.: the scale ratio with each side first divided by its floor nearby;',
      ' server CPU / db CPU / gen. CPU: cores used by the server process, by Postgres’s processes (Postgres) and by the load generator while measured;',
      ' stolen CPU: cores the hypervisor gave to other guests meanwhile — on a shared VM, the noise in every figure)',
    );
  }
  if (results.ab) out.push(...(rows.length > 0 ? [''] : []), ...abTable(results.ab, results.meta.commit));
  if (results.soak) {
    const s = results.soak;
    out.push(
      ...(rows.length > 0 ? [''] : []),
      `soak (${s.db}, ${s.durationSeconds} s at ${s.rate} req/s, flow A: order → decode → placeOrder → notify): ${Math.round(s.rps)} req/s, ` +
        `p50 ${fixed(s.latencyMs.p50)} ms, p99 ${fixed(s.latencyMs.p99)} ms, max ${fixed(s.latencyMs.max)} ms, ${s.errors} errors, ` +
        `RSS ${s.rssStartMiB ?? '-'} MiB at start → ${s.rssEndMiB ?? '-'} MiB at end (peak ${s.rssPeakMiB ?? '-'} MiB)` +
        (s.walPeakMiB === null ? '' : `, WAL peak ${s.walPeakMiB} MiB, ${s.walEndMiB ?? '-'} MiB at end`),
    );
  }
  for (const c of results.cases) {
    if ((c.detail.stolenCpuCores ?? 0) > STOLEN_CPU_NOTED) out.push(`  ${c.id}: ${c.detail.stolenCpuCores!.toFixed(2)} of a core stolen by the hypervisor while measured: its figures are low`);
    if ((c.nearbyFloorSpread ?? 0) > UNSTEADY_FLOOR) out.push(`  ${c.id}: the floor moved by ${Math.round(c.nearbyFloorSpread! * 100)} % around this case: the machine changed speed, its ratios are rough`);
  }
  for (const c of results.cases) for (const p of [...c.detail.problems, ...c.detail.warmup.problems.map((x) => `warm-up: ${x}`)]) out.push(`  ${c.id}: ${p}`);
  if (results.soak) for (const p of [...results.soak.problems, ...results.soak.warmup.problems]) out.push(`  soak: ${p}`);
  for (const c of results.ab?.cases ?? []) {
    const id = `${c.db}/${c.name}${c.store === 'seeded' ? '@seeded' : ''}`;
    for (const p of c.baseline.problems) out.push(`  ${id} (${results.ab!.baselineCommit}): ${p}`);
    for (const p of c.change.problems) out.push(`  ${id} (this checkout): ${p}`);
  }
  for (const s of results.skipped) out.push(`SKIPPED: ${s}`);
  for (const f of results.failures) out.push(`FAILED: ${f}`);
  return out.join('\n');
}

const ratio = (r: number | null) => (r === null ? '-' : r.toFixed(2));
const fixed = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
const formatCount = (n: number) => (n >= 10_000 ? `${Math.round(n / 1000)}k` : String(n));

function abTable(ab: AbResults, commit: string | null): string[] {
  const header = ['case', 'db', `${ab.baselineCommit} req/s`, 'this req/s', '× baseline', `${ab.baselineCommit} p99 ms`, 'this p99 ms', `${ab.baselineCommit} CPU ms/req`, 'this CPU ms/req', '× CPU', 'db CPU ms/req', 'errors'];
  const perRequest = (ms: number | null) => (ms === null ? '-' : ms.toFixed(3));
  // p99: the median of the slices' p99s (one slice's p99 rests on a few dozen requests).
  const rows = ab.cases.map((c) => [
    `${c.name === 'createOrder' ? 'POST /v1/orders' : c.name}${c.store === 'seeded' ? ' (seeded)' : ''}`,
    c.db,
    String(c.baseline.rps),
    String(c.change.rps),
    c.ratio.toFixed(3),
    fixed(median(c.baseline.p99Ms)),
    fixed(median(c.change.p99Ms)),
    perRequest(c.baseline.cpuMsPerRequest),
    perRequest(c.change.cpuMsPerRequest),
    c.cpuRatio === null ? '-' : c.cpuRatio.toFixed(3),
    c.baseline.databaseCpuMsPerRequest === null || c.change.databaseCpuMsPerRequest === null ? '-' : `${perRequest(c.baseline.databaseCpuMsPerRequest)} / ${perRequest(c.change.databaseCpuMsPerRequest)}`,
    String(c.baseline.errors + c.change.errors),
  ]);
  return [
    `A/B: ${ab.baselineRevision} (${ab.baselineCommit}) against this checkout (${commit ?? 'unknown'}), side by side, ` +
      `${ab.cases[0]?.slices ?? 0} slices of ${ab.sliceSeconds} s (after ${ab.warmupSeconds} s of warm-up) per build and case, alternated`,
    ...columns(header, rows, 2),
    '(p99: the median of the slices’ p99; CPU ms/req: the gateway process’s CPU time per request answered, which steal moves less than req/s;',
    ' db CPU ms/req: the Postgres server’s, baseline / this, background work included: much noisier)',
  ];
}

/** A header, a rule and the rows, in columns: the first `textColumns` aligned left, the figures right. */
function columns(header: string[], rows: string[][], textColumns: number): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i < textColumns ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
}
