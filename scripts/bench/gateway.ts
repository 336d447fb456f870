/**
 * The gateway under test: `dist/main.js` (built by `npm run build`) run with the Node flags of
 * `npm run start:dist`, as production runs it, as a child process with its own data directory,
 * database (a SQLite file there, or a fresh Postgres schema dropped afterwards), throwaway
 * keys and admin token. Then a merchant and a store, onboarded through the merchant API like a POS.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { DatabaseKind } from './options.js';
import { freePort, startChild, waitReady, type Child } from './processes.js';
import { ACQUIRER_ID, CLIENT_ID, CODE_BASE_URL, JPY, type BenchKeys } from './requests.js';

export interface GatewayHandle {
  kind: DatabaseKind;
  url: string;
  child: Child;
  databaseUrl: string;
  /** SQLite: the database's write-ahead log, whose size the bench reports (it must not grow without end). */
  walFile: string | undefined;
  schema: string | undefined;
  adminToken: string;
  merchant: { merchantId: string; apiKey: string };
  store: { storeId: string; entryCode: string };
  /** Creates `count` order codes through the merchant API, `parallel` at a time; returns their codeValues. */
  createOrders(count: number, expiresInSeconds: number, parallel?: number): Promise<{ codeValue: string; paymentRequestId: string }[]>;
  stop(): Promise<void>;
}

export interface GatewayOptions {
  kind: DatabaseKind;
  repoRoot: string;
  workDir: string;
  keys: BenchKeys;
  postgresUrl: string;
  /** Directory for --cpu-prof, or undefined. */
  cpuProfileDir: string | undefined;
}

/**
 * Every configuration variable the gateway reads is set here or removed, so that the caller's
 * environment cannot change what is measured (a .env file in the repository could still add others).
 */
const GATEWAY_VARIABLES =
  /^(ACQP_|ALIPAYPLUS_|DATABASE_|RATE_LIMIT_|WORKER_|PAYMENT_|INQUIRY_|PAY_RETRY|CANCEL_RETRY|ORDER_CODE|SETTLEMENT_|REQUEST_TIME|BODY_LIMIT|DIRECT_WALLETS|CODE_BASE_URL|ADMIN_TOKEN|ACQUIRER_ID|LOG_LEVEL|PORT$|SQLITE_)/;

/** The Node flags of `npm run start:dist` (package.json): the bench measures what production runs. */
function productionNodeFlags(repoRoot: string): string[] {
  const script = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts['start:dist'] ?? '';
  const match = /^node((?:\s+--\S+)*)\s+dist\/main\.js$/.exec(script);
  if (!match) throw new Error(`package.json's start:dist should read "node [--flag ...] dist/main.js", not "${script}"`);
  return match[1]!.trim().split(/\s+/).filter(Boolean);
}

