/**
 * Summarises a V8 .cpuprofile (from `npm run bench -- --cpu-prof`): the functions with the most self
 * time, and the same grouped by package or source directory, so that tuning starts where the time goes.
 *
 *   npx tsx scripts/bench/profile-summary.ts bench/profiles/gateway-sqlite-…/CPU.….cpuprofile [--top=30] [--last=S]
 *
 * V8 writes one profile per thread: the main thread's is the large one. `--last=S` keeps only the
 * samples of the last S seconds: with one case run (`--only=<case>`), the gateway stops right after
 * its measurement, so that is the measured window without start-up and preparation. "(idle)" there is
 * time the main thread waited: for the database (SQLite runs on the libuv thread pool, which this
 * profile does not show), or for the load generator.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  startTime: number;
  endTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const file = process.argv[2];
if (!file) {
  console.error('usage: tsx scripts/bench/profile-summary.ts <file.cpuprofile> [--top=N]');
  process.exit(2);
}
const flag = (name: string) => process.argv.slice(3).map((a) => new RegExp(`^--${name}=(\\d+(?:\\.\\d+)?)$`).exec(a)?.[1]).find(Boolean);
const top = Number(flag('top') ?? 30);
const lastSeconds = flag('last') === undefined ? undefined : Number(flag('last'));
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;

// Self time per node: each sample's time delta belongs to the node sampled.
const selfUs = new Map<number, number>();
const from = lastSeconds === undefined ? -Infinity : profile.endTime - lastSeconds * 1e6;
let at = profile.startTime;
profile.samples.forEach((id, i) => {
  const delta = profile.timeDeltas[i] ?? 0;
  at += delta;
  if (at >= from) selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
});
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

/** Where a frame comes from: a package in node_modules, a project directory, node itself, or V8. */
function origin(url: string): string {
  if (!url) return '(native / V8)';
  if (url.startsWith('node:')) return url;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const local = /\/(src|scripts|test)\/(.*)$/.exec(url);
  return local ? `${local[1]}/${local[2]}` : url;
}

const byFunction = new Map<string, number>();
const byOrigin = new Map<string, number>();
for (const node of profile.nodes) {
  const us = selfUs.get(node.id) ?? 0;
  if (us === 0) continue;
  const where = origin(node.callFrame.url);
  const name = `${node.callFrame.functionName || '(anonymous)'}  ${where}${node.callFrame.url ? `:${node.callFrame.lineNumber + 1}` : ''}`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + us);
  const group = where.startsWith('src/') ? where : where.replace(/^node:.*/, 'node: (built-in modules)');
  byOrigin.set(group, (byOrigin.get(group) ?? 0) + us);
}

const print = (title: string, map: Map<string, number>, n: number) => {
  console.log(`\n${title}`);
  for (const [name, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, n)) {
    console.log(`${((us / total) * 100).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}`);
  }
};
console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled${lastSeconds === undefined ? '' : ` (the last ${lastSeconds} s)`}`);
print(`top ${top} functions by self time`, byFunction, top);
print('self time by package / source file', byOrigin, 25);
