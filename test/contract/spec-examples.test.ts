/**
 * Every example in the specs matches its schema, and the schemas really refuse what the Alipay+ rules
 * and the strict response shapes say they refuse. Each spec is bundled and dereferenced with
 * @redocly/openapi-core, then checked with Ajv 2020 + ajv-formats (the dialect of OpenAPI 3.1).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle, createConfig } from '@redocly/openapi-core';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';

type Json = Record<string, any>;

const SPEC_DIR = fileURLToPath(new URL('../../openapi/', import.meta.url));
const SPECS = readdirSync(SPEC_DIR)
  .filter((name) => name.endsWith('.yaml'))
  .map((name) => name.slice(0, -'.yaml'.length))
  .sort();
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

const ajv = new Ajv2020({ strict: false, allErrors: true });
(addFormats as unknown as (a: Ajv2020) => void)(ajv);
const compiled = new WeakMap<object, ValidateFunction>();
function validatorOf(schema: object): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  return validate;
}

async function dereferenced(name: string): Promise<{ doc: Json; problems: string[] }> {
  const config = await createConfig({});
  const result = await bundle({ ref: join(SPEC_DIR, `${name}.yaml`), config, dereference: true });
  const problems = result.problems.filter((p) => p.severity === 'error').map((p) => p.message);
  return { doc: result.bundle.parsed as Json, problems };
}

interface ExampleCase {
  name: string;
  schema: object;
  value: unknown;
}

/**
 * Collects the examples of a spec: `examples` arrays and `example` of every (sub)schema, and the
 * `example`/`examples` of parameters, headers, request bodies and responses. A dereferenced document
 * shares objects between places; each is collected once, named by the first place it is met.
 */
function collectExamples(spec: string, doc: Json): ExampleCase[] {
  const cases: ExampleCase[] = [];
  const seen = new WeakSet<object>();

  const fromSchema = (schema: unknown, where: string): void => {
    if (!schema || typeof schema !== 'object' || seen.has(schema)) return;
    seen.add(schema);
    const s = schema as Json;
    if (Array.isArray(s.examples)) s.examples.forEach((value: unknown, i: number) => cases.push({ name: `${where} examples[${i}]`, schema: s, value }));
    if ('example' in s) cases.push({ name: `${where} example`, schema: s, value: s.example });
    for (const [key, sub] of Object.entries((s.properties ?? {}) as Json)) fromSchema(sub, `${where}.${key}`);
    for (const keyword of ['oneOf', 'anyOf', 'allOf', 'prefixItems'] as const) {
      (s[keyword] as unknown[] | undefined)?.forEach((sub, i) => fromSchema(sub, `${where}/${keyword}[${i}]`));
    }
    for (const keyword of ['items', 'additionalProperties', 'not', 'if', 'then', 'else'] as const) fromSchema(s[keyword], `${where}/${keyword}`);
  };

  /** A parameter, a header or a media type: `schema` with `example` or named `examples`. */
  const fromHolder = (holder: unknown, where: string): void => {
    if (!holder || typeof holder !== 'object' || seen.has(holder)) return;
    seen.add(holder);
    const h = holder as Json;
    if (h.schema) {
      if ('example' in h) cases.push({ name: `${where} example`, schema: h.schema, value: h.example });
      for (const [exampleName, example] of Object.entries((h.examples ?? {}) as Json)) {
        if (example && typeof example === 'object' && 'value' in example) cases.push({ name: `${where} example "${exampleName}"`, schema: h.schema, value: example.value });
      }
      fromSchema(h.schema, `${where} schema`);
    }
  };

  const fromContent = (content: Json | undefined, where: string): void => {
    for (const [mediaType, media] of Object.entries(content ?? {})) fromHolder(media, `${where} ${mediaType}`);
  };

  const fromResponse = (response: Json, where: string): void => {
    for (const [header, value] of Object.entries((response.headers ?? {}) as Json)) fromHolder(value, `${where} header ${header}`);
    fromContent(response.content, where);
  };

  for (const [path, item] of Object.entries((doc.paths ?? {}) as Json)) {
    for (const parameter of (item.parameters ?? []) as Json[]) fromHolder(parameter, `${spec} ${path} param ${parameter.name}`);
    for (const method of METHODS) {
      const operation = item[method] as Json | undefined;
      if (!operation) continue;
      const op = `${spec} ${operation.operationId ?? `${method.toUpperCase()} ${path}`}`;
      for (const parameter of (operation.parameters ?? []) as Json[]) fromHolder(parameter, `${op} param ${parameter.name}`);
      fromContent(operation.requestBody?.content, `${op} request`);
      for (const [status, response] of Object.entries((operation.responses ?? {}) as Json)) fromResponse(response, `${op} ${status}`);
    }
  }
  const components = (doc.components ?? {}) as Json;
  for (const [name, schema] of Object.entries((components.schemas ?? {}) as Json)) fromSchema(schema, `${spec} #/components/schemas/${name}`);
  for (const [name, parameter] of Object.entries((components.parameters ?? {}) as Json)) fromHolder(parameter, `${spec} #/components/parameters/${name}`);
  for (const [name, header] of Object.entries((components.headers ?? {}) as Json)) fromHolder(header, `${spec} #/components/headers/${name}`);
  for (const [name, response] of Object.entries((components.responses ?? {}) as Json)) fromResponse(response, `${spec} #/components/responses/${name}`);
  for (const [name, body] of Object.entries((components.requestBodies ?? {}) as Json)) fromContent(body.content, `${spec} #/components/requestBodies/${name}`);
  return cases;
}

