/**
 * SIGTERM to a real gateway process: it stops accepting, finishes the request in flight, gives back
 * its leases and exits 0 within the bound. Alipay+ here is a slow endpoint (1.5 s, then HTTP 502).
 */
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import knexFactory from 'knex';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ADMIN_TOKEN } from '../support/gateway.js';
import { startGatewayProcess } from '../support/process.js';
import { freePort } from '../support/prism.js';
import { tempDirs } from '../support/temp-dirs.js';

const temp = tempDirs();
afterAll(() => temp.removeAll()); // first registered, so run last (temp-dirs.ts)

let slowAlipayplus: Server;
let alipayplusUrl: string;
beforeAll(async () => {
  const port = await freePort();
  slowAlipayplus = createServer((_req, res) => setTimeout(() => res.writeHead(502, { 'Content-Type': 'text/html' }).end('<html>bad gateway</html>'), 1500));
  await new Promise<void>((r) => slowAlipayplus.listen(port, '127.0.0.1', () => r()));
  alipayplusUrl = `http://127.0.0.1:${port}`;
});
afterAll(() => new Promise((r) => slowAlipayplus.close(r)));

it('SIGTERM: finishes the request in flight, refuses new connections, releases its leases, exits 0', async () => {
  const dir = temp.make('acqp-sigterm-');
  const database = join(dir, 'acqp.sqlite');
  const gw = await startGatewayProcess({ DATABASE_URL: `sqlite:${database}`, ACQP_DATA_DIR: dir, ALIPAYPLUS_BASE_URL: alipayplusUrl, PAYMENT_WAIT_MS: '2500', SHUTDOWN_TIMEOUT_MS: '10000' });
  const call = (method: string, path: string, token: string, body?: unknown) =>
    fetch(`${gw.url}${path}`, { method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: body ? JSON.stringify(body) : undefined }).then(async (r) => ({ status: r.status, body: await r.json() }));
  const merchant = (await call('POST', '/v1/merchants', ADMIN_TOKEN, { referenceMerchantId: 'M-SIG', merchantName: 'Sig', merchantMCC: '5812', merchantAddress: { region: 'JP' } })).body;
  const store = (await call('POST', '/v1/stores', merchant.apiKey, { referenceStoreId: 'S', storeName: 'S', storeMCC: '5812', address: { region: 'JP' } })).body;

  const inFlight = call('POST', '/v1/payments', merchant.apiKey, { storeId: store.storeId, referenceOrderId: 'R', orderDescription: 'x', amount: { currency: 'JPY', value: '100' }, paymentCode: '281010897274821897274821' });
  await new Promise((r) => setTimeout(r, 500));
  const signalledAt = Date.now();
  gw.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 200));
  await expect(fetch(`${gw.url}/healthz`)).rejects.toThrow();

  const answer = await inFlight;
  expect(answer.status).toBe(201);
  expect(answer.body.status).toBe('PENDING');
  expect(await gw.exited).toBe(0);
  expect(Date.now() - signalledAt).toBeLessThan(10_000);

  const db = knexFactory({ client: 'sqlite3', connection: { filename: database }, useNullAsDefault: true });
  const leased = await db('payment_schedule').whereNotNull('lease_owner');
  await db.destroy();
  expect(leased).toEqual([]);
});
