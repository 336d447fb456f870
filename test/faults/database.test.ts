/**
 * Database faults, injected for real: another process's write lock on the SQLite file, and the network
 * path to Postgres cut (a TCP relay the test closes). Alipay+ gets a signed U/UNKNOWN_EXCEPTION, the
 * merchant API 503, the gateway stays up and recovers when the database is back.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import knexFactory from 'knex';
import { inject } from 'vitest';
import { placeOrderBody, startGateway, type TestGateway } from '../support/gateway.js';
import { freePort } from '../support/prism.js';

const JPY = (value: string) => ({ currency: 'JPY', value });

describe('SQLite locked by another process', () => {
  let gw: TestGateway;
  let merchant: { apiKey: string };
  let store: { storeId: string; entryCode: string };
  beforeAll(async () => {
    gw = await startGateway('sqlite', { SQLITE_BUSY_TIMEOUT_MS: '200' });
    merchant = await gw.onboardMerchant();
    store = await gw.createStore(merchant.apiKey);
  });
  afterAll(() => gw?.close());

  it('answers U/UNKNOWN_EXCEPTION (signed) and 503 while locked, and works again once released', async () => {
    const filename = gw.config.databaseUrl.replace(/^sqlite:/, '');
    const other = knexFactory({ client: 'sqlite3', connection: { filename }, useNullAsDefault: true, pool: { min: 1, max: 1 } });
    await other.raw('PRAGMA busy_timeout=5000');
    const lock = await other.transaction();
    await lock.raw("INSERT INTO audit_messages (direction, api, created_at) VALUES ('IN', 'lock', '2026-01-01T00:00:00.000Z')"); // takes the write lock
    try {
      const placed = await gw.alipayplus('placeOrder', placeOrderBody(store.entryCode, JPY('100')));
      expect(placed.body.result).toMatchObject({ resultCode: 'UNKNOWN_EXCEPTION', resultStatus: 'U' });
      expect(placed.signatureValid).toBe(true);
      const order = await gw.merchantApi('POST', '/v1/orders', { token: merchant.apiKey, body: { storeId: store.storeId, referenceOrderId: 'R', orderDescription: 'x', amount: JPY('100') } });
      expect(order.status).toBe(503);
      expect(order.body.type).toBe('/problems/unavailable');
    } finally {
      await lock.rollback();
      await other.destroy();
    }
    const body = placeOrderBody(store.entryCode, JPY('100'));
    expect((await gw.alipayplus('placeOrder', body)).body.result.resultCode).toBe('SUCCESS');
    expect((await gw.merchantApi('GET', '/healthz')).status).toBe(200);
  });
});

/** A TCP relay to Postgres that the test can cut and restore, to make the database unreachable for real. */
async function relay(target: { host: string; port: number }, port: number) {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const open = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((client) => {
        const upstream = connect(target.port, target.host);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => s.destroy());
        }
        client.pipe(upstream).pipe(client);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
  await open();
  return {
    async cut() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server!.close(r));
    },
    restore: open,
  };
}

const postgresUrl = inject('postgresUrl');
describe.skipIf(!postgresUrl)(`Postgres unreachable${postgresUrl ? '' : ' — SKIPPED: no Postgres reachable'}`, () => {
  it('answers U/UNKNOWN_EXCEPTION (signed) and 503 while cut off, and recovers when the database is back', async () => {
    const target = new URL(postgresUrl!);
    const port = await freePort();
    const path = await relay({ host: target.hostname, port: Number(target.port || 5432) }, port);
    const viaRelay = new URL(postgresUrl!);
    viaRelay.port = String(port);
    const gw = await startGateway('postgres', { DATABASE_URL: viaRelay.toString(), DATABASE_ACQUIRE_TIMEOUT_MS: '1000' });
    try {
      const merchant = await gw.onboardMerchant();
      const store = await gw.createStore(merchant.apiKey);
      await path.cut();
      const placed = await gw.alipayplus('placeOrder', placeOrderBody(store.entryCode, JPY('100')));
      expect(placed.body.result).toMatchObject({ resultCode: 'UNKNOWN_EXCEPTION', resultStatus: 'U' });
      expect(placed.signatureValid).toBe(true);
      const list = await gw.merchantApi('GET', '/v1/payments', { token: merchant.apiKey });
      expect(list.status).toBe(503); // not 401: the API key cannot be checked without the database
      const ready = await gw.merchantApi('GET', '/readyz');
      expect(ready.status).toBe(503);
      await path.restore();
      let recovered = false;
      for (let i = 0; i < 50 && !recovered; i++) {
        recovered = (await gw.merchantApi('GET', '/readyz')).status === 200;
        if (!recovered) await new Promise((r) => setTimeout(r, 100));
      }
      expect(recovered).toBe(true);
      expect((await gw.alipayplus('placeOrder', placeOrderBody(store.entryCode, JPY('100')))).body.result.resultCode).toBe('SUCCESS');
    } finally {
      await gw.close();
      await path.cut();
    }
  });
});
