/**
 * The gateway as a real process (`node --import tsx src/main.ts`), for crash, signal and multi-instance
 * tests. One process, not the tsx CLI: that CLI runs the program in a child of its own, so a SIGKILL
 * sent to it would leave the gateway running (an orphan that kept answering after its "crash").
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ACQP_KEYS, ALIPAYPLUS_KEYS } from './keys.js';
import { ADMIN_TOKEN, CLIENT_ID, CODE_BASE_URL } from './gateway.js';
import { freePort } from './prism.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface GatewayProcess {
  url: string;
  port: number;
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>;
  /** Starts the same configuration again (after a kill). */
  restart(): Promise<GatewayProcess>;
}

/**
 * Runs the gateway with the test keys and ids; `env` adds or overrides variables. With `bareSandbox`
 * it is started as a newcomer would (`npm start`, nothing configured but ports and data dir): sandbox
 * keys generated, bundled simulator.
 */
export async function startGatewayProcess(env: Record<string, string>, port?: number, options: { bareSandbox?: boolean } = {}): Promise<GatewayProcess> {
  const listenPort = port ?? (await freePort());
  const testIdentity = { ACQP_CLIENT_ID: CLIENT_ID, ACQUIRER_ID: '1020000000000000001', ACQP_PRIVATE_KEY: ACQP_KEYS.privatePem, ALIPAYPLUS_PUBLIC_KEY: ALIPAYPLUS_KEYS.publicPem, CODE_BASE_URL, ADMIN_TOKEN };
  const fullEnv = {
    ...process.env,
    ACQP_ENV: 'sandbox',
    PORT: String(listenPort),
    ...(options.bareSandbox ? {} : testIdentity),
    LOG_LEVEL: 'warn',
    ...env,
  };
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  const url = `http://127.0.0.1:${listenPort}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`gateway exited during start: ${log}`);
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`gateway not ready within 30 s: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, port: listenPort, child, output: () => log, exited, restart: () => startGatewayProcess(env, listenPort, options) };
}
