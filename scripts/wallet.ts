/**
 * A wallet for the sandbox: plays Alipay+ when a user scans a code the gateway issued.
 *
 *   tsx scripts/wallet.ts scan <codeValue> [--amount <minor units>] [--currency <ISO>] [--gateway http://127.0.0.1:8080]
 *
 * Calls the gateway's userInitiatedPay to decode the code, prints the order, then placeOrder (seed 002)
 * with a new paymentId: the order's amount, or --amount/--currency for an entry code (currency default:
 * the decode's settlement currency, else JPY). Every exchange is printed as signed and received.
 * Signs with <ACQP_DATA_DIR>/keys/alipayplus-sandbox-private.pem (ACQP_DATA_DIR default ./data), verifies
 * with <ACQP_DATA_DIR>/keys/acqp-public.pem; client id ACQP_CLIENT_ID, acquirerId ACQUIRER_ID (sandbox
 * defaults). Exit code 0 only when placeOrder answered a correctly signed S.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SANDBOX_ACQUIRER_ID, SANDBOX_CLIENT_ID } from '../src/sandbox.js';
import { createWallet, type Exchange } from '../src/simulator/wallet.js';

const USAGE = 'usage: tsx scripts/wallet.ts scan <codeValue> [--amount <minor units>] [--currency <ISO>] [--gateway http://127.0.0.1:8080]';

function fail(message: string, code = 2): never {
  console.error(message);
  process.exit(code);
}

if (existsSync('.env')) process.loadEnvFile('.env');
const env = process.env;

function parseCommandLine() {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        amount: { type: 'string' },
        currency: { type: 'string' },
        gateway: { type: 'string', default: env.GATEWAY_URL || 'http://127.0.0.1:8080' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    fail(`${(error as Error).message}\n${USAGE}`);
  }
}
const { values, positionals } = parseCommandLine();
if (values.help) fail(USAGE, 0);
const [command, codeValue] = positionals;
if (command !== 'scan' || !codeValue || positionals.length > 2) fail(USAGE);
if (values.amount !== undefined && !/^[1-9][0-9]*$/.test(values.amount)) fail('--amount must be a positive whole number of minor units (JPY 1200 → 1200, USD 12.50 → 1250).');
if (values.currency !== undefined && !/^[A-Z]{3}$/.test(values.currency)) fail('--currency must be an ISO 4217 code in capitals, e.g. JPY.');
if (values.currency !== undefined && values.amount === undefined) fail('--currency needs --amount.');

const keysDir = join(env.ACQP_DATA_DIR || './data', 'keys');
const readKey = (name: string) => {
  const path = join(keysDir, name);
  if (!existsSync(path)) fail(`${path} is missing: start the sandbox gateway once (npm start) to create the sandbox keys, or set ACQP_DATA_DIR.`);
  return readFileSync(path, 'utf8');
};

const wallet = createWallet({
  gatewayUrl: values.gateway,
  clientId: env.ACQP_CLIENT_ID || SANDBOX_CLIENT_ID,
  privateKeyPem: readKey('alipayplus-sandbox-private.pem'),
  gatewayPublicKeyPem: readKey('acqp-public.pem'),
  gatewayKeyVersion: env.ACQP_KEY_VERSION || '1',
  acquirerId: env.ACQUIRER_ID || SANDBOX_ACQUIRER_ID,
});

// ---- printing ----------------------------------------------------------------------------------------

const indent = (text: string, by = '    ') => text.replace(/^/gm, by);

/** `signature=AbCdEfGh…XyZ%3D (344 chars)`: recognisable, not a wall of base64. */
const shorten = (signature: string | undefined) =>
  (signature ?? '(none)').replace(/signature=([^,\s]+)/, (_m, s: string) => `signature=${s.slice(0, 10)}…${s.slice(-6)} (${s.length} chars)`);

const pretty = (text: string) => {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
};

function printExchange(x: Exchange): void {
  console.log(`\n→ ${x.method} ${x.path}`);
  console.log(indent(`Client-Id: ${x.requestHeaders['Client-Id']}\nRequest-Time: ${x.requestHeaders['Request-Time']}\nSignature: ${shorten(x.requestHeaders.Signature)}`));
  console.log(indent(pretty(x.requestBody)));
  if (x.status === null) {
    console.log(`← ${x.error}`);
    return;
  }
  console.log(`← HTTP ${x.status}, signature ${x.signature.ok ? 'valid' : `NOT VALID (${x.signature.message})`}`);
  const h = x.responseHeaders;
  console.log(indent(`Client-Id: ${h['client-id'] ?? '(none)'}\nResponse-Time: ${h['response-time'] ?? '(none)'}\nSignature: ${shorten(h.signature)}`));
  console.log(indent(pretty(x.responseBody)));
}

const money = (amount: { currency: string; value: string } | undefined) => (amount ? `${amount.currency} ${amount.value} (minor units)` : '—');

function printDecoded(body: any): void {
  if (body?.result?.resultStatus !== 'S') return;
  const merchant = body.order?.merchant ?? {};
  const store = merchant.store ?? {};
  console.log(`\nDecoded ${body.codeType}`);
  console.log(`  merchant   ${merchant.merchantName} (${merchant.referenceMerchantId}, MCC ${merchant.merchantMCC})`);
  console.log(`  store      ${store.storeName} (${store.referenceStoreId})`);
  if (body.codeType === 'ORDER_CODE') {
    console.log(`  order      ${body.order.referenceOrderId}: ${body.order.orderDescription}`);
    console.log(`  amount     ${money(body.paymentAmount)}`);
    console.log(`  request id ${body.paymentRequestId}`);
    console.log(`  expires    ${body.paymentExpiryTime ?? '(Alipay+ default: 3 minutes)'}`);
  } else {
    console.log('  amount     typed by the user');
  }
  console.log(`  settles in ${body.settlementStrategy?.settlementCurrency ?? 'the payment currency'}`);
}

// ---- the scan ----------------------------------------------------------------------------------------

console.log(`Wallet (sandbox Alipay+, pspId ${wallet.pspId}, customer ${wallet.customerId}) scans ${codeValue} at ${values.gateway}`);
const scanned = await wallet.scan(codeValue, values.amount ? { value: values.amount, ...(values.currency ? { currency: values.currency } : {}) } : undefined);
printExchange(scanned.decode);
printDecoded(scanned.decode.body);
if (scanned.placeOrder) printExchange(scanned.placeOrder);
console.log(scanned.paid ? `\nPAID: placeOrder answered S, paymentRequestId ${scanned.placeOrder?.body?.paymentRequestId}` : `\nNOT PAID: ${scanned.reason}`);
process.exit(scanned.paid ? 0 : 1);
