/**
 * openapi/alipayplus.yaml (gateway → Alipay+): every example validates against its schema, the request
 * schemas are exact and apply the Alipay+ rules, and the response schemas tolerate what Alipay+ may add.
 * Bundled and dereferenced with @redocly/openapi-core, checked with Ajv 2020 + ajv-formats.
 */
import { fileURLToPath } from 'node:url';
import { bundle, createConfig } from '@redocly/openapi-core';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';

type Json = Record<string, any>;

const result = await bundle({ ref: fileURLToPath(new URL('../../openapi/alipayplus.yaml', import.meta.url)), config: await createConfig({}), dereference: true });
const doc = result.bundle.parsed as Json;

const ajv = new Ajv2020({ strict: false, allErrors: true });
(addFormats as unknown as (a: Ajv2020) => void)(ajv);
const compiled = new Map<object, ValidateFunction>();
function accepts(schema: object, value: unknown): boolean {
  if (!compiled.has(schema)) compiled.set(schema, ajv.compile(schema));
  return compiled.get(schema)!(value) as boolean;
}
function errorsOf(schema: object, value: unknown): string {
  const validate = compiled.get(schema) ?? ajv.compile(schema);
  validate(value);
  return ajv.errorsText(validate.errors);
}

const OPERATIONS = { pay: '/aps/api/v1/payments/pay', inquiryPayment: '/aps/api/v1/payments/inquiryPayment', cancelPayment: '/aps/api/v1/payments/cancelPayment' } as const;
type Operation = keyof typeof OPERATIONS;
const op = (name: Operation): Json => doc.paths[OPERATIONS[name]].post;
const request = (name: Operation): Json => op(name).requestBody.content['application/json'];
const response = (name: Operation): Json => op(name).responses['200'].content['application/json'];
const example = (media: Json, name: string): Json => structuredClone(media.examples[name].value);

describe('openapi/alipayplus.yaml', () => {
  it('bundles without problems', () => {
    expect(result.problems.filter((p) => p.severity === 'error').map((p) => p.message)).toEqual([]);
  });

  it('declares exactly pay, inquiryPayment and cancelPayment, POST only', () => {
    expect(Object.keys(doc.paths).sort()).toEqual(Object.values(OPERATIONS).sort());
    for (const name of Object.keys(OPERATIONS) as Operation[]) {
      expect(Object.keys(doc.paths[OPERATIONS[name]])).toEqual(['post']);
      expect(op(name).operationId).toBe(name);
    }
  });

  const cases: [string, object, unknown][] = [];
  for (const name of Object.keys(OPERATIONS) as Operation[]) {
    for (const [exampleName, e] of Object.entries(request(name).examples as Json)) cases.push([`${name} request "${exampleName}"`, request(name).schema, e.value]);
    for (const [exampleName, e] of Object.entries(response(name).examples as Json)) cases.push([`${name} 200 "${exampleName}"`, response(name).schema, e.value]);
    for (const parameter of op(name).parameters as Json[]) if ('example' in parameter) cases.push([`${name} header ${parameter.name}`, parameter.schema, parameter.example]);
    for (const [header, h] of Object.entries(op(name).responses['200'].headers as Json)) if ('example' in h) cases.push([`${name} response header ${header}`, h.schema, h.example]);
  }
  for (const [schemaName, schema] of Object.entries(doc.components.schemas as Json)) {
    (schema.examples ?? []).forEach((value: unknown, i: number) => cases.push([`#/components/schemas/${schemaName} examples[${i}]`, schema, value]));
  }

  it('has request and response examples for every operation', () => {
    for (const name of Object.keys(OPERATIONS) as Operation[]) {
      expect(Object.keys(request(name).examples).length).toBeGreaterThan(0);
      expect(Object.keys(response(name).examples).length).toBeGreaterThan(1);
    }
    expect(Object.keys(response('pay').examples)).toEqual(expect.arrayContaining(['success', 'failed', 'unknown']));
  });

  it.each(cases)('%s validates against its schema', (_name, schema, value) => {
    expect(accepts(schema, value), errorsOf(schema, value)).toBe(true);
  });
});

