/**
 * A real gateway for tests: the production composition root (createGateway) on an ephemeral port,
 * a fresh database (a temporary SQLite file or a fresh Postgres schema), throwaway keys, a clock the
 * test can move, and clients that sign like Alipay+ and call the merchant API like a POS.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import pg from 'pg';
import { pino } from 'pino';
import { describe, inject } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import type { AlipayplusPort } from '../../src/domain/user-presented-payments.js';
import { createGateway, type Gateway } from '../../src/gateway.js';
import { contentToSign, loadPrivateKey, loadPublicKey, parseSignatureHeader, Signer, verifyContent } from '../../src/signing.js';
import { ACQP_KEYS, ALIPAYPLUS_KEYS } from './keys.js';

export type DatabaseKind = 'sqlite' | 'postgres';

export const ADMIN_TOKEN = 'test_admin_token_0123456789abcdefghijklmnop';
export const CLIENT_ID = 'SANDBOX_TEST_CLIENT_0001';
export const CODE_BASE_URL = 'https://pay.test.acqp.example';
export const ACQP_PATH = '/aps/api/v1/payments/';

/** Runs `suite` once per database: SQLite always, Postgres when reachable (else a visible skip). */
export function describeEachDatabase(title: string, suite: (kind: DatabaseKind) => void): void {
  describe(`${title} [sqlite]`, () => suite('sqlite'));
  const postgresUrl = inject('postgresUrl');
  if (postgresUrl) describe(`${title} [postgres]`, () => suite('postgres'));
  else describe.skip(`${title} [postgres] — SKIPPED: no Postgres reachable`, () => suite('postgres'));
}

export class TestClock {
  private offsetMs = 0;
  readonly now = (): Date => new Date(Date.now() + this.offsetMs);
  advance(seconds: number): void {
    this.offsetMs += seconds * 1000;
  }
}

export interface AlipayplusCallOptions {
  /** Replace or remove (undefined) request headers. */
  headers?: Record<string, string | undefined>;
  method?: string;
  /** Send these exact bytes instead of JSON.stringify(body). */
  rawBody?: string;
  signer?: Signer;
  /** Sign this path instead of the one called. */
  signPath?: string;
}

export interface AlipayplusAnswer {
  status: number;
  headers: Headers;
  text: string;
  body: { result: { resultCode: string; resultStatus: string; resultMessage?: string } } & Record<string, any>;
  /** The response's Signature verifies with the gateway's public key over the exact bytes received. */
  signatureValid: boolean;
}

export interface TestGateway {
  url: string;
  config: Config;
  gateway: Gateway;
  clock: TestClock;
  kind: DatabaseKind;
  /** Calls an Alipay+-facing API as Alipay+ would (signed with the test Alipay+ key). */
  alipayplus(api: string, body: unknown, options?: AlipayplusCallOptions): Promise<AlipayplusAnswer>;
  /** Calls the merchant API with a bearer token (or none). */
  merchantApi(method: string, path: string, options?: { token?: string | undefined; body?: unknown; headers?: Record<string, string> }): Promise<{ status: number; headers: Headers; body: any }>;
  onboardMerchant(overrides?: Record<string, unknown>): Promise<{ merchantId: string; apiKey: string; referenceMerchantId: string }>;
  createStore(apiKey: string, overrides?: Record<string, unknown>): Promise<{ storeId: string; entryCode: string }>;
  createOrder(apiKey: string, storeId: string, overrides?: Record<string, unknown>): Promise<{ paymentRequestId: string; codeValue: string; expiresAt: string }>;
  close(): Promise<void>;
}

export function alipayplusSigner(clientId = CLIENT_ID, privatePem = ALIPAYPLUS_KEYS.privatePem, keyVersion = '1'): Signer {
  return new Signer(clientId, loadPrivateKey(privatePem), keyVersion, new Map([['1', loadPublicKey(ACQP_KEYS.publicPem)]]));
}

const acqpPublicKey = loadPublicKey(ACQP_KEYS.publicPem);

/** Verifies a gateway response the way Alipay+ does: over the raw bytes, with Response-Time. */
export function responseSignatureValid(path: string, headers: Headers, text: string, clientId = CLIENT_ID): boolean {
  const parsed = parseSignatureHeader(headers.get('signature') ?? undefined);
  if (!parsed || headers.get('client-id') !== clientId) return false;
  const content = contentToSign('POST', path, clientId, headers.get('response-time') ?? '', text);
  return verifyContent(content, parsed.signature, acqpPublicKey);
}

/** Calls an Alipay+-facing API of the gateway at `baseUrl` as Alipay+ would: signed, raw bytes. */
export async function callAlipayplus(baseUrl: string, api: string, body: unknown, options: AlipayplusCallOptions & { requestTime?: string } = {}): Promise<AlipayplusAnswer> {
  const path = api.startsWith('/') ? api : `${ACQP_PATH}${api}`;
  const raw = options.rawBody ?? JSON.stringify(body);
  const requestTime = options.requestTime ?? new Date().toISOString();
  const signer = options.signer ?? alipayplusSigner();
  const headers = await signer.signedHeaders('Request-Time', options.signPath ?? path, requestTime, raw);
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    const existing = Object.keys(headers).find((h) => h.toLowerCase() === name.toLowerCase());
    if (existing) delete headers[existing];
    if (value !== undefined) headers[name] = value;
  }
  const method = options.method ?? 'POST';
  // Bytes, not a string: fetch would add its own text/plain Content-Type to a string body.
  const response = await fetch(`${baseUrl}${path}`, { method, headers, body: method === 'GET' || method === 'HEAD' ? undefined : Buffer.from(raw) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: JSON.parse(text), signatureValid: responseSignatureValid(path, response.headers, text) };
}

