/**
 * Real gateway processes against the signing simulator:
 * - SIGKILL while a user-presented payment is PENDING, restart on the same database: the payment
 *   completes with no new merchant call (SQLite and Postgres);
 * - two processes sharing Postgres: the same placeOrder, notifyPayment and merchant payment fired at
 *   both give one order, one payment and no double call to Alipay+; when one is killed, the other
 *   finishes its work.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createSimulator, type Simulator } from '../../src/simulator/index.js';
import { ADMIN_TOKEN, callAlipayplus, CLIENT_ID, placeOrderBody } from '../support/gateway.js';
import { ACQP_KEYS, ALIPAYPLUS_KEYS } from '../support/keys.js';
import { startGatewayProcess, type GatewayProcess } from '../support/process.js';
import { freePort } from '../support/prism.js';
import { tempDirs } from '../support/temp-dirs.js';

const temp = tempDirs();
afterAll(() => temp.removeAll()); // first registered, so run last (temp-dirs.ts)

const CODE = '281010897274821897274821';
const postgresUrl = inject('postgresUrl');
const SLOW_INQUIRIES = { INQUIRY_SCHEDULE_MS: '700,700,700,700,700,700,700,700,700,700', WORKER_LEASE_MS: '2000', WORKER_POLL_INTERVAL_MS: '50', PAYMENT_WAIT_MS: '0' };

let sim: Simulator;
let gatewayPort: number;
beforeAll(async () => {
  gatewayPort = await freePort();
  sim = await createSimulator({ clientId: CLIENT_ID, privateKeyPem: ALIPAYPLUS_KEYS.privatePem, gatewayPublicKeyPem: ACQP_KEYS.publicPem, notify: false });
});
afterAll(() => sim?.close());

const api = (gw: GatewayProcess) => async (method: string, path: string, token: string, body?: unknown, headers: Record<string, string> = {}) => {
  const r = await fetch(`${gw.url}${path}`, { method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', ...headers }, body: body ? JSON.stringify(body) : undefined });
  return { status: r.status, body: await r.json() };
};

async function onboard(gw: GatewayProcess) {
  const call = api(gw);
  const merchant = (await call('POST', '/v1/merchants', ADMIN_TOKEN, { referenceMerchantId: `M${randomBytes(4).toString('hex')}`, merchantName: 'Crash Cafe', merchantMCC: '5812', merchantAddress: { region: 'JP' } })).body;
  const store = (await call('POST', '/v1/stores', merchant.apiKey, { referenceStoreId: 'S1', storeName: 'Crash Cafe 1', storeMCC: '5812', address: { region: 'JP' } })).body;
  return { apiKey: merchant.apiKey as string, storeId: store.storeId as string };
}

const paymentBody = (storeId: string, value: string) => ({ storeId, referenceOrderId: `R-${value}`, orderDescription: 'Tea', amount: { currency: 'JPY', value }, paymentCode: CODE });

async function until<T>(read: () => Promise<T>, done: (v: T) => boolean, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function withSchema(run: (schema: string) => Promise<void>) {
  const schema = `crash_${randomBytes(4).toString('hex')}`;
  try {
    await run(schema);
  } finally {
    const client = new pg.Client({ connectionString: postgresUrl! });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  }
}

async function killedWhilePending(env: Record<string, string>) {
  const gw = await startGatewayProcess({ ...env, ...SLOW_INQUIRIES, ALIPAYPLUS_BASE_URL: sim.url }, gatewayPort);
  const { apiKey, storeId } = await onboard(gw);
  const created = await api(gw)('POST', '/v1/payments', apiKey, paymentBody(storeId, '100001'));
  expect(created.body.status).toBe('PENDING');
  const id = created.body.paymentRequestId as string;
  // Killed once the pay answer is recorded (the first inquiry has gone out): killed between sending pay
  // and recording its answer, the gateway would rightly resend the identical pay after the restart.
  await until(async () => sim.calls(id, 'inquiryPayment').length, (n) => n >= 1);
  gw.child.kill('SIGKILL');
  expect(await gw.exited).toBe('SIGKILL');
  // Really gone: nothing answers on its port any more.
  await expect(fetch(`${gw.url}/healthz`)).rejects.toThrow();

  const restarted = await gw.restart();
  try {
    // No merchant call after the restart: the schedule in the database drives the payment to its end.
    const final = await until(async () => (await api(restarted)('GET', `/v1/payments/${id}`, apiKey)).body, (p) => p.status !== 'PENDING');
    expect(final.status).toBe('SUCCEEDED');
    expect(sim.calls(id, 'pay')).toHaveLength(1);
    expect(sim.calls(id, 'inquiryPayment').length).toBeGreaterThanOrEqual(3);
  } finally {
    restarted.child.kill('SIGTERM');
    await restarted.exited;
  }
}

describe('a gateway killed (SIGKILL) while a payment is PENDING', () => {
  it('completes the payment after a restart on the same SQLite database', { timeout: 60_000 }, async () => {
    const dir = temp.make('acqp-crash-');
    await killedWhilePending({ DATABASE_URL: `sqlite:${join(dir, 'acqp.sqlite')}`, ACQP_DATA_DIR: dir });
  });

  it.skipIf(!postgresUrl)(`completes the payment after a restart on the same Postgres database${postgresUrl ? '' : ' — SKIPPED: no Postgres reachable'}`, { timeout: 60_000 }, async () => {
    await withSchema((schema) => killedWhilePending({ DATABASE_URL: postgresUrl!, DATABASE_SCHEMA: schema, ACQP_DATA_DIR: temp.make('acqp-crash-') }));
  });
});

describe.skipIf(!postgresUrl)(`two gateway processes sharing Postgres${postgresUrl ? '' : ' — SKIPPED: no Postgres reachable'}`, () => {
  it('the same placeOrder, notifyPayment and merchant payment at both: one order, one payment, no double call; a killed one’s work is finished by the other', async () => {
    await withSchema(async (schema) => {
      const env = { DATABASE_URL: postgresUrl!, DATABASE_SCHEMA: schema, ALIPAYPLUS_BASE_URL: sim.url, ACQP_DATA_DIR: temp.make('acqp-two-'), ...SLOW_INQUIRIES };
      const a = await startGatewayProcess(env);
      const b = await startGatewayProcess(env);
      try {
        const { apiKey, storeId } = await onboard(a);
        const entryCode = (await api(a)('GET', `/v1/stores/${storeId}`, apiKey)).body.entryCode as string;

        // placeOrder: the same paymentId at both, at once.
        const order = placeOrderBody(entryCode, { currency: 'JPY', value: '990' });
        const placed = await Promise.all([a, b, a, b].map((gw) => callAlipayplus(gw.url, 'placeOrder', order)));
        expect(new Set(placed.map((p) => p.text)).size).toBe(1);
        expect(placed[0]!.body.result.resultCode).toBe('SUCCESS');

        // The merchant payment: the same Idempotency-Key at both, at once; one pay to Alipay+.
        const key = { 'Idempotency-Key': `pos-${randomBytes(4).toString('hex')}` };
        const charged = await Promise.all([a, b].map((gw) => api(gw)('POST', '/v1/payments', apiKey, paymentBody(storeId, '1200'), key)));
        expect(charged[0]!.body.paymentRequestId).toBe(charged[1]!.body.paymentRequestId);
        const paymentId = charged[0]!.body.paymentRequestId as string;
        const paid = await until(async () => (await api(b)('GET', `/v1/payments/${paymentId}`, apiKey)).body, (p) => p.status === 'SUCCEEDED');
        expect(paid.status).toBe('SUCCEEDED');
        expect(sim.calls(paymentId, 'pay')).toHaveLength(1);

        // notifyPayment: the same notification at both.
        const notification = { acquirerId: '1020000000000000001', paymentRequestId: paymentId, paymentId: paid.paymentId, paymentResult: { resultCode: 'SUCCESS', resultStatus: 'S' }, paymentAmount: { currency: 'JPY', value: '1200' } };
        const acks = await Promise.all([a, b].map((gw) => callAlipayplus(gw.url, 'notifyPayment', notification)));
        expect(acks.map((x) => x.body.result.resultCode)).toEqual(['SUCCESS', 'SUCCESS']);

        const items = (await api(a)('GET', '/v1/payments?limit=200', apiKey)).body.items as { paymentId: string; scenario: string }[];
        expect(items.filter((p) => p.paymentId === order.paymentId)).toHaveLength(1);
        expect(items.filter((p) => p.scenario === 'PAYMENT_CODE')).toHaveLength(1);

        // Several pending payments, both workers running: every step is called exactly once.
        const pending = await Promise.all(['100001', '100001', '100001', '100001'].map((v, i) => api(i % 2 ? a : b)('POST', '/v1/payments', apiKey, { ...paymentBody(storeId, v), referenceOrderId: `R-${i}` })));
        const ids = pending.map((p) => p.body.paymentRequestId as string);
        for (const id of ids) await until(async () => (await api(a)('GET', `/v1/payments/${id}`, apiKey)).body.status, (s) => s === 'SUCCEEDED');
        for (const id of ids) {
          expect(sim.calls(id, 'pay'), id).toHaveLength(1);
          expect(sim.calls(id, 'inquiryPayment'), id).toHaveLength(3);
        }

        // Kill A with work pending; B finishes it.
        const orphan = (await api(a)('POST', '/v1/payments', apiKey, { ...paymentBody(storeId, '100001'), referenceOrderId: 'R-orphan' })).body.paymentRequestId as string;
        a.child.kill('SIGKILL');
        expect(await a.exited).toBe('SIGKILL');
        await expect(fetch(`${a.url}/healthz`)).rejects.toThrow();
        const done = await until(async () => (await api(b)('GET', `/v1/payments/${orphan}`, apiKey)).body.status, (s) => s === 'SUCCEEDED');
        expect(done).toBe('SUCCEEDED');
      } finally {
        for (const gw of [a, b]) {
          if (gw.child.exitCode === null && gw.child.signalCode === null) gw.child.kill('SIGTERM');
          await gw.exited;
        }
      }
    });
  }, 90_000);
});
