/**
 * The bench's ratios (scripts/bench/report.ts): to the floor of the run's start, to the floor measured
 * around the case, and the scale check's seeded ÷ empty with and without each side's floor nearby;
 * and `--ab`'s comparison of two builds (scripts/bench/ab.ts).
 */
import { expect, it } from 'vitest';
import { abCase } from '../../scripts/bench/ab.js';
import type { Measurement } from '../../scripts/bench/cases.js';
import { addRatios, caseResult, table, type BenchResults, type NearbyFloor } from '../../scripts/bench/report.js';

const measurement = (rps: number): Measurement => ({
  requests: rps * 10,
  durationSeconds: 10,
  rps,
  latencyMs: { p50: 5, p99: 20, max: 40, mean: 6 },
  errors: 0,
  connectionErrors: 0,
  timeouts: 0,
  badAnswers: 0,
  problems: [],
  poolWrapped: 0,
  poolSize: 0,
  warmup: { seconds: 1, requests: rps, rps, errors: 0, problems: [] },
  peakRssBytes: 100 * 2 ** 20,
  peakWalBytes: undefined,
  serverCpuCores: 1,
  databaseCpuCores: undefined,
  generatorCpuCores: 0.2,
  stolenCpuCores: 0,
});

/** The floor around a case: `rps` before and after (same p99 both times unless given). */
const around = (before: number, after = before, p99Ms = 8): NearbyFloor => ({ before: { rps: before, p99Ms }, after: { rps: after, p99Ms } });

function results(cases: BenchResults['cases']): BenchResults {
  return { meta: { nearbyFloorSeconds: 5 } as BenchResults['meta'], cases, seeding: [], soak: null, ab: null, skipped: [], failures: [], errors: 0 };
}

it('divides each case by the floor of the start and by the floor measured around it', () => {
  const r = results([caseResult('floor', null, null, null, measurement(2000)), caseResult('placeOrder', 'sqlite', 'empty', 0, measurement(900), around(1400, 1600))]);
  addRatios(r);
  const [floor, placeOrder] = r.cases;
  expect(floor!.ratioToFloor).toBeNull();
  expect(placeOrder).toMatchObject({ ratioToFloor: 0.45, nearbyFloorRps: 1500, ratioToNearbyFloor: 0.6, nearbyFloorSpread: 0.133, nearbyFloorP99Ms: 8 });
});

it('takes the drift out of the scale ratio by dividing each side by its own floor nearby', () => {
  // The seeded run fell in a stretch where the floor, too, was 20 % slower: the store cost nothing.
  const r = results([
    caseResult('floor', null, null, null, measurement(2000)),
    caseResult('userInitiatedPay', 'sqlite', 'empty', 3000, measurement(1400), around(2000)),
    caseResult('userInitiatedPay', 'sqlite', 'seeded', 103_000, measurement(1120), around(1600)),
  ]);
  addRatios(r);
  const seeded = r.cases[2]!;
  expect(seeded.ratioToEmpty).toBe(0.8);
  expect(seeded.ratioToEmptyNearbyFloor).toBe(1);
  expect(r.cases[1]!.ratioToEmpty).toBeNull();
});

it('leaves the nearby ratios empty when no floor was measured around the case (--only without floor)', () => {
  const r = results([caseResult('placeOrder', 'sqlite', 'empty', 0, measurement(900)), caseResult('placeOrder', 'sqlite', 'seeded', 100_000, measurement(880))]);
  addRatios(r);
  expect(r.cases[1]).toMatchObject({ ratioToFloor: null, nearbyFloorRps: null, ratioToNearbyFloor: null, ratioToEmpty: 0.978, ratioToEmptyNearbyFloor: null });
  expect(table(r)).toContain('placeOrder');
});

it('shows how far the floor moved around each case, and flags a case where the machine changed speed', () => {
  const r = results([
    caseResult('floor', null, null, null, measurement(2000)),
    caseResult('userInitiatedPay', 'sqlite', 'empty', 3000, measurement(1400), around(1950, 2050, 6)),
    caseResult('placeOrder', 'sqlite', 'empty', 3000, measurement(900), { before: { rps: 1600, p99Ms: 9 }, after: { rps: 2300, p99Ms: 21 } }),
  ]);
  addRatios(r);
  expect(r.cases[1]).toMatchObject({ nearbyFloorRps: 2000, nearbyFloorSpread: 0.05, nearbyFloorP99Ms: 6 });
  expect(r.cases[2]).toMatchObject({ nearbyFloorRps: 1950, nearbyFloorSpread: 0.359, nearbyFloorP99Ms: 15 });
  const printed = table(r);
  expect(printed).toContain('2000 ±3%');
  expect(printed).toContain('1950 ±18%');
  expect(printed).toContain('sqlite/placeOrder: the floor moved by 36 % around this case');
  expect(printed).not.toContain('sqlite/userInitiatedPay: the floor moved');
});

