/**
 * `npm run demo`: drives the three flows through a running sandbox gateway (`npm start`) and prints a
 * short transcript with the final states. Exits non-zero if any flow does not end as expected.
 *
 *   A. order code     — merchant creates it, a wallet scans and pays it          → SUCCEEDED
 *   B. entry code     — a wallet scans the store's code and pays JPY 1,500       → SUCCEEDED
 *   C. payment code   — the cashier charges a user's code: ordinary amount       → SUCCEEDED
 *                       magic amount 100002 (balance not enough)                  → FAILED
 *                       magic amount 100001 (unknown, then success by inquiry)    → SUCCEEDED
 *
 * GATEWAY_URL (default http://127.0.0.1:8080); the admin token and sandbox keys come from
 * ACQP_DATA_DIR (default ./data) or ADMIN_TOKEN.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SANDBOX_ACQUIRER_ID, SANDBOX_CLIENT_ID } from '../src/sandbox.js';
import { createWallet } from '../src/simulator/wallet.js';

if (existsSync('.env')) process.loadEnvFile('.env');
const gatewayUrl = process.env.GATEWAY_URL || 'http://127.0.0.1:8080';
const keys = join(process.env.ACQP_DATA_DIR || './data', 'keys');
const read = (name: string) => {
  const path = join(keys, name);
  if (!existsSync(path)) {
    console.error(`${path} is missing: start the sandbox first (npm start).`);
    process.exit(2);
  }
  return readFileSync(path, 'utf8').trim();
};
const adminToken = process.env.ADMIN_TOKEN || read('admin-token');
const wallet = createWallet({
  gatewayUrl,
  clientId: process.env.ACQP_CLIENT_ID || SANDBOX_CLIENT_ID,
  acquirerId: process.env.ACQUIRER_ID || SANDBOX_ACQUIRER_ID,
  privateKeyPem: read('alipayplus-sandbox-private.pem'),
  gatewayPublicKeyPem: read('acqp-public.pem'),
});

async function call(method: string, path: string, token: string, body?: unknown): Promise<any> {
  const response = await fetch(`${gatewayUrl}${path}`, { method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
  const answer = await response.json();
  if (response.status >= 400) throw new Error(`${method} ${path} → ${response.status} ${answer.title}: ${answer.detail}`);
  return answer;
}

const results: { flow: string; expected: string; got: string }[] = [];
function record(flow: string, expected: string, payment: { status: string; paymentRequestId: string; walletBrandName?: string | null; failure?: { resultCode: string } | null }) {
  results.push({ flow, expected, got: payment.status });
  const detail = payment.failure ? ` (${payment.failure.resultCode})` : payment.walletBrandName ? ` via ${payment.walletBrandName}` : '';
  console.log(`${payment.status === expected ? '✔' : '✘'} ${flow.padEnd(46)} ${payment.status}${detail}   ${payment.paymentRequestId}`);
}

console.log(`alipayplus-acqp demo against ${gatewayUrl}\n`);
const suffix = randomBytes(3).toString('hex');
const merchant = await call('POST', '/v1/merchants', adminToken, {
  referenceMerchantId: `DEMO-${suffix}`,
  merchantName: 'Demo Tea House',
  merchantMCC: '5812',
  merchantAddress: { region: 'JP', city: 'Tokyo' },
  settlementCurrency: 'JPY',
});
const store = await call('POST', '/v1/stores', merchant.apiKey, { referenceStoreId: 'GINZA-1', storeName: 'Demo Tea House Ginza', storeMCC: '5812', address: { region: 'JP', city: 'Tokyo' } });
console.log(`merchant ${merchant.merchantId}, store ${store.storeId}\n`);

// A. Order code: the POS shows it, the wallet decodes it (userInitiatedPay) and pays it (placeOrder).
const order = await call('POST', '/v1/orders', merchant.apiKey, { storeId: store.storeId, referenceOrderId: `A-${suffix}`, orderDescription: 'Matcha latte', amount: { currency: 'JPY', value: '680' }, terminalId: 'POS-1' });
await wallet.scan(order.codeValue);
record('A. order code, JPY 680', 'SUCCEEDED', await call('GET', `/v1/payments/${order.paymentRequestId}`, merchant.apiKey));

// B. Entry code: the user types the amount in the wallet; placeOrder creates the order.
const entry = await wallet.scan(store.entryCode, { value: '1500', currency: 'JPY' });
const entryPaymentId = entry.placeOrder?.body?.paymentRequestId as string | undefined;
record('B. entry code, JPY 1,500', 'SUCCEEDED', entryPaymentId ? await call('GET', `/v1/payments/${entryPaymentId}`, merchant.apiKey) : { status: `not placed: ${entry.reason}`, paymentRequestId: '-' });

// C. Payment code: the cashier scans the user's code; the gateway calls Alipay+ (here, the simulator).
for (const [flow, value, expected] of [
  ['C. payment code, JPY 1,200', '1200', 'SUCCEEDED'],
  ['C. payment code, 100002 (balance not enough)', '100002', 'FAILED'],
  ['C. payment code, 100001 (unknown, then success)', '100001', 'SUCCEEDED'],
] as const) {
  let payment = await call('POST', '/v1/payments', merchant.apiKey, { storeId: store.storeId, referenceOrderId: `C-${value}-${suffix}`, orderDescription: 'Sencha', amount: { currency: 'JPY', value }, paymentCode: '281010897274821897274821', terminalId: 'POS-1' });
  for (let i = 0; i < 120 && payment.status === 'PENDING'; i++) {
    await new Promise((r) => setTimeout(r, 500));
    payment = await call('GET', `/v1/payments/${payment.paymentRequestId}`, merchant.apiKey);
  }
  record(flow, expected, payment);
}

const failed = results.filter((r) => r.got !== r.expected);
console.log(`\n${results.length - failed.length}/${results.length} flows ended as expected.`);
process.exit(failed.length === 0 ? 0 : 1);