export async function startGateway(options: GatewayOptions): Promise<GatewayHandle> {
  const { kind, keys } = options;
  const dataDir = join(options.workDir, `gateway-${kind}-${randomBytes(3).toString('hex')}`);
  mkdirSync(join(dataDir, 'bench-keys'), { recursive: true });
  const privateKeyFile = join(dataDir, 'bench-keys', 'acqp-private.pem');
  const alipayplusKeyFile = join(dataDir, 'bench-keys', 'alipayplus-public.pem');
  writeFileSync(privateKeyFile, keys.acqp.privatePem, { mode: 0o600 });
  writeFileSync(alipayplusKeyFile, keys.alipayplus.publicPem);

  const schema = kind === 'postgres' ? `bench_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}` : undefined;
  const databaseUrl = kind === 'postgres' ? options.postgresUrl : `sqlite:${join(dataDir, 'acqp.sqlite')}`;
  const adminToken = `bench_admin_${randomBytes(24).toString('hex')}`;
  const port = await freePort();
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !GATEWAY_VARIABLES.test(k)));
  Object.assign(env, {
    ACQP_ENV: 'sandbox',
    PORT: String(port),
    DATABASE_URL: databaseUrl,
    ...(schema ? { DATABASE_SCHEMA: schema } : {}),
    ACQP_DATA_DIR: dataDir,
    ACQP_CLIENT_ID: CLIENT_ID,
    ACQUIRER_ID,
    ACQP_PRIVATE_KEY: privateKeyFile,
    ALIPAYPLUS_PUBLIC_KEY: alipayplusKeyFile,
    ADMIN_TOKEN: adminToken,
    CODE_BASE_URL,
    // Never called by these cases (user-presented pay goes there); a closed local port if it ever were.
    ALIPAYPLUS_BASE_URL: 'http://127.0.0.1:9',
    LOG_LEVEL: 'silent',
    // The bench measures capacity: the per-client rate limits (when the gateway has them) are off.
    RATE_LIMIT_ALIPAYPLUS_PER_SECOND: '0',
    RATE_LIMIT_MERCHANT_PER_SECOND: '0',
  });
  // One directory per gateway: V8 writes one profile per thread (the signing thread has its own; the
  // main thread's profile is the larger file).
  const profileDir = options.cpuProfileDir ? join(options.cpuProfileDir, `gateway-${kind}-${new Date().toISOString().replace(/[:.]/g, '-')}`) : undefined;
  const args = [...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), ...productionNodeFlags(options.repoRoot), '--import', './scripts/bench/process-title.mjs', 'dist/main.js'];
  env.BENCH_PROCESS_TITLE = `acqp-bench-gateway-${kind}`;
  const child = startChild(`gateway (${kind})`, args, env, options.repoRoot);
  const url = `http://127.0.0.1:${port}`;

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await child.stop();
      if (schema) await dropSchema(options.postgresUrl, schema);
    })());
  try {
    await waitReady(child, `${url}/readyz`);
    const call = async (path: string, token: string, body: unknown, expected: number) => {
      const response = await fetch(`${url}${path}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
      const text = await response.text();
      if (response.status !== expected) throw new Error(`POST ${path} answered ${response.status}: ${text.slice(0, 300)}`);
      return JSON.parse(text) as Record<string, string>;
    };
    const merchant = await call(
      '/v1/merchants',
      adminToken,
      {
        referenceMerchantId: `MBENCH${randomBytes(4).toString('hex')}`,
        merchantName: 'Tea House',
        merchantMCC: '5812',
        merchantAddress: { region: 'JP', city: 'Tokyo' },
        settlementCurrency: 'JPY',
        acceptedCurrencies: ['JPY'],
      },
      201,
    );
    const apiKey = merchant.apiKey!;
    const store = await call('/v1/stores', apiKey, { referenceStoreId: 'GINZA-1', storeName: 'Tea House Ginza', storeMCC: '5812', address: { region: 'JP', city: 'Tokyo' } }, 201);

    return {
      kind,
      url,
      child,
      databaseUrl,
      walFile: kind === 'sqlite' ? `${databaseUrl.slice('sqlite:'.length)}-wal` : undefined,
      schema,
      adminToken,
      merchant: { merchantId: merchant.merchantId!, apiKey },
      store: { storeId: store.storeId!, entryCode: store.entryCode! },
      async createOrders(count, expiresInSeconds, parallel = 8) {
        const out: { codeValue: string; paymentRequestId: string }[] = [];
        let next = 0;
        const worker = async () => {
          while (next < count) {
            const i = next++;
            const order = await call('/v1/orders', apiKey, { storeId: store.storeId, referenceOrderId: `ORD-B-${i}`, orderDescription: 'Matcha latte', amount: JPY('680'), terminalId: 'POS-1', expiresInSeconds }, 201);
            out.push({ codeValue: order.codeValue!, paymentRequestId: order.paymentRequestId! });
          }
        };
        await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
        return out;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

export async function postgresReachable(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    return null;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end().catch(() => undefined);
  }
}