it('shows the CPU the hypervisor took while each case was measured, and notes a case that lost much', () => {
  const r = results([
    caseResult('floor', null, null, null, measurement(2000)),
    caseResult('placeOrder', 'postgres', 'empty', 0, { ...measurement(600), stolenCpuCores: 0.35 }, around(2000)),
    caseResult('userInitiatedPay', 'postgres', 'empty', 0, { ...measurement(1400), stolenCpuCores: 0.02 }, around(2000)),
  ]);
  addRatios(r);
  const printed = table(r);
  expect(printed).toMatch(/placeOrder .* 0\.35\n/);
  expect(printed).toContain('postgres/placeOrder: 0.35 of a core stolen by the hypervisor while measured');
  expect(printed).not.toContain('postgres/userInitiatedPay: 0.02');
});

it('compares two builds by req/s and by the gateway’s CPU per request, with the Postgres server’s beside it, in slices alternated A B, B A', async () => {
  const order: string[] = [];
  // The baseline answers 1,000 req/s for 1.2 ms of gateway CPU and 0.2 ms of Postgres each; the change 900 req/s for 1.0 + 0.3 ms.
  // Cores: CPU seconds per second, i.e. req/s × CPU ms per request ÷ 1000; no database server on SQLite.
  const slice = (name: string, rps: number, gatewayMs: number, databaseMs?: number) => async (): Promise<Measurement> => {
    order.push(name);
    return { ...measurement(rps), serverCpuCores: (rps * gatewayMs) / 1000, databaseCpuCores: databaseMs === undefined ? undefined : (rps * databaseMs) / 1000 };
  };
  const c = await abCase('placeOrder', 'postgres', 'empty', 3, [slice('A', 1000, 1.2, 0.2), slice('B', 900, 1, 0.3)], () => {});
  expect(order).toEqual(['A', 'B', 'B', 'A', 'A', 'B']);
  expect(c).toMatchObject({
    ratio: 0.9,
    cpuRatio: 0.833,
    baseline: { rps: 1000, cpuMsPerRequest: 1.2, databaseCpuMsPerRequest: 0.2 },
    change: { rps: 900, cpuMsPerRequest: 1, databaseCpuMsPerRequest: 0.3 },
  });
  const printed = table({ ...results([]), ab: { baselineRevision: 'HEAD', baselineCommit: 'abc1234', sliceSeconds: 10, warmupSeconds: 1, cases: [c] } });
  expect(printed).toContain('abc1234 CPU ms/req');
  expect(printed).toMatch(/placeOrder +postgres +1000 +900 +0\.900 +20\.0 +20\.0 +1\.200 +1\.000 +0\.833 +0\.200 \/ 0\.300 +0\n/);

  // On SQLite the database runs inside the gateway: there is no server of its own to count.
  const sqlite = await abCase('placeOrder', 'sqlite', 'empty', 2, [slice('A', 1000, 1), slice('B', 1000, 1.1)], () => {});
  expect(sqlite).toMatchObject({ cpuRatio: 1.1, baseline: { cpuMsPerRequest: 1, databaseCpuSeconds: null, databaseCpuMsPerRequest: null } });
});

it('leaves CPU per request empty where it could not be read: the gateway’s, or the Postgres server’s (on another machine)', async () => {
  const c = await abCase('userInitiatedPay', 'postgres', 'empty', 2, [async () => ({ ...measurement(1000), databaseCpuCores: 0.2 }), async () => ({ ...measurement(1000), serverCpuCores: undefined })], () => {});
  expect(c).toMatchObject({
    cpuRatio: null,
    baseline: { cpuMsPerRequest: 1, databaseCpuMsPerRequest: 0.2 },
    change: { cpuMsPerRequest: null, serverCpuSeconds: null, databaseCpuMsPerRequest: null },
  });
  expect(table({ ...results([]), ab: { baselineRevision: 'HEAD', baselineCommit: 'abc1234', sliceSeconds: 10, warmupSeconds: 1, cases: [c] } })).toMatch(/1\.000 +- +- +- +0\n/);
});

it('shows the cores the Postgres server used beside the gateway’s', () => {
  const r = results([caseResult('placeOrder', 'postgres', 'empty', 0, { ...measurement(1000), serverCpuCores: 0.93, databaseCpuCores: 0.31 }), caseResult('placeOrder', 'sqlite', 'empty', 0, measurement(1000))]);
  const printed = table(r);
  expect(printed).toContain('db CPU');
  expect(printed).toMatch(/placeOrder +postgres .* 0\.93 +0\.31 +0\.20 +0\.00\n/);
  expect(printed).toMatch(/placeOrder +sqlite .* 1\.00 +- +0\.20 +0\.00\n/);
});