const bundled = new Map<string, { doc: Json; problems: string[] }>();
for (const spec of SPECS) bundled.set(spec, await dereferenced(spec));
const docOf = (spec: string) => bundled.get(spec)!.doc;

describe.each(SPECS)('openapi/%s.yaml', (spec) => {
  it('bundles without unresolved references', () => {
    expect(bundled.get(spec)!.problems).toEqual([]);
  });

  const cases = collectExamples(spec, docOf(spec));
  it('has examples', () => {
    expect(cases.length).toBeGreaterThan(0);
  });
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const validate = validatorOf(c.schema);
    const ok = validate(c.value);
    expect(ok, ajv.errorsText(validate.errors)).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------------
// The schemas refuse what they must.

const operation = (spec: string, operationId: string): Json => {
  for (const item of Object.values(docOf(spec).paths as Json)) {
    for (const method of METHODS) if ((item as Json)[method]?.operationId === operationId) return (item as Json)[method];
  }
  throw new Error(`${spec}.yaml has no operation ${operationId}`);
};
const requestSchema = (spec: string, operationId: string): object => operation(spec, operationId).requestBody.content['application/json'].schema;
const responseSchema = (spec: string, operationId: string, status: string, mediaType = 'application/json'): object =>
  operation(spec, operationId).responses[status].content[mediaType].schema;
const exampleOf = (spec: string, operationId: string, where: 'request' | string, name: string): Json => {
  const op = operation(spec, operationId);
  const media = where === 'request' ? op.requestBody.content['application/json'] : op.responses[where].content['application/json'];
  return structuredClone(media.examples[name].value);
};
const accepts = (schema: object, value: unknown) => validatorOf(schema)(value);
const component = (name: string): object => docOf('components').components.schemas[name];

describe('Alipay+ rules', () => {
  const placeOrder = () => requestSchema('acqp', 'placeOrder');
  const userInitiatedPay = () => requestSchema('acqp', 'userInitiatedPay');

  it('accepts the seed samples and null for optional fields', () => {
    expect(accepts(placeOrder(), exampleOf('acqp', 'placeOrder', 'request', 'seedSample'))).toBe(true);
    const body = exampleOf('acqp', 'userInitiatedPay', 'request', 'orderCode');
    expect(accepts(userInitiatedPay(), { ...body, customerId: null, acquirerId: null, pspId: null })).toBe(true);
    expect(accepts(placeOrder(), { ...exampleOf('acqp', 'placeOrder', 'request', 'orderCode'), paymentRequestId: null, settlementQuote: null })).toBe(true);
  });

  it('refuses "" for an optional string', () => {
    const body = exampleOf('acqp', 'userInitiatedPay', 'request', 'orderCode');
    expect(accepts(userInitiatedPay(), { ...body, customerId: '' })).toBe(false);
    const order = exampleOf('acqp', 'placeOrder', 'request', 'orderCode');
    expect(accepts(placeOrder(), { ...order, paymentRequestId: '' })).toBe(false);
    expect(accepts(placeOrder(), { ...order, env: { ...order.env, userAgent: '' } })).toBe(false);
    expect(accepts(placeOrder(), { ...order, merchant: { ...order.merchant, merchantAddress: { region: 'JP', city: '' } } })).toBe(false);
  });

  it('refuses "" for a required string', () => {
    expect(accepts(userInitiatedPay(), { codeValue: '' })).toBe(false);
  });

  it('refuses a number where a string is required', () => {
    const order = exampleOf('acqp', 'placeOrder', 'request', 'orderCode');
    expect(accepts(placeOrder(), { ...order, paymentAmount: { currency: 'JPY', value: 1200 } })).toBe(false);
    expect(accepts(placeOrder(), { ...order, paymentId: 2010000000000000000000000007772 })).toBe(false);
    expect(accepts(userInitiatedPay(), { codeValue: 12345 })).toBe(false);
  });

  it('refuses a missing required field', () => {
    const order = exampleOf('acqp', 'placeOrder', 'request', 'orderCode');
    for (const field of ['acquirerId', 'pspId', 'codeValue', 'paymentId', 'paymentAmount', 'settlementAmount', 'merchant', 'env']) {
      const { [field]: _removed, ...rest } = order;
      expect(accepts(placeOrder(), rest), field).toBe(false);
    }
    expect(accepts(userInitiatedPay(), { acquirerId: '2021228100000000' })).toBe(false);
  });

  it('accepts unknown fields in what Alipay+ sends', () => {
    const order = exampleOf('acqp', 'placeOrder', 'request', 'orderCode');
    const extended = { ...order, newField: 'x', merchant: { ...order.merchant, newField: 'x', store: { ...order.merchant.store, storeMcc: '5411', other: 'x' } }, env: { ...order.env, other: 'x' } };
    expect(accepts(placeOrder(), extended)).toBe(true);
  });

  it('refuses amounts that are not digit strings, and currencies that are not 3 capitals', () => {
    const amount = component('Amount');
    expect(accepts(amount, { currency: 'JPY', value: '100' })).toBe(true);
    for (const value of ['', '1.00', '-1', ' 1', '1e3', '١٢']) expect(accepts(amount, { currency: 'JPY', value }), value).toBe(false);
    for (const currency of ['jpy', 'JP', 'JPYY', '']) expect(accepts(amount, { currency, value: '1' }), currency).toBe(false);
    expect(accepts(amount, { currency: 'JPY', value: '1', extra: 'x' })).toBe(false);
  });

  it('refuses date-times without an offset and booleans that are not "true"/"false"', () => {
    expect(accepts(component('Env'), { storeTerminalRequestTime: '2025-02-20T08:50:00+08:00' })).toBe(true);
    expect(accepts(component('Env'), { storeTerminalRequestTime: '2025-02-20T08:50:00' })).toBe(false);
    expect(accepts(component('PaymentFactor'), { isInStorePayment: true })).toBe(false);
    expect(accepts(component('PaymentFactor'), { isInStorePayment: 'yes' })).toBe(false);
  });
});

describe('strict responses', () => {
  const decode = () => responseSchema('acqp', 'userInitiatedPay', '200');

  it('refuses an unknown field at any depth of a response', () => {
    const body = exampleOf('acqp', 'userInitiatedPay', '200', 'orderCode');
    expect(accepts(decode(), body)).toBe(true);
    expect(accepts(decode(), { ...body, extra: 'x' })).toBe(false);
    expect(accepts(decode(), { ...body, order: { ...body.order, merchant: { ...body.order.merchant, extra: 'x' } } })).toBe(false);
    expect(accepts(decode(), { ...body, order: { ...body.order, merchant: { ...body.order.merchant, store: { ...body.order.merchant.store, storeMcc: '5411' } } } })).toBe(false);
    const placed = exampleOf('acqp', 'placeOrder', '200', 'success');
    expect(accepts(responseSchema('acqp', 'placeOrder', '200'), { ...placed, result: { ...placed.result, extra: 'x' } })).toBe(false);
    const payment = structuredClone(docOf('merchant').components.examples.PaymentSucceeded.value);
    expect(accepts(responseSchema('merchant', 'getPayment', '200'), payment)).toBe(true);
    expect(accepts(responseSchema('merchant', 'getPayment', '200'), { ...payment, extra: 'x' })).toBe(false);
  });

  it('ties result codes to their status and their operation', () => {
    expect(accepts(decode(), { result: { resultCode: 'INVALID_CODE', resultStatus: 'F' } })).toBe(true);
    expect(accepts(decode(), { result: { resultCode: 'INVALID_CODE', resultStatus: 'U' } })).toBe(false);
    expect(accepts(decode(), { result: { resultCode: 'SUCCESS', resultStatus: 'S' } })).toBe(false); // S needs the decoded order
    expect(accepts(decode(), { result: { resultCode: 'REPEAT_REQ_INCONSISTENT', resultStatus: 'F' } })).toBe(false); // a placeOrder code
    const placeOrder = responseSchema('acqp', 'placeOrder', '200');
    expect(accepts(placeOrder, { result: { resultCode: 'REPEAT_REQ_INCONSISTENT', resultStatus: 'F' } })).toBe(true);
    expect(accepts(placeOrder, { result: { resultCode: 'PAYMENT_IN_PROCESS', resultStatus: 'U' } })).toBe(true);
    const inquiry = responseSchema('acqp', 'inquiryPushPayment', '200');
    expect(accepts(inquiry, { result: { resultCode: 'ORDER_NOT_EXIST', resultStatus: 'F' } })).toBe(true);
    expect(accepts(inquiry, { result: { resultCode: 'SUCCESS', resultStatus: 'S' } })).toBe(false); // S needs paymentResult
  });

  it('keeps entry-code and order-code answers apart', () => {
    const entry = exampleOf('acqp', 'userInitiatedPay', '200', 'entryCode');
    expect(accepts(decode(), { ...entry, paymentAmount: { currency: 'JPY', value: '100' } })).toBe(false);
    expect(accepts(decode(), { ...entry, paymentRequestId: 'pr_1' })).toBe(false);
    const order = exampleOf('acqp', 'userInitiatedPay', '200', 'orderCode');
    const { paymentRequestId: _removed, ...withoutId } = order;
    expect(accepts(decode(), withoutId)).toBe(false);
  });
});

describe('merchant API requests', () => {
  it('refuses unknown fields, missing fields and out-of-range values', () => {
    const create = requestSchema('merchant', 'createOrder');
    const order = exampleOf('merchant', 'createOrder', 'request', 'order');
    expect(accepts(create, order)).toBe(true);
    expect(accepts(create, { ...order, extra: 'x' })).toBe(false);
    expect(accepts(create, { ...order, amount: { ...order.amount, extra: 'x' } })).toBe(false);
    expect(accepts(create, { ...order, expiresInSeconds: 181 })).toBe(false);
    expect(accepts(create, { ...order, expiresInSeconds: '120' })).toBe(false);
    const { amount: _removed, ...withoutAmount } = order;
    expect(accepts(create, withoutAmount)).toBe(false);
    const merchant = requestSchema('merchant', 'createMerchant');
    const minimal = exampleOf('merchant', 'createMerchant', 'request', 'minimal');
    expect(accepts(merchant, { ...minimal, referenceMerchantId: 'M'.repeat(33) })).toBe(false);
    expect(accepts(merchant, { ...minimal, merchantMCC: '541' })).toBe(false);
    expect(accepts(requestSchema('merchant', 'updateMerchant'), {})).toBe(false);
  });
});
