/**
 * `npm run simulator`: the sandbox Alipay+ as a process, for the gateway started with `npm start`.
 *
 *   SIMULATOR_PORT          8081                   where the gateway's ALIPAYPLUS_BASE_URL points by default
 *   ACQP_DATA_DIR           ./data                 sandbox keys under <dir>/keys (created if missing, shared with the gateway)
 *   ACQP_CLIENT_ID          SANDBOX_ACQP_LOCAL_0001
 *   ACQUIRER_ID             the sandbox acquirerId
 *   ACQP_KEY_VERSION        1                      the keyVersion the gateway signs with
 *   GATEWAY_URL             http://127.0.0.1:8080  notifyPayment goes to <GATEWAY_URL>/aps/api/v1/payments/notifyPayment
 *                                                  unless pay carries a paymentNotifyUrl
 *   SIMULATOR_NOTIFY        true                   false: send no notifyPayment
 *   SIMULATOR_NOTIFY_DELAY_MS 1000
 *   SIMULATOR_TIME_SCALE    60                     divides the notification retry schedule (2 min → 2 s)
 *   SIMULATOR_PAY_HANG_MS   30000                  how long an unanswered pay holds the connection
 *   LOG_LEVEL               info
 */
import { existsSync } from 'node:fs';
import { createLogger } from '../logger.js';
import { ensureSandboxSecrets, SANDBOX_ACQUIRER_ID, SANDBOX_CLIENT_ID } from '../sandbox.js';
import { createSimulator, MAGIC_AMOUNTS, NOTIFY_RETRY_SCHEDULE_MS } from './index.js';

if (existsSync('.env')) process.loadEnvFile('.env');

function numberFrom(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  if (!/^[0-9]+(\.[0-9]+)?$/.test(value)) {
    console.error(`${name} must be a non-negative number, not ${JSON.stringify(value)}`);
    process.exit(1);
  }
  return Number(value);
}

const env = process.env;
const port = numberFrom('SIMULATOR_PORT', 8081);
const dataDir = env.ACQP_DATA_DIR || './data';
const clientId = env.ACQP_CLIENT_ID || SANDBOX_CLIENT_ID;
const gatewayUrl = env.GATEWAY_URL || 'http://127.0.0.1:8080';
const timeScale = numberFrom('SIMULATOR_TIME_SCALE', 60) || 1;
const notify = env.SIMULATOR_NOTIFY !== 'false';
const logger = createLogger(env.LOG_LEVEL || 'info');

// The sandbox key pairs the gateway also uses: the simulator signs with the Alipay+ private key and
// verifies the gateway with acqp-public.pem. Only paths are printed, never key material.
const secrets = ensureSandboxSecrets(dataDir);
const simulator = await createSimulator({
  port,
  clientId,
  privateKeyPem: secrets.alipayplusPrivateKeyPem,
  gatewayPublicKeyPem: secrets.acqpPublicKeyPem,
  gatewayKeyVersion: env.ACQP_KEY_VERSION || '1',
  acquirerId: env.ACQUIRER_ID || SANDBOX_ACQUIRER_ID,
  gatewayUrl,
  notify,
  notifyDelayMs: numberFrom('SIMULATOR_NOTIFY_DELAY_MS', 1000),
  timeScale,
  payHangMs: numberFrom('SIMULATOR_PAY_HANG_MS', 30_000),
  logger,
});

const schedule = NOTIFY_RETRY_SCHEDULE_MS.map((ms) => `${ms / timeScale / 1000} s`).join(', ');
process.stdout.write(
  [
    '',
    `Alipay+ simulator (sandbox) listening on ${simulator.url}`,
    `  plays:         POST /aps/api/v1/payments/{pay,inquiryPayment,cancelPayment}, signed, validated against openapi/alipayplus.yaml`,
    `  client id:     ${clientId}`,
    `  keys:          signs with ${secrets.dir}/alipayplus-sandbox-private.pem, verifies the gateway with ${secrets.dir}/acqp-public.pem`,
    notify
      ? `  notifyPayment: to paymentNotifyUrl or ${gatewayUrl}/aps/api/v1/payments/notifyPayment, retried after ${schedule}`
      : '  notifyPayment: off (SIMULATOR_NOTIFY=false)',
    '  magic amounts (paymentAmount.value, any currency; any other amount: S at once):',
    ...Object.entries(MAGIC_AMOUNTS).map(([amount, b]) => `    ${amount}  ${b.name.padEnd(24)} ${b.description}`),
    `  control:       GET ${simulator.url}/simulator/payments[/<paymentRequestId>], POST /simulator/scripts {paymentRequestId, magic, notify}, POST /simulator/reset`,
    '',
  ].join('\n'),
);

async function stop(signal: string): Promise<void> {
  logger.info({ signal }, 'simulator shutting down');
  await simulator.close();
  process.exit(0);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
