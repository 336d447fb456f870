/**
 * Configuration from the environment (DESIGN §2), validated once at start with one clear message per
 * problem. In sandbox, missing keys, ids and the admin token come from ./data (generated once); in
 * production every one of them must be given.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { parseDirectIntegrations, type DirectIntegrations } from './domain/routing.js';
import { DEFAULT_SCHEDULE, type Schedule } from './domain/user-presented.js';
import { loadPrivateKey, loadPublicKey } from './signing.js';
import { ensureSandboxSecrets, SANDBOX_ACQUIRER_ID, SANDBOX_CLIENT_ID, SANDBOX_CODE_BASE_URL } from './sandbox.js';

export interface Config {
  env: 'sandbox' | 'production';
  port: number;
  databaseUrl: string;
  databaseSchema: string | undefined;
  databasePoolMax: number;
  databaseStatementTimeoutMs: number | undefined;
  clientId: string;
  acquirerId: string;
  privateKey: KeyObject;
  keyVersion: string;
  /** Alipay+ public keys by keyVersion. */
  alipayplusPublicKeys: Map<string, KeyObject>;
  alipayplusBaseUrl: string;
  /**
   * Sandbox with no Alipay+ configured (no ALIPAYPLUS_BASE_URL, no ALIPAYPLUS_PUBLIC_KEY*): `npm start`
   * runs the bundled simulator on simulatorPort, signing with the sandbox Alipay+ key.
   */
  bundledSimulator: boolean;
  simulatorPort: number;
  codeBaseUrl: string;
  adminToken: string;
  requestTimeToleranceSeconds: number;
  orderCodeTtlSeconds: number;
  settlementQuoteToleranceMinorUnits: bigint;
  bodyLimitBytes: number;
  logLevel: string;
  dataDir: string;
  directWallets: DirectIntegrations;
  paymentNotifyUrl: string | undefined;
  paymentWaitMs: number;
  schedule: Schedule;
  workerPollIntervalMs: number;
  workerLeaseMs: number;
  workerConcurrency: number;
  rateLimitAlipayplusPerSecond: number;
  rateLimitMerchantPerSecond: number;
  sqliteBusyTimeoutMs: number;
  databaseAcquireTimeoutMs: number;
  shutdownTimeoutMs: number;
}



export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const integer = (name: string, min: number, max: number) =>
  z
    .string()
    .regex(/^[0-9]+$/, `${name} must be a whole number`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `${name} must be between ${min} and ${max}`);

/** A comma-separated list of delays in milliseconds, e.g. `2000,2000,3000`. */
const delays = (name: string) =>
  z
    .string()
    .regex(/^[0-9]+(,[0-9]+)*$/, `${name} must be a comma-separated list of milliseconds`)
    .transform((v) => v.split(',').map(Number));

