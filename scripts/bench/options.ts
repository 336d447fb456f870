/**
 * Command-line options of `npm run bench` and the durations of each mode.
 *
 *   npm run bench                      full run: every case 20 s after 5 s of warm-up, the floor 20 s at the
 *                                      start and 5 s between cases (the "floor nearby" of each case)
 *   npm run bench -- --quick           ~2.5 minutes on 2 cores: 3 s per case after 1 s of warm-up, floor nearby 2 s
 *   npm run bench -- --smoke           seconds per case, 10^4 seeded orders: a functional check (npm test)
 *   npm run bench -- --soak            5 minutes at a steady rate (SQLite unless --db says otherwise)
 *   --no-postgres                      SQLite only (same as --db=sqlite)
 *   --db=sqlite,postgres               which databases to run on (Postgres only where reachable)
 *   --only=floor,placeOrder,scale      cases to run (all by default); `scale` brings its two baseline cases
 *   --no-scale                         skip the 10^5-order scale check
 *   --seed-orders=N                    orders seeded for the scale check (default 100000)
 *   --duration=S --warmup=S            override the mode's seconds per case
 *   --soak-seconds=S --soak-rate=R     override the soak's 300 s and 150 req/s (~40 % of what flow A sustains unthrottled on SQLite here)
 *   --cpu-prof                         start the gateway with --cpu-prof (profiles in bench/profiles/)
 *   --out=FILE                         where to write the JSON (default bench/results.json; --ab: bench/ab-results.json)
 *   --postgres-url=URL                 default $TEST_POSTGRES_URL or postgres://postgres@127.0.0.1:5432/test
 *   --ab=REV [--slices=N]              this checkout against git revision REV, both gateways running side by
 *                                      side, each case measured in N alternated slices per build (default 8;
 *                                      3 s after 1 s of warm-up, --duration/--warmup to change): the machine's
 *                                      drift falls on both alike. SQLite unless --db says otherwise; REV runs
 *                                      with this checkout's node_modules. `--only=…,scale` also seeds both stores
 *                                      and alternates userInitiatedPay and placeOrder again on them.
 */
export type Mode = 'full' | 'quick' | 'smoke' | 'soak';
export type DatabaseKind = 'sqlite' | 'postgres';
export const CASE_NAMES = ['createOrder', 'userInitiatedPay', 'placeOrder', 'notifyPayment'] as const;
export type CaseName = (typeof CASE_NAMES)[number];

export interface Options {
  mode: Mode;
  databases: DatabaseKind[];
  cases: CaseName[];
  floor: boolean;
  scale: boolean;
  seedOrders: number;
  connections: number;
  warmupSeconds: number;
  durationSeconds: number;
  /** The floor measured again before and after each gateway case, for this long (after 1 s of warm-up). */
  nearbyFloorSeconds: number;
  soakSeconds: number;
  soakRate: number;
  cpuProf: boolean;
  out: string;
  postgresUrl: string;
  /** `--ab`: the revision compared with this checkout, and the slices per build and case. */
  ab: { rev: string; slices: number } | undefined;
}

const MODES: Record<Mode, { warmup: number; duration: number; nearbyFloor: number; seed: number }> = {
  full: { warmup: 5, duration: 20, nearbyFloor: 5, seed: 100_000 },
  quick: { warmup: 1, duration: 3, nearbyFloor: 2, seed: 100_000 },
  // The smoke run checks that every case works end to end; its figures mean little.
  smoke: { warmup: 1, duration: 2, nearbyFloor: 1, seed: 10_000 },
  soak: { warmup: 5, duration: 0, nearbyFloor: 0, seed: 0 },
};

export class UsageError extends Error {}

function positive(name: string, value: string | undefined, max: number): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > max) throw new UsageError(`--${name} must be a number between 0 and ${max}`);
  return n;
}

