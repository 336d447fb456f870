/** Throwaway RSA-2048 key pairs generated for the tests (never written to the repository). */
import { generateKeyPairSync } from 'node:crypto';

export interface TestKeyPair {
  privatePem: string;
  publicPem: string;
}

export function generateTestKeyPair(): TestKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { privatePem: privateKey, publicPem: publicKey };
}

/** Generated once per test worker: key generation costs ~100 ms. */
export const ACQP_KEYS = generateTestKeyPair();
export const ALIPAYPLUS_KEYS = generateTestKeyPair();
export const ALIPAYPLUS_KEYS_V2 = generateTestKeyPair();
