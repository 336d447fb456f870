/**
 * The sandbox as a newcomer runs it: `npm start` with nothing configured (sandbox keys generated, the
 * bundled simulator), then `npm run demo` drives the three flows and must exit 0, and the wallet CLI
 * pays an order code and an entry code.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort } from '../support/prism.js';
import { startGatewayProcess, type GatewayProcess } from '../support/process.js';
import { tempDirs } from '../support/temp-dirs.js';

const temp = tempDirs();
afterAll(() => temp.removeAll()); // first registered, so run last (temp-dirs.ts)

const run = promisify(execFile);
let gw: GatewayProcess;
let env: Record<string, string>;
beforeAll(async () => {
  const dir = temp.make('acqp-sandbox-');
  env = { ACQP_DATA_DIR: dir, DATABASE_URL: `sqlite:${join(dir, 'acqp.sqlite')}`, SIMULATOR_PORT: String(await freePort()) };
  gw = await startGatewayProcess(env, undefined, { bareSandbox: true });
});
afterAll(async () => {
  gw?.child.kill('SIGTERM');
  await gw?.exited;
});

const tsx = (script: string, args: string[] = []) =>
  run('node_modules/.bin/tsx', [script, ...args], { env: { ...process.env, ...env, GATEWAY_URL: gw.url }, timeout: 120_000 }).catch((error: { code: number; stdout: string; stderr: string }) => error);

it('npm run demo drives all three flows to their expected final states', { timeout: 150_000 }, async () => {
  const result = (await tsx('scripts/demo.ts')) as { code?: number; stdout: string; stderr: string };
  expect(result.code ?? 0, `${result.stdout}\n${result.stderr}`).toBe(0);
  expect(result.stdout).toContain('5/5 flows ended as expected.');
});

it('the wallet CLI pays an order code and an entry code against the running gateway', { timeout: 60_000 }, async () => {
  const admin = (await run('cat', [join(env.ACQP_DATA_DIR!, 'keys', 'admin-token')])).stdout.trim();
  const call = async (path: string, token: string, body: unknown) =>
    (await fetch(`${gw.url}${path}`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) })).json();
  const merchant = await call('/v1/merchants', admin, { referenceMerchantId: 'M-WALLET', merchantName: 'Wallet Cafe', merchantMCC: '5812', merchantAddress: { region: 'JP' } });
  const store = await call('/v1/stores', merchant.apiKey, { referenceStoreId: 'S1', storeName: 'Wallet Cafe 1', storeMCC: '5812', address: { region: 'JP' } });
  const order = await call('/v1/orders', merchant.apiKey, { storeId: store.storeId, referenceOrderId: 'R1', orderDescription: 'Tea', amount: { currency: 'JPY', value: '500' } });
  const paidOrder = (await tsx('scripts/wallet.ts', ['scan', order.codeValue, '--gateway', gw.url])) as { code?: number; stdout: string };
  expect(paidOrder.code ?? 0, paidOrder.stdout).toBe(0);
  expect(paidOrder.stdout).toContain('Decoded ORDER_CODE');
  const paidEntry = (await tsx('scripts/wallet.ts', ['scan', store.entryCode, '--amount', '1200', '--currency', 'JPY', '--gateway', gw.url])) as { code?: number; stdout: string };
  expect(paidEntry.code ?? 0, paidEntry.stdout).toBe(0);
  const list = await (await fetch(`${gw.url}/v1/payments`, { headers: { Authorization: `Bearer ${merchant.apiKey}` } })).json();
  expect(list.items.map((p: { scenario: string; status: string }) => `${p.scenario} ${p.status}`).sort()).toEqual(['ENTRY_CODE SUCCEEDED', 'ORDER_CODE SUCCEEDED']);
});