export function parseOptions(argv: string[]): Options {
  const flags = new Map<string, string | undefined>();
  for (const arg of argv) {
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument ${arg}`);
    const eq = arg.indexOf('=');
    flags.set(eq < 0 ? arg.slice(2) : arg.slice(2, eq), eq < 0 ? undefined : arg.slice(eq + 1));
  }
  const known = ['quick', 'smoke', 'soak', 'no-postgres', 'db', 'only', 'no-scale', 'seed-orders', 'duration', 'warmup', 'soak-seconds', 'soak-rate', 'cpu-prof', 'out', 'postgres-url', 'connections', 'ab', 'slices'];
  for (const name of flags.keys()) if (!known.includes(name)) throw new UsageError(`unknown option --${name} (known: ${known.map((k) => `--${k}`).join(' ')})`);

  const chosen = (['quick', 'smoke', 'soak'] as const).filter((m) => flags.has(m));
  if (chosen.length > 1) throw new UsageError(`choose one of --quick, --smoke, --soak (got ${chosen.join(', ')})`);
  const mode: Mode = chosen[0] ?? 'full';
  const ab = flags.has('ab') ? { rev: flags.get('ab') ?? '', slices: flags.has('slices') ? Math.round(positive('slices', flags.get('slices'), 100)) : mode === 'smoke' ? 2 : 8 } : undefined;
  if (ab && !ab.rev) throw new UsageError('--ab needs a git revision: --ab=HEAD~1');
  if (ab && mode === 'soak') throw new UsageError('--ab and --soak do not go together');
  if (!ab && flags.has('slices')) throw new UsageError('--slices goes with --ab');
  // An A/B slice is short: the alternation, not the length of one slice, is what evens out the drift.
  const defaults = ab && mode !== 'smoke' ? { ...MODES.quick, duration: 3 } : MODES[mode];

  let databases: DatabaseKind[] = mode === 'soak' || ab ? ['sqlite'] : ['sqlite', 'postgres'];
  const db = flags.get('db');
  if (db !== undefined) {
    const list = db.split(',').filter(Boolean);
    if (list.length === 0 || list.some((d) => d !== 'sqlite' && d !== 'postgres')) throw new UsageError('--db takes sqlite, postgres or both');
    databases = list as DatabaseKind[];
  }
  if (flags.has('no-postgres')) databases = databases.filter((d) => d !== 'postgres');
  if (databases.length === 0) throw new UsageError('no database left to run on');

  let cases: CaseName[] = [...CASE_NAMES];
  const only = flags.get('only');
  if (only !== undefined) {
    const list = only.split(',').filter(Boolean);
    const bad = list.filter((c) => !(CASE_NAMES as readonly string[]).includes(c) && c !== 'floor' && c !== 'scale');
    if (bad.length > 0) throw new UsageError(`--only: unknown case ${bad.join(', ')} (known: floor, ${CASE_NAMES.join(', ')}, scale)`);
    // The scale check compares with the same cases on the (nearly) empty store: it needs them too.
    cases = CASE_NAMES.filter((c) => list.includes(c) || (list.includes('scale') && (c === 'userInitiatedPay' || c === 'placeOrder')));
  }
  const onlyList = only?.split(',') ?? [];
  const floor = !ab && (only === undefined || onlyList.includes('floor'));
  // --ab seeds and compares again only when asked (`--only=…,scale`): it doubles its time.
  const scale = !flags.has('no-scale') && mode !== 'soak' && (ab ? onlyList.includes('scale') : only === undefined || onlyList.includes('scale'));

  return {
    mode,
    databases,
    cases,
    floor,
    scale,
    seedOrders: flags.has('seed-orders') ? Math.round(positive('seed-orders', flags.get('seed-orders'), 10_000_000)) : defaults.seed,
    connections: flags.has('connections') ? Math.round(positive('connections', flags.get('connections'), 1000)) : 10,
    warmupSeconds: flags.has('warmup') ? positive('warmup', flags.get('warmup'), 30) : defaults.warmup,
    durationSeconds: flags.has('duration') ? positive('duration', flags.get('duration'), 120) : defaults.duration,
    nearbyFloorSeconds: defaults.nearbyFloor,
    soakSeconds: flags.has('soak-seconds') ? positive('soak-seconds', flags.get('soak-seconds'), 3600) : 300,
    soakRate: flags.has('soak-rate') ? Math.round(positive('soak-rate', flags.get('soak-rate'), 100_000)) : 150,
    cpuProf: flags.has('cpu-prof'),
    out: flags.get('out') ?? (ab ? 'bench/ab-results.json' : 'bench/results.json'),
    postgresUrl: flags.get('postgres-url') ?? process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    ab,
  };
}
