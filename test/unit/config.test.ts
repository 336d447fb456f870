import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { ACQP_KEYS, ALIPAYPLUS_KEYS, ALIPAYPLUS_KEYS_V2 } from '../support/keys.js';
import { tempDirs } from '../support/temp-dirs.js';

const temp = tempDirs();
afterAll(() => temp.removeAll()); // first registered, so run last (temp-dirs.ts)

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
};

describe('loadConfig', () => {
  it('starts a sandbox with no configuration: generated keys and admin token, kept across starts', () => {
    const dir = temp.make('acqp-config-');
    const first = loadConfig({ ACQP_DATA_DIR: dir });
    const second = loadConfig({ ACQP_DATA_DIR: dir });
    expect(first.env).toBe('sandbox');
    expect(first.port).toBe(8080);
    expect(first.databaseUrl).toBe('sqlite:./data/acqp.sqlite');
    expect(first.adminToken).toMatch(/^sandbox_admin_/);
    expect(second.adminToken).toBe(first.adminToken);
    expect(first.alipayplusPublicKeys.get('1')?.export({ type: 'spki', format: 'pem' })).toBe(
      second.alipayplusPublicKeys.get('1')?.export({ type: 'spki', format: 'pem' }),
    );
    expect(first.codeBaseUrl).toMatch(/^https:\/\//);
  });

  it('refuses production without real keys, ids and token, one message per problem', () => {
    const problems = problemsOf({ ACQP_ENV: 'production', ACQP_DATA_DIR: temp.make('acqp-config-') });
    expect(problems).toEqual(
      expect.arrayContaining([
        'ACQP_CLIENT_ID is required when ACQP_ENV=production',
        'ACQUIRER_ID is required when ACQP_ENV=production',
        'ACQP_PRIVATE_KEY is required when ACQP_ENV=production',
        'ADMIN_TOKEN is required when ACQP_ENV=production',
        'CODE_BASE_URL is required when ACQP_ENV=production',
        'ALIPAYPLUS_BASE_URL is required when ACQP_ENV=production',
        'ALIPAYPLUS_PUBLIC_KEY (or ALIPAYPLUS_PUBLIC_KEY_V<n>) is required when ACQP_ENV=production',
      ]),
    );
  });

  it('starts in production with everything given, keys from files or inline PEM, several key versions', () => {
    const dir = temp.make('acqp-config-');
    writeFileSync(join(dir, 'acqp.pem'), ACQP_KEYS.privatePem);
    const config = loadConfig({
      ACQP_ENV: 'production',
      ACQP_CLIENT_ID: '2188120000000001',
      ACQUIRER_ID: '1022000000000001',
      ACQP_PRIVATE_KEY: join(dir, 'acqp.pem'),
      ALIPAYPLUS_PUBLIC_KEY: ALIPAYPLUS_KEYS.publicPem,
      ALIPAYPLUS_PUBLIC_KEY_V2: ALIPAYPLUS_KEYS_V2.publicPem,
      ADMIN_TOKEN: 'a-real-admin-token-of-at-least-32-characters',
      CODE_BASE_URL: 'https://qr.acquirer.example/',
      ALIPAYPLUS_BASE_URL: 'https://open-sea-global.alipayplus.com',
      ACQP_KEY_VERSION: '3',
    });
    expect([...config.alipayplusPublicKeys.keys()].sort()).toEqual(['1', '2']);
    expect(config.codeBaseUrl).toBe('https://qr.acquirer.example');
    expect(config.keyVersion).toBe('3');
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT must be a whole number'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL must be sqlite:<file> or postgres://…'],
    [{ CODE_BASE_URL: 'http://insecure.example' }, 'CODE_BASE_URL must be an https:// URL without query or fragment'],
    [{ ORDER_CODE_TTL_SECONDS: '181' }, 'ORDER_CODE_TTL_SECONDS must be between 1 and 180'],
    [{ ADMIN_TOKEN: 'short' }, 'ADMIN_TOKEN must be at least 32 characters'],
    [{ ACQP_PRIVATE_KEY: '/no/such/file.pem' }, 'ACQP_PRIVATE_KEY is neither PEM text nor the path of an existing file'],
    [{ ACQP_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----' }, 'ACQP_PRIVATE_KEY is not a valid PEM key'],
  ])('explains %o', (env, message) => {
    expect(problemsOf({ ACQP_DATA_DIR: temp.make('acqp-config-'), ...env })).toContain(message);
  });
});