describe('pay request: exact, Alipay+ rules', () => {
  const schema = () => request('pay').schema;
  const seed = () => example(request('pay'), 'seedSample');

  it('accepts null for every optional field', () => {
    expect(accepts(schema(), { ...seed(), paymentFactor: null, paymentExpiryTime: null, paymentNotifyUrl: null, settlementStrategy: null })).toBe(true);
    const { paymentFactor: _f, paymentExpiryTime: _e, paymentNotifyUrl: _u, settlementStrategy: _s, ...required } = seed();
    expect(accepts(schema(), required)).toBe(true);
  });

  it('refuses each missing required field', () => {
    for (const field of ['paymentRequestId', 'order', 'paymentAmount', 'paymentMethod']) {
      const { [field]: _removed, ...rest } = seed();
      expect(accepts(schema(), rest), field).toBe(false);
    }
    const noStore = seed();
    delete noStore.order.merchant.store;
    expect(accepts(schema(), noStore)).toBe(false);
  });

  it('refuses unknown fields at any depth, the seed spelling storeMcc included', () => {
    expect(accepts(schema(), { ...seed(), extra: 'x' })).toBe(false);
    const deep = seed();
    deep.order.merchant.store.storeMcc = '1405';
    expect(accepts(schema(), deep)).toBe(false);
    const method = seed();
    method.paymentMethod.extra = 'x';
    expect(accepts(schema(), method)).toBe(false);
  });

  it('refuses "" for optional strings, numbers for strings, and lengths beyond the documented ones', () => {
    expect(accepts(schema(), { ...seed(), paymentNotifyUrl: '' })).toBe(false);
    expect(accepts(schema(), { ...seed(), paymentExpiryTime: '' })).toBe(false);
    expect(accepts(schema(), { ...seed(), paymentAmount: { currency: 'JPY', value: 100 } })).toBe(false);
    expect(accepts(schema(), { ...seed(), paymentRequestId: 'x'.repeat(64) })).toBe(true);
    expect(accepts(schema(), { ...seed(), paymentRequestId: 'x'.repeat(65) })).toBe(false);
    expect(accepts(schema(), { ...seed(), paymentNotifyUrl: `https://a.example/${'x'.repeat(2048)}` })).toBe(false);
    expect(accepts(schema(), { ...seed(), paymentExpiryTime: '2019-06-01T12:01:01' })).toBe(false);
  });

  it('is CONNECT_WALLET with a payment code', () => {
    expect(accepts(schema(), { ...seed(), paymentMethod: { paymentMethodType: 'CARD', paymentMethodId: '28100602000000000012' } })).toBe(false);
    expect(accepts(schema(), { ...seed(), paymentMethod: { paymentMethodType: 'CONNECT_WALLET', paymentMethodId: 'https://qr.example/1' } })).toBe(false);
    expect(accepts(schema(), { ...seed(), paymentMethod: { paymentMethodType: 'CONNECT_WALLET' } })).toBe(false);
  });
});

describe('inquiryPayment and cancelPayment requests: paymentRequestId or paymentId', () => {
  it.each(['inquiryPayment', 'cancelPayment'] as const)('%s needs at least one, as a non-empty string', (name) => {
    const schema = request(name).schema;
    expect(accepts(schema, { paymentRequestId: 'pr_1' })).toBe(true);
    expect(accepts(schema, { paymentId: '2019' })).toBe(true);
    expect(accepts(schema, { paymentRequestId: 'pr_1', paymentId: '2019' })).toBe(true);
    expect(accepts(schema, { paymentRequestId: 'pr_1', paymentId: null })).toBe(true);
    for (const refused of [{}, { paymentRequestId: null }, { paymentRequestId: null, paymentId: null }, { paymentRequestId: '' }, { paymentRequestId: 'x'.repeat(65) }, { paymentRequestId: 'pr_1', extra: 'x' }]) {
      expect(accepts(schema, refused), JSON.stringify(refused)).toBe(false);
    }
  });
});

describe('responses: tolerant of what Alipay+ adds', () => {
  it('accept unknown fields and unknown result codes', () => {
    const pay = response('pay').schema;
    const paid = example(response('pay'), 'success');
    expect(accepts(pay, { ...paid, newField: 'x', result: { ...paid.result, extra: 'x' } })).toBe(true);
    expect(accepts(pay, { result: { resultCode: 'SOME_NEW_CODE', resultStatus: 'F' } })).toBe(true);
    const inquiry = response('inquiryPayment').schema;
    expect(accepts(inquiry, { result: { resultCode: 'SUCCESS', resultStatus: 'S' }, paymentResult: { resultCode: 'NEW_PAYMENT_CODE', resultStatus: 'F' }, transactions: [] })).toBe(true);
    expect(accepts(response('cancelPayment').schema, { result: { resultCode: 'CANCEL_WINDOW_EXCEED', resultStatus: 'F' }, other: 1 })).toBe(true);
  });

  it('still require a result with a status S, F or U and a code of at most 64 characters', () => {
    const pay = response('pay').schema;
    expect(accepts(pay, {})).toBe(false);
    expect(accepts(pay, { result: { resultCode: 'SUCCESS', resultStatus: 'X' } })).toBe(false);
    expect(accepts(pay, { result: { resultCode: 'X'.repeat(65), resultStatus: 'F' } })).toBe(false);
    expect(accepts(pay, { result: { resultStatus: 'S' } })).toBe(false);
  });

  it('document the signature headers: not required on requests, described on responses', () => {
    for (const name of Object.keys(OPERATIONS) as Operation[]) {
      expect((op(name).parameters as Json[]).map((p) => [p.name, p.in, p.required])).toEqual([
        ['Client-Id', 'header', false],
        ['Request-Time', 'header', false],
        ['Signature', 'header', false],
      ]);
      expect(Object.keys(op(name).responses['200'].headers)).toEqual(['Client-Id', 'Response-Time', 'Signature']);
    }
  });
});