const scalars = z.object({
  ACQP_ENV: z.enum(['sandbox', 'production'], { message: 'ACQP_ENV must be sandbox or production' }).default('sandbox'),
  PORT: integer('PORT', 0, 65535).default(8080),
  DATABASE_URL: z
    .string()
    .regex(/^(sqlite:.+|postgres(ql)?:\/\/.+)$/, 'DATABASE_URL must be sqlite:<file> or postgres://…')
    .default('sqlite:./data/acqp.sqlite'),
  DATABASE_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'DATABASE_SCHEMA must be a lower-case SQL identifier').optional(),
  DATABASE_POOL_MAX: integer('DATABASE_POOL_MAX', 1, 200).default(10),
  DATABASE_STATEMENT_TIMEOUT_MS: integer('DATABASE_STATEMENT_TIMEOUT_MS', 1, 3_600_000).optional(),
  ACQP_CLIENT_ID: z.string().min(1).max(64).optional(),
  ACQUIRER_ID: z.string().min(1).max(64).optional(),
  ACQP_KEY_VERSION: z.string().regex(/^[0-9]{1,9}$/, 'ACQP_KEY_VERSION must be a number').default('1'),
  SIMULATOR_PORT: integer('SIMULATOR_PORT', 0, 65535).default(8081),
  ALIPAYPLUS_BASE_URL: z.url({ message: 'ALIPAYPLUS_BASE_URL must be a URL (an origin, optionally with a path prefix)' }).optional(),
  CODE_BASE_URL: z
    .string()
    .regex(/^https:\/\/[^\s?#]+$/, 'CODE_BASE_URL must be an https:// URL without query or fragment')
    .optional(),
  ADMIN_TOKEN: z.string().min(32, 'ADMIN_TOKEN must be at least 32 characters').optional(),
  REQUEST_TIME_TOLERANCE_SECONDS: integer('REQUEST_TIME_TOLERANCE_SECONDS', 1, 86_400).default(600),
  ORDER_CODE_TTL_SECONDS: integer('ORDER_CODE_TTL_SECONDS', 1, 180).default(120),
  SETTLEMENT_QUOTE_TOLERANCE_MINOR_UNITS: integer('SETTLEMENT_QUOTE_TOLERANCE_MINOR_UNITS', 0, 1_000_000).default(1),
  BODY_LIMIT_BYTES: integer('BODY_LIMIT_BYTES', 1024, 10_485_760).default(65_536),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ACQP_DATA_DIR: z.string().min(1).default('./data'),
  DIRECT_WALLETS: z.string().optional(),
  PAYMENT_NOTIFY_URL: z.url({ message: 'PAYMENT_NOTIFY_URL must be a URL' }).optional(),
  PAYMENT_WAIT_MS: integer('PAYMENT_WAIT_MS', 0, 60_000).default(10_000),
  INQUIRY_SCHEDULE_MS: delays('INQUIRY_SCHEDULE_MS').optional(),
  PAY_RETRY_SCHEDULE_MS: delays('PAY_RETRY_SCHEDULE_MS').optional(),
  CANCEL_RETRY_SCHEDULE_MS: delays('CANCEL_RETRY_SCHEDULE_MS').optional(),
  WORKER_POLL_INTERVAL_MS: integer('WORKER_POLL_INTERVAL_MS', 10, 60_000).default(250),
  WORKER_LEASE_MS: integer('WORKER_LEASE_MS', 1_000, 600_000).default(30_000),
  WORKER_CONCURRENCY: integer('WORKER_CONCURRENCY', 1, 1_000).default(16),
  RATE_LIMIT_ALIPAYPLUS_PER_SECOND: integer('RATE_LIMIT_ALIPAYPLUS_PER_SECOND', 0, 1_000_000).default(5000),
  RATE_LIMIT_MERCHANT_PER_SECOND: integer('RATE_LIMIT_MERCHANT_PER_SECOND', 0, 1_000_000).default(500),
  SQLITE_BUSY_TIMEOUT_MS: integer('SQLITE_BUSY_TIMEOUT_MS', 0, 600_000).default(5000),
  DATABASE_ACQUIRE_TIMEOUT_MS: integer('DATABASE_ACQUIRE_TIMEOUT_MS', 100, 600_000).default(5000),
  SHUTDOWN_TIMEOUT_MS: integer('SHUTDOWN_TIMEOUT_MS', 1000, 600_000).default(30_000),
});

/** A PEM value given inline or as a path to a file holding it. */
function readPem(name: string, value: string, problems: string[]): string | undefined {
  if (value.includes('-----BEGIN')) return value.replace(/\\n/g, '\n');
  if (existsSync(value)) return readFileSync(value, 'utf8');
  problems.push(`${name} is neither PEM text nor the path of an existing file`);
  return undefined;
}

function parseKey<T>(name: string, pem: string | undefined, parse: (pem: string) => T, problems: string[]): T | undefined {
  if (pem === undefined) return undefined;
  try {
    return parse(pem);
  } catch {
    problems.push(`${name} is not a valid PEM key`);
    return undefined;
  }
}

/** Reads and validates the configuration; throws ConfigError listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const blank = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = scalars.safeParse(blank);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => i.message));
  const s = parsed.data;
  const problems: string[] = [];
  const production = s.ACQP_ENV === 'production';

  const alipayKeyVars = Object.keys(blank)
    .filter((k) => /^ALIPAYPLUS_PUBLIC_KEY(_V[0-9]+)?$/.test(k))
    .sort();
  if (production) {
    for (const name of ['ACQP_CLIENT_ID', 'ACQUIRER_ID', 'ACQP_PRIVATE_KEY', 'ADMIN_TOKEN', 'CODE_BASE_URL', 'ALIPAYPLUS_BASE_URL'] as const) {
      if (!blank[name]) problems.push(`${name} is required when ACQP_ENV=production`);
    }
    if (alipayKeyVars.length === 0) problems.push('ALIPAYPLUS_PUBLIC_KEY (or ALIPAYPLUS_PUBLIC_KEY_V<n>) is required when ACQP_ENV=production');
    if (s.ACQP_CLIENT_ID?.startsWith('SANDBOX_')) problems.push('ACQP_CLIENT_ID is a sandbox client id; production needs the one Alipay+ assigned');
    if (s.CODE_BASE_URL === SANDBOX_CODE_BASE_URL) problems.push('CODE_BASE_URL is the sandbox domain; production needs a domain registered with Alipay+');
  }
  const needsSandboxSecrets = !production && (!blank.ACQP_PRIVATE_KEY || alipayKeyVars.length === 0 || !s.ADMIN_TOKEN);
  const sandbox = needsSandboxSecrets ? ensureSandboxSecrets(s.ACQP_DATA_DIR) : undefined;

  const privatePem = blank.ACQP_PRIVATE_KEY ? readPem('ACQP_PRIVATE_KEY', blank.ACQP_PRIVATE_KEY, problems) : sandbox?.acqpPrivateKeyPem;
  const privateKey = parseKey('ACQP_PRIVATE_KEY', privatePem, loadPrivateKey, problems);

  const alipayplusPublicKeys = new Map<string, KeyObject>();
  for (const name of alipayKeyVars) {
    const version = name === 'ALIPAYPLUS_PUBLIC_KEY' ? '1' : name.slice('ALIPAYPLUS_PUBLIC_KEY_V'.length).replace(/^0+(?=\d)/, '');
    if (name === 'ALIPAYPLUS_PUBLIC_KEY' && blank.ALIPAYPLUS_PUBLIC_KEY_V1) {
      problems.push('ALIPAYPLUS_PUBLIC_KEY and ALIPAYPLUS_PUBLIC_KEY_V1 are the same version; set only one');
      continue;
    }
    const key = parseKey(name, readPem(name, blank[name]!, problems), loadPublicKey, problems);
    if (key) alipayplusPublicKeys.set(version, key);
  }
  if (alipayKeyVars.length === 0 && sandbox) {
    alipayplusPublicKeys.set('1', loadPublicKey(sandbox.alipayplusPublicKeyPem));
  }

  let directWallets: DirectIntegrations = { alipayCnHk: false, routingNumbers: new Set() };
  try {
    directWallets = parseDirectIntegrations(s.DIRECT_WALLETS);
  } catch (error) {
    problems.push((error as Error).message);
  }
  if (s.INQUIRY_SCHEDULE_MS && (s.INQUIRY_SCHEDULE_MS.length < 10 || s.INQUIRY_SCHEDULE_MS.length > 20)) {
    problems.push('INQUIRY_SCHEDULE_MS must list 10 to 20 delays (seed 001: 10 to 20 inquiries within 60 s)');
  }

  if (problems.length > 0 || !privateKey) throw new ConfigError(problems);
  return {
    env: s.ACQP_ENV,
    port: s.PORT,
    databaseUrl: s.DATABASE_URL,
    databaseSchema: s.DATABASE_SCHEMA,
    databasePoolMax: s.DATABASE_POOL_MAX,
    databaseStatementTimeoutMs: s.DATABASE_STATEMENT_TIMEOUT_MS,
    clientId: s.ACQP_CLIENT_ID ?? SANDBOX_CLIENT_ID,
    acquirerId: s.ACQUIRER_ID ?? SANDBOX_ACQUIRER_ID,
    privateKey,
    keyVersion: s.ACQP_KEY_VERSION,
    alipayplusPublicKeys,
    alipayplusBaseUrl: (s.ALIPAYPLUS_BASE_URL ?? `http://127.0.0.1:${s.SIMULATOR_PORT}`).replace(/\/+$/, ''),
    bundledSimulator: !production && !s.ALIPAYPLUS_BASE_URL && alipayKeyVars.length === 0,
    simulatorPort: s.SIMULATOR_PORT,
    codeBaseUrl: (s.CODE_BASE_URL ?? SANDBOX_CODE_BASE_URL).replace(/\/+$/, ''),
    adminToken: (s.ADMIN_TOKEN ?? sandbox?.adminToken)!,
    requestTimeToleranceSeconds: s.REQUEST_TIME_TOLERANCE_SECONDS,
    orderCodeTtlSeconds: s.ORDER_CODE_TTL_SECONDS,
    settlementQuoteToleranceMinorUnits: BigInt(s.SETTLEMENT_QUOTE_TOLERANCE_MINOR_UNITS),
    bodyLimitBytes: s.BODY_LIMIT_BYTES,
    logLevel: s.LOG_LEVEL,
    dataDir: s.ACQP_DATA_DIR,
    directWallets,
    paymentNotifyUrl: s.PAYMENT_NOTIFY_URL,
    paymentWaitMs: s.PAYMENT_WAIT_MS,
    schedule: {
      inquiryDelaysMs: s.INQUIRY_SCHEDULE_MS ?? DEFAULT_SCHEDULE.inquiryDelaysMs,
      payRetryDelaysMs: s.PAY_RETRY_SCHEDULE_MS ?? DEFAULT_SCHEDULE.payRetryDelaysMs,
      cancelRetryDelaysMs: s.CANCEL_RETRY_SCHEDULE_MS ?? DEFAULT_SCHEDULE.cancelRetryDelaysMs,
    },
    workerPollIntervalMs: s.WORKER_POLL_INTERVAL_MS,
    workerLeaseMs: s.WORKER_LEASE_MS,
    workerConcurrency: s.WORKER_CONCURRENCY,
    rateLimitAlipayplusPerSecond: s.RATE_LIMIT_ALIPAYPLUS_PER_SECOND,
    rateLimitMerchantPerSecond: s.RATE_LIMIT_MERCHANT_PER_SECOND,
    sqliteBusyTimeoutMs: s.SQLITE_BUSY_TIMEOUT_MS,
    databaseAcquireTimeoutMs: s.DATABASE_ACQUIRE_TIMEOUT_MS,
    shutdownTimeoutMs: s.SHUTDOWN_TIMEOUT_MS,
  };
}
