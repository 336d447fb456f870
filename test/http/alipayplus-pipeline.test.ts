/**
 * The signed pipeline every Alipay+-facing endpoint shares: each refusal is HTTP 200 with the right
 * result code, signed over the exact bytes sent, and valid against openapi/acqp.yaml.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPrivateKey, loadPublicKey, Signer } from '../../src/signing.js';
import { expectMatchesSpec } from '../support/contract.js';
import { ALIPAYPLUS_KEYS_V2, ACQP_KEYS, generateTestKeyPair } from '../support/keys.js';
import { ACQP_PATH, alipayplusSigner, CLIENT_ID, startGateway, type AlipayplusAnswer, type TestGateway } from '../support/gateway.js';

let gw: TestGateway;
let codeValue: string;
beforeAll(async () => {
  gw = await startGateway('sqlite', { ALIPAYPLUS_PUBLIC_KEY_V2: ALIPAYPLUS_KEYS_V2.publicPem });
  const { apiKey } = await gw.onboardMerchant();
  const { storeId } = await gw.createStore(apiKey);
  ({ codeValue } = await gw.createOrder(apiKey, storeId));
});
afterAll(() => gw?.close());

async function expectRefused(answer: AlipayplusAnswer, code: string, status = 'F'): Promise<void> {
  expect(answer.status).toBe(200);
  expect(answer.body.result).toMatchObject({ resultCode: code, resultStatus: status });
  expect(answer.signatureValid, 'response signed by the gateway over the exact bytes').toBe(true);
  expect(answer.headers.get('client-id')).toBe(CLIENT_ID);
  expect(answer.headers.get('response-time')).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  expect(answer.text).not.toMatch(/at .*\.ts:\d+/); // never a stack trace
}

describe('Alipay+ request pipeline', () => {
  it('answers a valid signed request with a signed SUCCESS that matches the spec', async () => {
    const answer = await gw.alipayplus('userInitiatedPay', { codeValue });
    expect(answer.body.result.resultCode).toBe('SUCCESS');
    expect(answer.signatureValid).toBe(true);
    expect(answer.headers.get('signature')).toMatch(/^algorithm=RSA256,keyVersion=1,signature=/);
    await expectMatchesSpec('acqp', 'userInitiatedPay', 200, answer.body);
  });

  it('answers NO_INTERFACE_DEF for an unknown path', async () => {
    await expectRefused(await gw.alipayplus('refundPayment', { codeValue }), 'NO_INTERFACE_DEF');
  });

  it('answers METHOD_NOT_SUPPORTED for a GET, whatever it carries', async () => {
    await expectRefused(await gw.alipayplus('userInitiatedPay', {}, { method: 'GET', headers: { Signature: undefined } }), 'METHOD_NOT_SUPPORTED');
  });

  it('answers MEDIA_TYPE_NOT_ACCEPTABLE for a non-JSON content type', async () => {
    await expectRefused(await gw.alipayplus('userInitiatedPay', { codeValue }, { headers: { 'Content-Type': 'text/plain' } }), 'MEDIA_TYPE_NOT_ACCEPTABLE');
  });

  it('reads a request without Content-Type as JSON', async () => {
    const answer = await gw.alipayplus('userInitiatedPay', { codeValue }, { headers: { 'Content-Type': undefined } });
    expect(answer.body.result.resultCode).toBe('SUCCESS');
  });

  it('answers INVALID_CLIENT for another Client-Id', async () => {
    const signer = alipayplusSigner('SANDBOX_SOMEONE_ELSE');
    await expectRefused(await gw.alipayplus('userInitiatedPay', { codeValue }, { signer }), 'INVALID_CLIENT');
  });

  it('answers INVALID_SIGNATURE when the Signature header is missing', async () => {
    await expectRefused(await gw.alipayplus('userInitiatedPay', { codeValue }, { headers: { Signature: undefined } }), 'INVALID_SIGNATURE');
  });

  it('answers INVALID_SIGNATURE when the body differs by one byte from what was signed', async () => {
    const signed = JSON.stringify({ codeValue });
    const requestTime = gw.clock.now().toISOString();
    const signature = await alipayplusSigner().sign(`${ACQP_PATH}userInitiatedPay`, requestTime, signed);
    const answer = await gw.alipayplus('userInitiatedPay', null, { rawBody: `${signed} `, headers: { 'Request-Time': requestTime, Signature: signature } });
    await expectRefused(answer, 'INVALID_SIGNATURE');
  });

  it('answers INVALID_SIGNATURE when another path was signed', async () => {
    await expectRefused(await gw.alipayplus('userInitiatedPay', { codeValue }, { signPath: `${ACQP_PATH}placeOrder` }), 'INVALID_SIGNATURE');
  });

  it('answers INVALID_SIGNATURE for a signature made with another key', async () => {
    const stranger = new Signer(CLIENT_ID, loadPrivateKey(generateTestKeyPair().privatePem), '1', new Map([['1', loadPublicKey(ACQP_KEYS.publicPem)]]));
    await expectRefused(await gw.alipayplus('userInitiatedPay', { codeValue }, { signer: stranger }), 'INVALID_SIGNATURE');
  });

  it('verifies keyVersion 2 with the second configured Alipay+ key', async () => {
    const v2 = alipayplusSigner(CLIENT_ID, ALIPAYPLUS_KEYS_V2.privatePem, '2');
    expect((await gw.alipayplus('userInitiatedPay', { codeValue }, { signer: v2 })).body.result.resultCode).toBe('SUCCESS');
  });

  it('answers KEY_NOT_FOUND for an unknown keyVersion', async () => {
    const v9 = alipayplusSigner(CLIENT_ID, ALIPAYPLUS_KEYS_V2.privatePem, '9');
    await expectRefused(await gw.alipayplus('userInitiatedPay', { codeValue }, { signer: v9 }), 'KEY_NOT_FOUND');
  });

  it('answers PARAM_ILLEGAL for malformed JSON', async () => {
    await expectRefused(await gw.alipayplus('userInitiatedPay', null, { rawBody: '{"codeValue": ' }), 'PARAM_ILLEGAL');
  });

  it('answers PARAM_ILLEGAL naming the missing field', async () => {
    const answer = await gw.alipayplus('userInitiatedPay', { customerId: '2088' });
    await expectRefused(answer, 'PARAM_ILLEGAL');
    expect(answer.body.result.resultMessage).toContain('codeValue');
  });

  it.each([
    ['an empty optional string', { codeValue: 'x', customerId: '' }, 'customerId'],
    ['a number where a string is due', { codeValue: 'x', customerId: 2088 }, 'customerId'],
    ['a codeValue over 512 characters', { codeValue: `https://x/${'a'.repeat(520)}` }, 'codeValue'],
  ])('answers PARAM_ILLEGAL for %s, naming the field', async (_what, body, field) => {
    const answer = await gw.alipayplus('userInitiatedPay', body);
    await expectRefused(answer, 'PARAM_ILLEGAL');
    expect(answer.body.result.resultMessage).toContain(field);
  });

  it('answers PARAM_ILLEGAL naming a field that holds a NUL character', async () => {
    const answer = await gw.alipayplus('userInitiatedPay', { codeValue: 'https://x/\u0000' });
    await expectRefused(answer, 'PARAM_ILLEGAL');
    expect(answer.body.result.resultMessage).toContain('codeValue');
  });

  it('accepts null for an optional field', async () => {
    expect((await gw.alipayplus('userInitiatedPay', { codeValue, customerId: null })).body.result.resultCode).toBe('SUCCESS');
  });

  it.each([
    ['missing', undefined],
    ['not ISO 8601', 'yesterday'],
  ])('answers PARAM_ILLEGAL naming Request-Time when it is %s (checked after the signature)', async (_what, requestTime) => {
    const raw = JSON.stringify({ codeValue });
    const signature = await alipayplusSigner().sign(`${ACQP_PATH}userInitiatedPay`, requestTime ?? '', raw);
    const answer = await gw.alipayplus('userInitiatedPay', null, { rawBody: raw, headers: { 'Request-Time': requestTime, Signature: signature } });
    await expectRefused(answer, 'PARAM_ILLEGAL');
    expect(answer.body.result.resultMessage).toContain('Request-Time');
  });

  it('answers PARAM_ILLEGAL naming Request-Time when it is outside the tolerance window', async () => {
    const raw = JSON.stringify({ codeValue });
    const old = new Date(gw.clock.now().getTime() - 11 * 60_000).toISOString();
    const signature = await alipayplusSigner().sign(`${ACQP_PATH}userInitiatedPay`, old, raw);
    const answer = await gw.alipayplus('userInitiatedPay', null, { rawBody: raw, headers: { 'Request-Time': old, Signature: signature } });
    await expectRefused(answer, 'PARAM_ILLEGAL');
    expect(answer.body.result.resultMessage).toContain('Request-Time');
  });

  it('answers PARAM_ILLEGAL for a body over the size limit', async () => {
    await expectRefused(await gw.alipayplus('userInitiatedPay', { codeValue, customerId: 'x'.repeat(70_000) }), 'PARAM_ILLEGAL');
  });

  it('answers PARAM_ILLEGAL for a body over the size limit that announces no length', async () => {
    const answer = await sendInChunks(gw.url, { codeValue, customerId: 'x'.repeat(70_000) }, 4);
    expect(answer.status).toBe(200);
    expect(answer.body.result).toMatchObject({ resultCode: 'PARAM_ILLEGAL', resultMessage: 'The request body is too large.' });
  });

  it('reads a body that arrives in several chunks whole, and verifies it', async () => {
    const answer = await sendInChunks(gw.url, { codeValue }, 3);
    expect(answer.body.result.resultCode).toBe('SUCCESS');
  });

  it('answers MEDIA_TYPE_NOT_ACCEPTABLE for a compressed body', async () => {
    await expectRefused(await gw.alipayplus('userInitiatedPay', { codeValue }, { headers: { 'Content-Encoding': 'gzip' } }), 'MEDIA_TYPE_NOT_ACCEPTABLE');
  });

  it('echoes the caller’s X-Request-Id, or gives one', async () => {
    expect((await gw.alipayplus('userInitiatedPay', { codeValue }, { headers: { 'X-Request-Id': 'aps-7' } })).headers.get('x-request-id')).toBe('aps-7');
    expect((await gw.alipayplus('userInitiatedPay', { codeValue })).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('records every message in the audit table: headers, bodies, result code and latency', async () => {
    const answer = await gw.alipayplus('userInitiatedPay', { codeValue });
    await gw.gateway.db.audit.flush();
    const knex = gw.gateway.db.knex;
    const row = await knex('audit_messages').where({ response_body: answer.text }).first();
    expect(row).toMatchObject({ direction: 'IN', api: 'userInitiatedPay', result_status: 'S', result_code: 'SUCCESS', http_status: 200 });
    expect(row.latency_ms).toBeGreaterThanOrEqual(0);
    expect(JSON.parse(row.request_body)).toEqual({ codeValue });
    expect(JSON.parse(row.request_headers)).toMatchObject({ 'client-id': CLIENT_ID });
    const refused = await knex('audit_messages').where({ result_code: 'NO_INTERFACE_DEF' }).first();
    expect(refused).toBeDefined();
  });
});

/** A signed userInitiatedPay sent with chunked transfer encoding (no Content-Length), in `parts` writes. */
async function sendInChunks(baseUrl: string, body: unknown, parts: number): Promise<{ status: number; body: AlipayplusAnswer['body'] }> {
  const path = `${ACQP_PATH}userInitiatedPay`;
  const raw = Buffer.from(JSON.stringify(body));
  const headers = await alipayplusSigner().signedHeaders('Request-Time', path, new Date().toISOString(), raw);
  return new Promise((resolve, reject) => {
    const req = request(`${baseUrl}${path}`, { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
    req.on('error', reject);
    const size = Math.ceil(raw.length / parts);
    for (let at = 0; at < raw.length; at += size) req.write(raw.subarray(at, at + size));
    req.end();
  });
}

describe('Alipay+ pipeline when the database is gone', () => {
  it('answers a signed U/UNKNOWN_EXCEPTION, never a stack trace', async () => {
    const broken = await startGateway('sqlite');
    try {
      const { apiKey } = await broken.onboardMerchant();
      const { storeId } = await broken.createStore(apiKey);
      const order = await broken.createOrder(apiKey, storeId);
      await broken.gateway.worker.stop();
      await broken.gateway.db.close(); // every connection, reader and writer
      const answer = await broken.alipayplus('userInitiatedPay', { codeValue: order.codeValue });
      await expectRefused(answer, 'UNKNOWN_EXCEPTION', 'U');
    } finally {
      await broken.close().catch(() => undefined);
    }
  });
});
