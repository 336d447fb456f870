/**
 * Hostile input on every Alipay+ and merchant endpoint (property-based): bodies generated from the
 * specs' request schemas, then broken — wrong types, "", null, unicode, oversized, deeply nested,
 * unknown keys, duplicate keys, truncated JSON. Every answer is a well-formed signed envelope (Alipay+)
 * or problem+json (merchant), never a 5xx or a stack trace, and an invalid request changes nothing.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadSpec } from '../../src/http/specs.js';
import { ADMIN_TOKEN, describeEachDatabase, startGateway, type TestGateway } from '../support/gateway.js';
import { brokenJson, mutate, valid } from '../support/schema-arbitrary.js';
import { ScriptedAlipayplus } from '../support/scripted-alipayplus.js';

const RUNS = Number(process.env.HOSTILE_RUNS ?? 40);
const ajv = new Ajv2020({ strict: false, allErrors: false });
(addFormats as unknown as (a: Ajv2020) => void)(ajv);

type Doc = { paths: Record<string, Record<string, { operationId: string; requestBody?: { content: Record<string, { schema: object }> } }>> };
const requestSchemas = async (name: 'acqp' | 'merchant') => {
  const doc = (await loadSpec(name, { dereference: true })) as unknown as Doc;
  return Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods)
      .filter(([, op]) => op.requestBody)
      .map(([method, op]) => ({ path, method: method.toUpperCase(), operationId: op.operationId, schema: op.requestBody!.content['application/json']!.schema })),
  );
};

const TABLES = ['merchants', 'stores', 'payments', 'place_orders', 'notifications', 'idempotency_keys', 'payment_schedule'];

describeEachDatabase('hostile input', (kind) => {
  let gw: TestGateway;
  let apiKey: string;
  let storeId: string;
  beforeAll(async () => {
    gw = await startGateway(kind, { RATE_LIMIT_ALIPAYPLUS_PER_SECOND: '0', RATE_LIMIT_MERCHANT_PER_SECOND: '0', PAYMENT_WAIT_MS: '0' }, new ScriptedAlipayplus());
    ({ apiKey } = await gw.onboardMerchant());
    ({ storeId } = await gw.createStore(apiKey));
  });
  afterAll(() => gw?.close());

  const state = async () => Promise.all(TABLES.map(async (t) => Number((await gw.gateway.db.knex(t).count({ n: '*' }))[0]!.n)));

  it('Alipay+ endpoints answer every body with a signed envelope; invalid ones with PARAM_ILLEGAL and no change', async () => {
    for (const op of await requestSchemas('acqp')) {
      const api = op.path.split('/').at(-1)!;
      const validate = ajv.compile(op.schema);
      const seen = { valid: 0, invalid: 0, accepted: 0 };
      await fc.assert(
        fc.asyncProperty(fc.oneof(valid(op.schema), valid(op.schema).chain(mutate)), async (body) => {
          const before = await state();
          const answer = await gw.alipayplus(api, body);
          expect(answer.status).toBe(200);
          expect(answer.signatureValid).toBe(true);
          expect(['S', 'F', 'U']).toContain(answer.body.result.resultStatus);
          expect(answer.text).not.toMatch(/\n\s+at /);
          if (validate(body)) {
            seen.valid++;
            if (answer.body.result.resultCode !== 'PARAM_ILLEGAL') seen.accepted++;
          } else {
            seen.invalid++;
            expect(answer.body.result.resultCode, `${api} accepted ${JSON.stringify(body).slice(0, 300)}`).toBe('PARAM_ILLEGAL');
            await gw.gateway.db.audit.flush();
            expect(await state()).toEqual(before);
          }
        }),
        { numRuns: RUNS },
      );
      // The property must have seen both kinds, and valid bodies must get past validation.
      expect(seen.invalid, api).toBeGreaterThan(0);
      expect(seen.accepted, api).toBeGreaterThan(0);
      const sample = JSON.stringify(fc.sample(valid(op.schema), 1)[0]);
      await fc.assert(
        fc.asyncProperty(brokenJson(sample), async (raw) => {
          const answer = await gw.alipayplus(api, null, { rawBody: raw });
          expect(answer.status).toBe(200);
          expect(answer.signatureValid).toBe(true);
          let parsed: unknown;
          try {
            parsed = JSON.parse(raw);
          } catch {
            parsed = undefined;
          }
          if (parsed === undefined || parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) expect(answer.body.result.resultCode).toBe('PARAM_ILLEGAL');
        }),
        { numRuns: RUNS },
      );
    }
  });

  it('merchant endpoints answer every body with 2xx or problem+json, never 5xx; invalid ones 400 and no change', async () => {
    for (const op of await requestSchemas('merchant')) {
      if (op.path.includes('{')) continue; // PATCH /v1/merchants/{id}: covered by the same validator; ids are random here
      const validate = ajv.compile(op.schema);
      const token = op.path === '/v1/merchants' ? ADMIN_TOKEN : apiKey;
      const withStore = (b: unknown) => (b && typeof b === 'object' && 'storeId' in b ? { ...b, storeId } : b);
      const seen = { invalid: 0, passedValidation: 0 };
      await fc.assert(
        fc.asyncProperty(fc.oneof(valid(op.schema).map(withStore), valid(op.schema).map(withStore).chain(mutate)), async (body) => {
          const before = await state();
          const answer = await gw.merchantApi(op.method, op.path, { token, body });
          expect(answer.status, JSON.stringify(answer.body)).toBeLessThan(500);
          if (answer.status >= 400) {
            expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
            expect(answer.body).toMatchObject({ status: answer.status, type: expect.any(String), title: expect.any(String) });
          }
          if (validate(body) && answer.status !== 400) seen.passedValidation++;
          if (!validate(body)) {
            seen.invalid++;
            expect(answer.status, `${op.operationId} accepted ${JSON.stringify(body).slice(0, 300)}`).toBe(400);
            expect(await state()).toEqual(before);
          }
        }),
        { numRuns: RUNS },
      );
      expect(seen.invalid, op.operationId).toBeGreaterThan(0);
      expect(seen.passedValidation, op.operationId).toBeGreaterThan(0);
    }
  });
});
