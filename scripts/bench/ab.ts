/**
 * `npm run bench -- --ab=REV`: this checkout against another revision, on the same machine at the same
 * time. On these shared VMs whole runs of one build move by ±10–15 % from one minute to the next, the
 * floor too, so two runs cannot tell a 5 % change from noise. Here both gateways run side by side and
 * each case is measured in slices alternated between them (A B, B A, A B, …): the drift falls on both
 * alike (the same build against itself came out within ~5 %). Each side's CPU per request is measured
 * too: the gateway process's (with SQLite's work, which runs inside it) — CPU time counts only while a
 * process runs, so it moves less than req/s when the hypervisor takes cores away, but a change can
 * cost CPU yet answer sooner, or the reverse — and on Postgres its server's, shown beside it: that one
 * also holds the server's background work (checkpoints, WAL writing), which falls on one slice or
 * another, so it is much noisier.
 */
import { execFileSync } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Measurement } from './cases.js';
import type { CaseName, DatabaseKind } from './options.js';

/** One build's share of an A/B case, over all its slices. */
export interface AbSide {
  requests: number;
  seconds: number;
  rps: number;
  /** p99 and p50 of each slice, in ms. */
  p99Ms: number[];
  p50Ms: number[];
  errors: number;
  problems: string[];
  /** CPU the gateway process used over all slices; null when it could not be read (no /proc). */
  serverCpuSeconds: number | null;
  /** Postgres: CPU its server's processes used over all slices; null on SQLite or when unreadable. */
  databaseCpuSeconds: number | null;
  /** The gateway's CPU per request answered, in ms. */
  cpuMsPerRequest: number | null;
  /** Postgres: its server's CPU per request answered, in ms. */
  databaseCpuMsPerRequest: number | null;
}

export interface AbCaseResult {
  name: CaseName;
  db: DatabaseKind;
  /** `seeded`: with the scale check's orders in both stores (`--only=…,scale`). */
  store: 'empty' | 'seeded';
  slices: number;
  baseline: AbSide;
  change: AbSide;
  /** change req/s ÷ baseline req/s. */
  ratio: number;
  /** change gateway CPU per request ÷ baseline's: below 1, the change costs less. */
  cpuRatio: number | null;
}

export interface AbResults {
  baselineRevision: string;
  baselineCommit: string;
  sliceSeconds: number;
  warmupSeconds: number;
  cases: AbCaseResult[];
}

/**
 * A git worktree of `rev` in `dir`, built (its own scripts/build.mjs) and run with this checkout's
 * node_modules: a revision whose dependencies differ needs its own install instead.
 */
export function checkoutRevision(repoRoot: string, rev: string, dir: string): { root: string; commit: string; remove(): void } {
  const commit = execFileSync('git', ['rev-parse', '--short', `${rev}^{commit}`], { cwd: repoRoot, encoding: 'utf8' }).trim();
  execFileSync('git', ['worktree', 'add', '--detach', dir, commit], { cwd: repoRoot, stdio: 'ignore' });
  const remove = () => execFileSync('git', ['worktree', 'remove', '--force', dir], { cwd: repoRoot, stdio: 'ignore' });
  try {
    symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir');
    execFileSync(process.execPath, [join(dir, 'scripts', 'build.mjs')], { cwd: dir, stdio: 'inherit' });
  } catch (error) {
    remove();
    throw error;
  }
  return { root: dir, commit, remove };
}

/**
 * Measures one case in `slices` slices per build, alternated and each pair in the other order than the
 * one before, so that neither build always runs first after a preparation or a warm-up.
 */
export async function abCase(name: CaseName, db: DatabaseKind, store: AbCaseResult['store'], slices: number, run: [() => Promise<Measurement>, () => Promise<Measurement>], onSlice: (side: 0 | 1, m: Measurement) => void): Promise<AbCaseResult> {
  const sides: [AbSide, AbSide] = [emptySide(), emptySide()];
  for (let i = 0; i < slices; i++) {
    for (const j of i % 2 === 0 ? ([0, 1] as const) : ([1, 0] as const)) {
      const m = await run[j]();
      const side = sides[j];
      side.requests += m.requests;
      side.seconds += m.durationSeconds;
      side.p99Ms.push(m.latencyMs.p99);
      side.p50Ms.push(m.latencyMs.p50);
      side.errors += m.errors + m.warmup.errors;
      side.serverCpuSeconds = add(side.serverCpuSeconds, coresToCpuSeconds(m.serverCpuCores, m));
      side.databaseCpuSeconds = add(side.databaseCpuSeconds, coresToCpuSeconds(m.databaseCpuCores, m));
      for (const problem of [...m.problems, ...m.warmup.problems]) if (!side.problems.includes(problem)) side.problems.push(problem);
      onSlice(j, m);
    }
  }
  for (const side of sides) {
    side.rps = side.seconds > 0 ? Math.round(side.requests / side.seconds) : 0;
    side.cpuMsPerRequest = cpuMsPerRequest(side.serverCpuSeconds, side.requests);
    side.databaseCpuMsPerRequest = cpuMsPerRequest(side.databaseCpuSeconds, side.requests);
  }
  const [baseline, change] = sides;
  const cpuRatio = baseline.cpuMsPerRequest && change.cpuMsPerRequest !== null ? round3(change.cpuMsPerRequest / baseline.cpuMsPerRequest) : null;
  return { name, db, store, slices, baseline, change, ratio: baseline.rps > 0 ? round3(change.rps / baseline.rps) : 0, cpuRatio };
}

export const round3 = (n: number) => Math.round(n * 1000) / 1000;
/** CPU seconds a measurement's `cores` stand for, over its duration. */
export const coresToCpuSeconds = (cores: number | undefined, m: Measurement): number | undefined => (cores === undefined ? undefined : cores * m.durationSeconds);
/** A sum over slices that is unknown once one slice's part is (no /proc; on SQLite, no database server). */
const add = (sum: number | null, part: number | undefined): number | null => (sum === null || part === undefined ? null : sum + part);

/** CPU seconds spent on `requests` answers, per answer in ms; null when unknown. */
export const cpuMsPerRequest = (cpuSeconds: number | null | undefined, requests: number): number | null =>
  cpuSeconds !== null && cpuSeconds !== undefined && requests > 0 ? round3((cpuSeconds * 1000) / requests) : null;

function emptySide(): AbSide {
  return { requests: 0, seconds: 0, rps: 0, p99Ms: [], p50Ms: [], errors: 0, problems: [], serverCpuSeconds: 0, databaseCpuSeconds: 0, cpuMsPerRequest: null, databaseCpuMsPerRequest: null };
}

export const median = (values: readonly number[]): number => {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