let counter = 0;

export async function startGateway(kind: DatabaseKind = 'sqlite', env: Record<string, string> = {}, alipayplus?: AlipayplusPort, port = 0): Promise<TestGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'acqp-test-'));
  const schema = `t_${process.pid}_${++counter}_${randomBytes(4).toString('hex')}`;
  const postgresUrl = inject('postgresUrl');
  if (kind === 'postgres' && !postgresUrl) throw new Error('Postgres is not reachable');
  const config = loadConfig({
    ACQP_ENV: 'sandbox',
    ACQP_DATA_DIR: dir,
    DATABASE_URL: kind === 'postgres' ? postgresUrl! : `sqlite:${join(dir, 'acqp.sqlite')}`,
    ...(kind === 'postgres' ? { DATABASE_SCHEMA: schema } : {}),
    ACQP_CLIENT_ID: CLIENT_ID,
    ACQUIRER_ID: '1020000000000000001',
    ACQP_PRIVATE_KEY: ACQP_KEYS.privatePem,
    ALIPAYPLUS_PUBLIC_KEY: ALIPAYPLUS_KEYS.publicPem,
    CODE_BASE_URL,
    ADMIN_TOKEN,
    LOG_LEVEL: 'silent',
    ...env,
  });
  const clock = new TestClock();
  const gateway = await createGateway(config, pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }), { clock: clock.now, ...(alipayplus ? { alipayplus } : {}) });
  const server: Server = await new Promise((resolve) => {
    const s = createServer(gateway.app).listen(port, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const t: TestGateway = {
    url,
    config,
    gateway,
    clock,
    kind,
    alipayplus: (api, body, options = {}) => callAlipayplus(url, api, body, { ...options, requestTime: clock.now().toISOString() }),
    async merchantApi(method, path, options = {}) {
      const headers: Record<string, string> = { ...(options.headers ?? {}) };
      if (options.token) headers.Authorization = `Bearer ${options.token}`;
      if (options.body !== undefined) headers['Content-Type'] = 'application/json';
      const response = await fetch(`${url}${path}`, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
      const text = await response.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      return { status: response.status, headers: response.headers, body };
    },
    async onboardMerchant(overrides = {}) {
      const referenceMerchantId = `M${randomBytes(6).toString('hex')}`;
      const answer = await t.merchantApi('POST', '/v1/merchants', {
        token: ADMIN_TOKEN,
        body: {
          referenceMerchantId,
          merchantName: 'Tea House',
          merchantMCC: '5812',
          merchantAddress: { region: 'JP', city: 'Tokyo' },
          ...overrides,
        },
      });
      if (answer.status !== 201) throw new Error(`onboarding failed: ${answer.status} ${JSON.stringify(answer.body)}`);
      return { merchantId: answer.body.merchantId, apiKey: answer.body.apiKey, referenceMerchantId };
    },
    async createStore(apiKey, overrides = {}) {
      const answer = await t.merchantApi('POST', '/v1/stores', {
        token: apiKey,
        body: { referenceStoreId: `S${randomBytes(4).toString('hex')}`, storeName: 'Tea House Ginza', storeMCC: '5812', address: { region: 'JP', city: 'Tokyo' }, ...overrides },
      });
      if (answer.status !== 201) throw new Error(`store creation failed: ${answer.status} ${JSON.stringify(answer.body)}`);
      return answer.body;
    },
    async createOrder(apiKey, storeId, overrides = {}) {
      const answer = await t.merchantApi('POST', '/v1/orders', {
        token: apiKey,
        body: { storeId, referenceOrderId: `ORD-${randomBytes(4).toString('hex')}`, orderDescription: 'Matcha latte', amount: { currency: 'JPY', value: '680' }, ...overrides },
      });
      if (answer.status !== 201) throw new Error(`order creation failed: ${answer.status} ${JSON.stringify(answer.body)}`);
      return answer.body;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await gateway.close();
      if (kind === 'postgres') {
        const client = new pg.Client({ connectionString: postgresUrl! });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await client.end();
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return t;
}

/** A placeOrder body as Alipay+ sends it (seed 002), for a code and amount. */
export function placeOrderBody(codeValue: string, amount: { currency: string; value: string }, overrides: Record<string, unknown> = {}) {
  return {
    acquirerId: '1020000000000000001',
    pspId: '1022172000000000001',
    codeValue,
    paymentId: `2010${randomBytes(12).toString('hex')}`,
    paymentAmount: amount,
    settlementAmount: amount,
    merchant: {
      referenceMerchantId: 'M00000000001',
      merchantName: 'UGG',
      merchantMCC: '5411',
      merchantAddress: { region: 'JP', city: 'xxx' },
      store: { referenceStoreId: 'S00000000001', storeName: 'UGG-2', storeMCC: '5411' },
    },
    customerId: '210282121122',
    env: { userAgent: 'Mozilla/5.0 (Linux; Android 9) AlipayConnect' },
    ...overrides,
  };
}
