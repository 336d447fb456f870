/**
 * Logs never carry keys, API keys, bearer tokens or full payment codes (issue #5), even at debug level
 * and when requests fail: a real gateway process, its whole output read back.
 */
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { ADMIN_TOKEN, callAlipayplus } from '../support/gateway.js';
import { ACQP_KEYS } from '../support/keys.js';
import { startGatewayProcess } from '../support/process.js';
import { tempDirs } from '../support/temp-dirs.js';

const temp = tempDirs();
afterAll(() => temp.removeAll()); // first registered, so run last (temp-dirs.ts)

const PAYMENT_CODE = '281010897274821897274821';

it('no private key, API key, bearer token or full payment code in the logs', { timeout: 60_000 }, async () => {
  const dir = temp.make('acqp-logs-');
  // Alipay+ unreachable: the payment fails its calls and logs what it does about them.
  let apiKey = '';
  const gw = await startGatewayProcess({ DATABASE_URL: `sqlite:${join(dir, 'acqp.sqlite')}`, ACQP_DATA_DIR: dir, LOG_LEVEL: 'trace', ALIPAYPLUS_BASE_URL: 'http://127.0.0.1:9', PAYMENT_WAIT_MS: '1500' });
  try {
    const post = async (path: string, token: string, body: unknown) =>
      (await fetch(`${gw.url}${path}`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) })).json();
    const merchant = await post('/v1/merchants', ADMIN_TOKEN, { referenceMerchantId: 'M-LOGS', merchantName: 'Logs', merchantMCC: '5812', merchantAddress: { region: 'JP' } });
    apiKey = merchant.apiKey;
    const store = await post('/v1/stores', merchant.apiKey, { referenceStoreId: 'S', storeName: 'S', storeMCC: '5812', address: { region: 'JP' } });
    await post('/v1/payments', merchant.apiKey, { storeId: store.storeId, referenceOrderId: 'R', orderDescription: 'x', amount: { currency: 'JPY', value: '100' }, paymentCode: PAYMENT_CODE });
    await post('/v1/payments', 'wrong-key', {});
    await callAlipayplus(gw.url, 'placeOrder', { broken: true });
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    gw.child.kill('SIGTERM');
    await gw.exited;
  }
  const output = gw.output();
  expect(output).toMatch(/"reqId".*"msg":"request"/); // it did log every request, at debug level
  expect(apiKey).toMatch(/^acqp_sk_/);
  const keyBody = ACQP_KEYS.privatePem.split('\n')[1]!;
  for (const secret of [keyBody, apiKey, PAYMENT_CODE, 'Bearer ']) expect(output).not.toContain(secret);
  // The admin token is printed once in the sandbox banner by design; never in a log line.
  expect(output.split('\n').filter((line) => line.startsWith('{') && line.includes(ADMIN_TOKEN))).toEqual([]);
});
