/**
 * Sandbox material, generated once under <dataDir>/keys and reused on every start: the gateway's key
 * pair, the key pair of the sandbox Alipay+ (the local simulator signs with its private half), and the
 * admin token. Throwaway values for a laptop; production refuses to start without real ones.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SANDBOX_CLIENT_ID = 'SANDBOX_ACQP_LOCAL_0001';
export const SANDBOX_ACQUIRER_ID = '1020000000000000001';
export const SANDBOX_CODE_BASE_URL = 'https://pay.sandbox.acqp.example';

export interface SandboxSecrets {
  acqpPrivateKeyPem: string;
  acqpPublicKeyPem: string;
  alipayplusPrivateKeyPem: string;
  alipayplusPublicKeyPem: string;
  adminToken: string;
  dir: string;
}

function keyPair(dir: string, name: string): { privatePem: string; publicPem: string } {
  const privatePath = join(dir, `${name}-private.pem`);
  const publicPath = join(dir, `${name}-public.pem`);
  if (!existsSync(privatePath) || !existsSync(publicPath)) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    writeFileSync(privatePath, privateKey, { mode: 0o600 });
    writeFileSync(publicPath, publicKey);
  }
  return { privatePem: readFileSync(privatePath, 'utf8'), publicPem: readFileSync(publicPath, 'utf8') };
}

export function ensureSandboxSecrets(dataDir: string): SandboxSecrets {
  const dir = join(dataDir, 'keys');
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o700);
  const acqp = keyPair(dir, 'acqp');
  const alipayplus = keyPair(dir, 'alipayplus-sandbox');
  const tokenPath = join(dir, 'admin-token');
  if (!existsSync(tokenPath)) writeFileSync(tokenPath, `sandbox_admin_${randomBytes(24).toString('base64url')}\n`, { mode: 0o600 });
  return {
    acqpPrivateKeyPem: acqp.privatePem,
    acqpPublicKeyPem: acqp.publicPem,
    alipayplusPrivateKeyPem: alipayplus.privatePem,
    alipayplusPublicKeyPem: alipayplus.publicPem,
    adminToken: readFileSync(tokenPath, 'utf8').trim(),
    dir,
  };
}
