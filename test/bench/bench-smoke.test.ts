/**
 * `npm run bench -- --smoke` end to end (issue #6): the floor and every gateway case, on SQLite and on
 * Postgres when reachable, with the scale check, must run with zero errors — every answer HTTP 200/201
 * and SUCCESS, signatures valid. A functional check of the benchmark and of the gateway under
 * concurrent load; no timing is asserted (the machine may be busy with other tests). The same for
 * `--ab` (this checkout against a git revision, side by side).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, inject, it } from 'vitest';
import type { BenchResults } from '../../scripts/bench/report.js';

const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const CASES = ['createOrder', 'userInitiatedPay', 'placeOrder', 'notifyPayment'];
const SCALE_CASES = ['userInitiatedPay', 'placeOrder'];

const dir = mkdtempSync(join(tmpdir(), 'acqp-bench-smoke-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runBench(args: string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolvePromise) => {
    // The runner stops its own children (gateway, floor) on SIGTERM.
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/bench.ts', ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-20_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, output });
    });
  });
}

it('runs every case with zero errors and writes them all to the results', { timeout: 180_000 }, async () => {
  const postgresUrl = inject('postgresUrl');
  const out = join(dir, 'results.json');
  // Written next to the test, not to bench/results.json, so that a test run never replaces a real run's figures.
  const args = ['--smoke', `--out=${out}`, ...(postgresUrl ? [`--postgres-url=${postgresUrl}`] : ['--no-postgres'])];
  const { code, output } = await runBench(args, 170_000);
  expect(code, output).toBe(0);

  const results = JSON.parse(readFileSync(out, 'utf8')) as BenchResults;
  const expected = ['floor'];
  for (const db of postgresUrl ? ['sqlite', 'postgres'] : ['sqlite']) {
    expected.push(...CASES.map((c) => `${db}/${c}`), ...SCALE_CASES.map((c) => `${db}/${c}@seeded`));
  }
  expect(results.cases.map((c) => c.id).sort()).toEqual(expected.sort());
  expect(results.failures).toEqual([]);
  for (const c of results.cases) {
    expect({ id: c.id, errors: c.errors, warmupErrors: c.detail.warmup.errors }).toEqual({ id: c.id, errors: 0, warmupErrors: 0 });
    expect(c.requests, c.id).toBeGreaterThan(0);
    // Steal is read from /proc/stat, which every Linux machine has (0 on bare metal).
    expect(c.detail.stolenCpuCores, c.id).toBeGreaterThanOrEqual(0);
    // The WAL's size is watched where there is one: SQLite's.
    if (c.db === 'sqlite') expect(c.peakWalMiB, c.id).toBeGreaterThan(0);
    else expect(c.peakWalMiB, c.id).toBeNull();
    // The Postgres server's CPU is read on Postgres (it runs on this machine here), and only there.
    if (c.db === 'postgres') expect(c.detail.databaseCpuCores, c.id).toBeGreaterThan(0);
    else expect(c.detail.databaseCpuCores, c.id).toBeUndefined();
    // Every gateway case has the floor measured again around it, and its ratios to both floors.
    if (c.db !== null) {
      expect(c.nearbyFloorRps, c.id).toBeGreaterThan(0);
      expect(c.nearbyFloorP99Ms, c.id).toBeGreaterThan(0);
      expect(c.nearbyFloorSpread, c.id).toBeGreaterThanOrEqual(0);
      expect(c.ratioToFloor, c.id).toBeGreaterThan(0);
      expect(c.ratioToNearbyFloor, c.id).toBeGreaterThan(0);
    }
    if (c.store === 'seeded') expect(c.ratioToEmptyNearbyFloor, c.id).toBeGreaterThan(0);
  }
  expect(results.errors).toBe(0);
  // The floor measured with a core of its own (this machine kind: 2 cores, taskset).
  expect(results.meta.floorOnItsOwnCore).toBe(cpus().length >= 2);
});

it('--ab measures this checkout and another revision side by side, on empty and seeded stores, then removes the other’s worktree', { timeout: 300_000 }, async () => {
  const worktrees = () => execFileSync('git', ['worktree', 'list', '--porcelain'], { cwd: repoRoot, encoding: 'utf8' });
  const before = worktrees();
  const out = join(dir, 'ab-results.json');
  const { code, output } = await runBench(['--ab=HEAD', '--smoke', '--only=placeOrder,scale', `--out=${out}`], 290_000);
  expect(code, output).toBe(0);

  const results = JSON.parse(readFileSync(out, 'utf8')) as BenchResults;
  expect(results.ab?.baselineCommit).toBe(execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim());
  // `scale` brings userInitiatedPay, and both cases again once both stores are seeded.
  expect(results.ab?.cases.map((c) => `${c.db}/${c.name}@${c.store}`)).toEqual([
    'sqlite/userInitiatedPay@empty',
    'sqlite/placeOrder@empty',
    'sqlite/userInitiatedPay@seeded',
    'sqlite/placeOrder@seeded',
  ]);
  for (const c of results.ab!.cases) {
    for (const side of [c.baseline, c.change]) {
      expect(side.requests, `${c.name}@${c.store}`).toBeGreaterThan(0);
      expect(side.errors, `${c.name}@${c.store}`).toBe(0);
      expect(side.p99Ms, `${c.name}@${c.store}`).toHaveLength(2); // --smoke: two slices per build
      expect(side.cpuMsPerRequest, `${c.name}@${c.store}`).toBeGreaterThan(0);
    }
  }
  // Both stores seeded alike (--smoke: 10^4 orders each).
  expect(results.seeding.map((s) => s.orders)).toEqual([10_000, 10_000]);
  expect(results.cases).toEqual([]); // no floor, no ordinary case
  expect(worktrees()).toBe(before);
});

