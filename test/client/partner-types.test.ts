/** The README's partner recipe: openapi-typescript straight from the served spec (its $refs resolve over HTTP). */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { tempDirs } from '../support/temp-dirs.js';

const temp = tempDirs();
afterAll(() => temp.removeAll()); // first registered, so run last (temp-dirs.ts)

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway('sqlite');
});
afterAll(() => gw?.close());

it('generates the merchant API types from GET /openapi/merchant.yaml in one command', async () => {
  const dir = temp.make('partner-'); // a partner's folder: none of this repo's config applies
  const out = join(dir, 'merchant-api.ts');
  await promisify(execFile)(join(process.cwd(), 'node_modules/.bin/openapi-typescript'), [`${gw.url}/openapi/merchant.yaml`, '-o', out], { cwd: dir });
  const types = readFileSync(out, 'utf8');
  expect(types).toContain('"/v1/orders"');
  expect(types).toContain('"/v1/payments"');
  expect(types).toMatch(/currency: string/); // Amount, from components.yaml, resolved over HTTP
});
