/** `npm start`: the gateway as a process. Sandbox by default: SQLite, generated keys, printed admin token. */
import { createPublicKey } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { getHeapStatistics } from 'node:v8';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createGateway } from './gateway.js';
import { createLogger } from './logger.js';
import { ensureSandboxSecrets } from './sandbox.js';
import { createSimulator } from './simulator/index.js';

if (existsSync('.env')) process.loadEnvFile('.env');

let config: Config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}

const logger = createLogger(config.logLevel);

// The sandbox on a laptop: with no Alipay+ configured, the bundled simulator plays it, with the sandbox
// key pairs both sides already share (./data/keys).
const simulator = config.bundledSimulator
  ? await createSimulator({
      port: config.simulatorPort,
      clientId: config.clientId,
      privateKeyPem: ensureSandboxSecrets(config.dataDir).alipayplusPrivateKeyPem,
      gatewayPublicKeyPem: createPublicKey(config.privateKey).export({ type: 'spki', format: 'pem' }).toString(),
      gatewayKeyVersion: config.keyVersion,
      acquirerId: config.acquirerId,
      gatewayUrl: `http://127.0.0.1:${config.port}`,
      logger: logger.child({ component: 'simulator' }),
    })
  : undefined;
const gateway = await createGateway(config, logger);
const server = createServer(gateway.app).listen(config.port, () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  // The heap limit is a Node flag (npm run start:dist sets it), logged so an operator sees what runs.
  const heapLimitMiB = Math.round(getHeapStatistics().heap_size_limit / 2 ** 20);
  logger.info({ port, env: config.env, database: config.databaseUrl.replace(/\/\/[^@]*@/, '//***@'), heapLimitMiB }, 'gateway listening');
  if (config.env === 'sandbox') {
    const base = `http://127.0.0.1:${port}`;
    process.stdout.write(
      [
        '',
        `alipayplus-acqp sandbox is up on ${base}`,
        `  admin token:   ${config.adminToken}   (sandbox only; kept in ${config.dataDir}/keys/admin-token)`,
        `  client id:     ${config.clientId}`,
        `  Alipay+ keys:  ${config.dataDir}/keys/alipayplus-sandbox-*.pem (sign test requests with the private one)`,
        `  specs:         ${base}/openapi/acqp.yaml, ${base}/openapi/merchant.yaml   reference: ${base}/docs/`,
        simulator
          ? `  Alipay+:       the bundled simulator on ${simulator.url} (magic amounts: README, "Simulator")`
          : `  Alipay+:       ${config.alipayplusBaseUrl}`,
        '  next: onboard a merchant with POST /v1/merchants (see README, "Walkthrough")',
        '',
      ].join('\n'),
    );
  }
});

/**
 * Graceful shutdown, bounded by SHUTDOWN_TIMEOUT_MS: stop accepting, let the requests in flight
 * finish (a POST /v1/payments may wait up to PAYMENT_WAIT_MS), then stop the worker (its steps in
 * flight finish and its leases are given back), flush the audit log and close the database.
 */
let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  const forced = setTimeout(() => {
    logger.error('shutdown took too long; exiting');
    process.exit(1);
  }, config.shutdownTimeoutMs);
  forced.unref();
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
  await gateway.close();
  await simulator?.close();
  logger.info('stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
