/**
 * The Alipay+ simulator, driven the way the gateway drives it: requests signed with the gateway's key
 * (src/signing.ts), answers verified with the Alipay+ public key over the exact bytes received, and
 * every JSON answer checked against its schema in openapi/alipayplus.yaml. Delays are compressed.
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { bundle, createConfig } from '@redocly/openapi-core';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import express from 'express';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadPrivateKey, loadPublicKey, Signer } from '../../src/signing.js';
import { createSimulator, MAGIC_AMOUNTS, type Simulator } from '../../src/simulator/index.js';
import { ACQP_KEYS, ALIPAYPLUS_KEYS, ALIPAYPLUS_KEYS_V2 } from '../support/keys.js';

const CLIENT_ID = 'SANDBOX_TEST_CLIENT_0001';
const ACQUIRER_ID = '1020000000000000001';
const PATHS = { pay: '/aps/api/v1/payments/pay', inquiryPayment: '/aps/api/v1/payments/inquiryPayment', cancelPayment: '/aps/api/v1/payments/cancelPayment' } as const;
type Api = keyof typeof PATHS;

/** The gateway's side: signs with the ACQP key, verifies with the Alipay+ public key. */
const gatewaySigner = new Signer(CLIENT_ID, loadPrivateKey(ACQP_KEYS.privatePem), '1', new Map([['1', loadPublicKey(ALIPAYPLUS_KEYS.publicPem)]]));

// ---- the response schemas of openapi/alipayplus.yaml ---------------------------------------------------

const ajv = new Ajv2020({ strict: false, allErrors: true });
(addFormats as unknown as (a: Ajv2020) => void)(ajv);
const bundled = await bundle({ ref: fileURLToPath(new URL('../../openapi/alipayplus.yaml', import.meta.url)), config: await createConfig({}), dereference: true });
const operations = (bundled.bundle.parsed as { paths: Record<string, { post: any }> }).paths;
const responseValidators = Object.fromEntries(
  (Object.keys(PATHS) as Api[]).map((api) => [api, ajv.compile(operations[PATHS[api]]!.post.responses['200'].content['application/json'].schema)]),
) as Record<Api, ReturnType<typeof ajv.compile>>;

// ---- calling the simulator like the gateway ---------------------------------------------------------

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  body: any;
  /** The Signature verifies with the Alipay+ public key over the exact bytes received. */
  signed: boolean;
}

interface CallOptions {
  signer?: Signer;
  rawBody?: string;
  headers?: Record<string, string>;
  signPath?: string;
}

async function call(sim: Simulator, api: Api, body: unknown, options: CallOptions = {}): Promise<Answer> {
  const raw = options.rawBody ?? JSON.stringify(body);
  const signer = options.signer ?? gatewaySigner;
  const requestTime = new Date().toISOString();
  const response = await fetch(`${sim.url}${PATHS[api]}`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json; charset=UTF-8',
      'Client-Id': signer.clientId,
      'Request-Time': requestTime,
      Signature: await signer.sign(options.signPath ?? PATHS[api], requestTime, raw),
      ...options.headers,
    },
    body: Buffer.from(raw),
  });
  const text = await response.text();
  let parsed: any = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON (HTML, truncated): body stays null
  }
  const signed = gatewaySigner.verify(PATHS[api], response.headers.get('response-time') ?? '', text, response.headers.get('signature') ?? undefined).ok;
  if (parsed && response.status === 200) {
    const validate = responseValidators[api];
    expect(validate(parsed), `${api} answer conforms to openapi/alipayplus.yaml: ${ajv.errorsText(validate.errors)}`).toBe(true);
  }
  return { status: response.status, headers: response.headers, text, body: parsed, signed };
}

/** Only a correctly signed answer counts. */
async function signedCall(sim: Simulator, api: Api, body: unknown): Promise<any> {
  const answer = await call(sim, api, body);
  expect(answer.status).toBe(200);
  expect(answer.signed, `${api} answer is signed over the exact bytes`).toBe(true);
  expect(answer.headers.get('client-id')).toBe(CLIENT_ID);
  return answer.body;
}

const newId = () => `pr_test_${randomBytes(8).toString('hex')}`;

/** A pay body as the gateway builds it (src/domain/user-presented-payments.ts). */
function payBody(paymentRequestId: string, value = '1200', overrides: Record<string, unknown> = {}) {
  return {
    paymentRequestId,
    order: {
      referenceOrderId: 'ORD-1',
      orderDescription: '2 coffees',
      orderAmount: { currency: 'JPY', value },
      merchant: {
        referenceMerchantId: 'M00000000001',
        merchantName: 'UGG',
        merchantMCC: '5411',
        merchantAddress: { region: 'JP', city: 'Tokyo' },
        store: { referenceStoreId: 'S00000000001', storeName: 'UGG-2', storeMCC: '5411' },
      },
    },
    paymentAmount: { currency: 'JPY', value },
    paymentMethod: { paymentMethodType: 'CONNECT_WALLET', paymentMethodId: '281010897274821897274821' },
    paymentFactor: { isInStorePayment: 'true', inStorePaymentScenario: 'PaymentCode' },
    paymentExpiryTime: new Date(Date.now() + 60_000).toISOString(),
    settlementStrategy: { settlementCurrency: 'JPY' },
    ...overrides,
  };
}

const resultOf = (body: any) => `${body.result.resultStatus}/${body.result.resultCode}`;
const paymentResultOf = (body: any) => `${body.paymentResult.resultStatus}/${body.paymentResult.resultCode}`;

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

// ---- the simulator as the gateway's counterpart (no notifications) -----------------------------------

const PAY_HANG_MS = 300;
let sim: Simulator;

beforeAll(async () => {
  sim = await createSimulator({
    clientId: CLIENT_ID,
    privateKeyPem: ALIPAYPLUS_KEYS.privatePem,
    gatewayPublicKeyPem: ACQP_KEYS.publicPem,
    acquirerId: ACQUIRER_ID,
    notify: false,
    payHangMs: PAY_HANG_MS,
  });
});
afterAll(() => sim.close());

describe('pay, any other amount', () => {
  it('answers S at once with realistic ids, signed over the exact bytes', async () => {
    const id = newId();
    const body = await signedCall(sim, 'pay', payBody(id));
    expect(resultOf(body)).toBe('S/SUCCESS');
    expect(body.paymentId).toMatch(/^[0-9]{1,64}$/);
    expect(body.customerId).toMatch(/^2088[0-9]{12}$/);
    expect(body.acquirerId).toBe(ACQUIRER_ID);
    // 24-digit CGCP code, routing number 010 (digits 4–6) → the sandbox table's MAYA.
    expect(body).toMatchObject({ walletBrandName: 'MAYA', pspId: 'A111254900000000', paymentAmount: { currency: 'JPY', value: '1200' } });
    expect(Number.isNaN(Date.parse(body.paymentTime))).toBe(false);
    expect(body.paymentTime).toMatch(/\+08:00$/);
    expect(sim.payment(id)?.status).toBe('SUCCEEDED');
  });

  it('names the wallet from the code: routing number, Alipay+ 19-digit code, AlipayHK', async () => {
    const brandOf = async (code: string) => (await signedCall(sim, 'pay', payBody(newId(), '500', { paymentMethod: { paymentMethodType: 'CONNECT_WALLET', paymentMethodId: code } }))).walletBrandName;
    expect(await brandOf('281003897274821897274821')).toBe('KAKAOPAY');
    expect(await brandOf('2893612204263667830')).toBe('KAKAOPAY');
    expect(await brandOf('280244567856723026')).toBe('ALIPAY_HK');
  });

  it('fails a code that is no Alipay+ payment code with INVALID_CODE', async () => {
    const body = await signedCall(sim, 'pay', payBody(newId(), '500', { paymentMethod: { paymentMethodType: 'CONNECT_WALLET', paymentMethodId: '1234567890' } }));
    expect(resultOf(body)).toBe('F/INVALID_CODE');
  });
});

describe('idempotency on paymentRequestId', () => {
  it('gives a repeat the same result, whatever the key order or the nulls', async () => {
    const id = newId();
    const first = await signedCall(sim, 'pay', payBody(id));
    const reordered = payBody(id);
    const again = await signedCall(sim, 'pay', { ...reordered, paymentAmount: { value: '1200', currency: 'JPY' }, paymentNotifyUrl: null });
    expect(again).toEqual(first);
    expect(sim.calls(id, 'pay')).toHaveLength(2);
  });

  it.each([
    ['paymentAmount', { paymentAmount: { currency: 'JPY', value: '1201' } }],
    ['paymentMethod', { paymentMethod: { paymentMethodType: 'CONNECT_WALLET', paymentMethodId: '281003897274821897274821' } }],
    ['paymentFactor', { paymentFactor: { isInStorePayment: 'false', inStorePaymentScenario: 'PaymentCode' } }],
    ['settlementStrategy', { settlementStrategy: { settlementCurrency: 'USD' } }],
  ])('answers REPEAT_REQ_INCONSISTENT when %s differs', async (_field, change) => {
    const id = newId();
    await signedCall(sim, 'pay', payBody(id));
    const body = await signedCall(sim, 'pay', { ...payBody(id), ...change });
    expect(resultOf(body)).toBe('F/REPEAT_REQ_INCONSISTENT');
    expect(sim.payment(id)?.status).toBe('SUCCEEDED');
  });

  it('answers REPEAT_REQ_INCONSISTENT when order.orderAmount differs', async () => {
    const id = newId();
    await signedCall(sim, 'pay', payBody(id));
    const changed = payBody(id);
    changed.order.orderAmount = { currency: 'JPY', value: '999' };
    expect(resultOf(await signedCall(sim, 'pay', changed))).toBe('F/REPEAT_REQ_INCONSISTENT');
  });
});

describe('magic amounts', () => {
  it('has the eight documented entries', () => {
    expect(Object.keys(MAGIC_AMOUNTS)).toEqual(['100001', '100002', '100003', '100004', '100005', '100006', '100007', '100008']);
  });

  it('100001: U/PAYMENT_IN_PROCESS, then inquiry U, U, S', async () => {
    const id = newId();
    expect(resultOf(await signedCall(sim, 'pay', payBody(id, '100001')))).toBe('U/PAYMENT_IN_PROCESS');
    const inquiries = [];
    for (let i = 0; i < 4; i++) inquiries.push(await signedCall(sim, 'inquiryPayment', { paymentRequestId: id }));
    expect(inquiries.map(resultOf)).toEqual(['S/SUCCESS', 'S/SUCCESS', 'S/SUCCESS', 'S/SUCCESS']);
    expect(inquiries.map(paymentResultOf)).toEqual(['U/PAYMENT_IN_PROCESS', 'U/PAYMENT_IN_PROCESS', 'S/SUCCESS', 'S/SUCCESS']);
    expect(inquiries[2]).toMatchObject({ paymentRequestId: id, walletBrandName: 'MAYA', paymentAmount: { currency: 'JPY', value: '100001' } });
    expect(resultOf(await signedCall(sim, 'pay', payBody(id, '100001')))).toBe('S/SUCCESS');
    expect(sim.calls(id).map((c) => c.api)).toEqual(['pay', 'inquiryPayment', 'inquiryPayment', 'inquiryPayment', 'inquiryPayment', 'pay']);
  });

  it('100002: F/USER_BALANCE_NOT_ENOUGH, and the inquiry says so', async () => {
    const id = newId();
    expect(resultOf(await signedCall(sim, 'pay', payBody(id, '100002')))).toBe('F/USER_BALANCE_NOT_ENOUGH');
    const inquiry = await signedCall(sim, 'inquiryPayment', { paymentRequestId: id });
    expect([resultOf(inquiry), paymentResultOf(inquiry)]).toEqual(['S/SUCCESS', 'F/USER_BALANCE_NOT_ENOUGH']);
  });

  it('100003: U/UNKNOWN_EXCEPTION (nothing created), then S on the resent pay', async () => {
    const id = newId();
    expect(resultOf(await signedCall(sim, 'pay', payBody(id, '100003')))).toBe('U/UNKNOWN_EXCEPTION');
    expect(resultOf(await signedCall(sim, 'inquiryPayment', { paymentRequestId: id }))).toBe('F/ORDER_NOT_EXIST');
    expect(resultOf(await signedCall(sim, 'pay', payBody(id, '100003')))).toBe('S/SUCCESS');
    expect(paymentResultOf(await signedCall(sim, 'inquiryPayment', { paymentRequestId: id }))).toBe('S/SUCCESS');
  });

  it('100004: pay never answers (socket dropped after payHangMs); inquiry S + U; cancel S', async () => {
    const id = newId();
    const started = Date.now();
    await expect(call(sim, 'pay', payBody(id, '100004'))).rejects.toThrow();
    expect(Date.now() - started).toBeGreaterThanOrEqual(PAY_HANG_MS - 20);
    const inquiry = await signedCall(sim, 'inquiryPayment', { paymentRequestId: id });
    expect([resultOf(inquiry), paymentResultOf(inquiry)]).toEqual(['S/SUCCESS', 'U/PAYMENT_IN_PROCESS']);
    await expect(call(sim, 'pay', payBody(id, '100004'))).rejects.toThrow();
    expect(resultOf(await signedCall(sim, 'cancelPayment', { paymentRequestId: id }))).toBe('S/SUCCESS');
    expect(paymentResultOf(await signedCall(sim, 'inquiryPayment', { paymentRequestId: id }))).toBe('F/ORDER_IS_CLOSED');
    expect(sim.calls(id).map((c) => `${c.api} ${c.delivery ?? c.result}`)).toEqual([
      'pay NO_ANSWER',
      'inquiryPayment S/SUCCESS',
      'pay NO_ANSWER',
      'cancelPayment S/SUCCESS',
      'inquiryPayment S/SUCCESS',
    ]);
  });

  it('100005: the first S carries a bad signature, later answers are signed correctly', async () => {
    const id = newId();
    const first = await call(sim, 'pay', payBody(id, '100005'));
    expect(first.status).toBe(200);
    expect(resultOf(first.body)).toBe('S/SUCCESS');
    expect(first.headers.get('signature')).toMatch(/^algorithm=RSA256,keyVersion=1,signature=/);
    expect(first.signed).toBe(false);
    const again = await signedCall(sim, 'pay', payBody(id, '100005'));
    expect(again).toEqual(first.body);
    expect(paymentResultOf(await signedCall(sim, 'inquiryPayment', { paymentRequestId: id }))).toBe('S/SUCCESS');
  });

  it('100006: always in process until cancelled', async () => {
    const id = newId();
    expect(resultOf(await signedCall(sim, 'pay', payBody(id, '100006')))).toBe('U/PAYMENT_IN_PROCESS');
    for (let i = 0; i < 12; i++) expect(paymentResultOf(await signedCall(sim, 'inquiryPayment', { paymentRequestId: id }))).toBe('U/PAYMENT_IN_PROCESS');
    expect(resultOf(await signedCall(sim, 'pay', payBody(id, '100006')))).toBe('U/PAYMENT_IN_PROCESS');
    expect(resultOf(await signedCall(sim, 'cancelPayment', { paymentRequestId: id }))).toBe('S/SUCCESS');
    expect(paymentResultOf(await signedCall(sim, 'inquiryPayment', { paymentRequestId: id }))).toBe('F/ORDER_IS_CLOSED');
    expect(resultOf(await signedCall(sim, 'pay', payBody(id, '100006')))).toBe('F/ORDER_IS_CLOSED');
  });

  it('100007: HTTP 502 with HTML, unsigned, then S', async () => {
    const id = newId();
    const first = await call(sim, 'pay', payBody(id, '100007'));
    expect(first.status).toBe(502);
    expect(first.headers.get('content-type')).toMatch(/^text\/html/);
    expect(first.text).toContain('502 Bad Gateway');
    expect(first.headers.get('signature')).toBeNull();
    expect(resultOf(await signedCall(sim, 'pay', payBody(id, '100007')))).toBe('S/SUCCESS');
  });

  it('100008: truncated JSON signed over the truncated bytes, then S', async () => {
    const id = newId();
    const first = await call(sim, 'pay', payBody(id, '100008'));
    expect(first.status).toBe(200);
    expect(first.signed).toBe(true);
    expect(first.body).toBeNull();
    expect(first.text.startsWith('{"result":{"resultCode":"SUCCESS"')).toBe(true);
    expect(resultOf(await signedCall(sim, 'pay', payBody(id, '100008')))).toBe('S/SUCCESS');
  });

  it('applies to any currency', async () => {
    const id = newId();
    const body = payBody(id, '100002', { paymentAmount: { currency: 'USD', value: '100002' } });
    expect(resultOf(await signedCall(sim, 'pay', body))).toBe('F/USER_BALANCE_NOT_ENOUGH');
  });
});

describe('inquiryPayment and cancelPayment', () => {
  it('answers F/ORDER_NOT_EXIST for an unknown payment', async () => {
    expect(resultOf(await signedCall(sim, 'inquiryPayment', { paymentRequestId: newId() }))).toBe('F/ORDER_NOT_EXIST');
    expect(resultOf(await signedCall(sim, 'cancelPayment', { paymentRequestId: newId() }))).toBe('F/ORDER_NOT_EXIST');
  });

  it('finds a payment by paymentId too', async () => {
    const id = newId();
    const paid = await signedCall(sim, 'pay', payBody(id));
    const inquiry = await signedCall(sim, 'inquiryPayment', { paymentId: paid.paymentId });
    expect(inquiry).toMatchObject({ paymentRequestId: id, paymentId: paid.paymentId, paymentResult: { resultStatus: 'S' } });
  });

  it('cancels (reverses) a paid payment; its inquiry then says ORDER_IS_CLOSED; cancel is idempotent', async () => {
    const id = newId();
    await signedCall(sim, 'pay', payBody(id));
    const cancelled = await signedCall(sim, 'cancelPayment', { paymentRequestId: id });
    expect(cancelled).toMatchObject({ result: { resultStatus: 'S', resultCode: 'SUCCESS' }, paymentRequestId: id, acquirerId: ACQUIRER_ID });
    expect(resultOf(await signedCall(sim, 'cancelPayment', { paymentRequestId: id }))).toBe('S/SUCCESS');
    const inquiry = await signedCall(sim, 'inquiryPayment', { paymentRequestId: id });
    expect([resultOf(inquiry), paymentResultOf(inquiry)]).toEqual(['S/SUCCESS', 'F/ORDER_IS_CLOSED']);
    expect(sim.payment(id)?.status).toBe('CANCELLED');
  });
});

describe('refusals, signed like every answer', () => {
  it('PARAM_ILLEGAL names the field of a non-conforming pay', async () => {
    const { order: _order, ...withoutOrder } = payBody(newId());
    const cases: [unknown, RegExp][] = [
      [withoutOrder, /order/],
      [payBody(newId(), '1200', { paymentNotifyUrl: '' }), /paymentNotifyUrl/],
      [payBody(newId(), '1200', { paymentAmount: { currency: 'JPY', value: 1200 } }), /paymentAmount\.value/],
      [payBody(newId(), '1200', { unexpected: 'x' }), /unexpected|additional/],
      [payBody(newId(), '1200', { paymentMethod: { paymentMethodType: 'CARD', paymentMethodId: '281010897274821897274821' } }), /paymentMethod/],
      [payBody(newId(), '1200', { paymentRequestId: 'x'.repeat(65) }), /paymentRequestId/],
    ];
    for (const [body, field] of cases) {
      const answer = await signedCall(sim, 'pay', body);
      expect(resultOf(answer)).toBe('F/PARAM_ILLEGAL');
      expect(answer.result.resultMessage).toMatch(field);
    }
    const store = payBody(newId());
    delete (store.order.merchant as Partial<typeof store.order.merchant>).store;
    const answer = await signedCall(sim, 'pay', store);
    expect(answer.result.resultMessage).toMatch(/order\.merchant/);
  });

  it('PARAM_ILLEGAL for an inquiry that names no payment, or malformed JSON', async () => {
    expect(resultOf(await signedCall(sim, 'inquiryPayment', {}))).toBe('F/PARAM_ILLEGAL');
    expect(resultOf(await signedCall(sim, 'cancelPayment', { paymentRequestId: null }))).toBe('F/PARAM_ILLEGAL');
    const broken = await call(sim, 'pay', null, { rawBody: '{"paymentRequestId":' });
    expect(broken.signed).toBe(true);
    expect(resultOf(broken.body)).toBe('F/PARAM_ILLEGAL');
  });

  it('INVALID_SIGNATURE for a request signed with another key, over other bytes or another path', async () => {
    const stranger = new Signer(CLIENT_ID, loadPrivateKey(ALIPAYPLUS_KEYS_V2.privatePem), '1', new Map());
    const body = payBody(newId());
    for (const options of [{ signer: stranger }, { signPath: '/aps/api/v1/payments/refund' }, { headers: { Signature: 'algorithm=RSA256,keyVersion=1,signature=AAAA' } }]) {
      const answer = await call(sim, 'pay', body, options);
      expect(answer.signed).toBe(true);
      expect(resultOf(answer.body)).toBe('F/INVALID_SIGNATURE');
    }
    const tampered = JSON.stringify(body);
    const requestTime = new Date().toISOString();
    const response = await fetch(`${sim.url}${PATHS.pay}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Client-Id': CLIENT_ID, 'Request-Time': requestTime, Signature: await gatewaySigner.sign(PATHS.pay, requestTime, tampered) },
      body: tampered.replace('1200', '1300'),
    });
    expect((await response.json()).result.resultCode).toBe('INVALID_SIGNATURE');
    expect(sim.payment(body.paymentRequestId)).toBeUndefined();
  });

  it('KEY_NOT_FOUND for an unknown keyVersion, INVALID_CLIENT for another client id', async () => {
    const v2 = new Signer(CLIENT_ID, loadPrivateKey(ACQP_KEYS.privatePem), '2', new Map());
    expect(resultOf((await call(sim, 'pay', payBody(newId()), { signer: v2 })).body)).toBe('F/KEY_NOT_FOUND');
    const other = new Signer('SANDBOX_SOMEONE_ELSE', loadPrivateKey(ACQP_KEYS.privatePem), '1', new Map());
    expect(resultOf((await call(sim, 'pay', payBody(newId()), { signer: other })).body)).toBe('F/INVALID_CLIENT');
  });

  it('NO_INTERFACE_DEF, METHOD_NOT_SUPPORTED, MEDIA_TYPE_NOT_ACCEPTABLE', async () => {
    const refund = await fetch(`${sim.url}/aps/api/v1/payments/refund`, { method: 'POST', body: '{}' });
    expect((await refund.json()).result.resultCode).toBe('NO_INTERFACE_DEF');
    const get = await fetch(`${sim.url}${PATHS.pay}`);
    expect((await get.json()).result.resultCode).toBe('METHOD_NOT_SUPPORTED');
    const form = await fetch(`${sim.url}${PATHS.pay}`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'a=1' });
    expect((await form.json()).result.resultCode).toBe('MEDIA_TYPE_NOT_ACCEPTABLE');
  });
});

describe('control endpoint', () => {
  const control = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${sim.url}/simulator${path}`, { method, headers: body ? { 'Content-Type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  };

  it('scripts a paymentRequestId by name or amount, whatever its amount', async () => {
    const byName = newId();
    expect(await control('POST', '/scripts', { paymentRequestId: byName, magic: 'UNKNOWN_THEN_SUCCESS' })).toMatchObject({ status: 201, body: { magic: 'UNKNOWN_THEN_SUCCESS' } });
    expect(resultOf(await signedCall(sim, 'pay', payBody(byName, '1200')))).toBe('U/UNKNOWN_EXCEPTION');
    expect(resultOf(await signedCall(sim, 'pay', payBody(byName, '1200')))).toBe('S/SUCCESS');

    const byAmount = newId();
    expect((await control('POST', '/scripts', { paymentRequestId: byAmount, magic: '100002' })).status).toBe(201);
    expect(resultOf(await signedCall(sim, 'pay', payBody(byAmount, '1200')))).toBe('F/USER_BALANCE_NOT_ENOUGH');

    const plain = newId();
    expect(sim.script(plain, 'SUCCESS')?.name).toBe('SUCCESS');
    expect(resultOf(await signedCall(sim, 'pay', payBody(plain, '100006')))).toBe('S/SUCCESS');
  });

  it('refuses an unknown magic, and a payment pay has already seen', async () => {
    expect((await control('POST', '/scripts', { paymentRequestId: newId(), magic: 'NOPE' })).status).toBe(400);
    expect((await control('POST', '/scripts', { magic: '100001' })).status).toBe(400);
    const id = newId();
    await signedCall(sim, 'pay', payBody(id));
    expect((await control('POST', '/scripts', { paymentRequestId: id, magic: '100001' })).status).toBe(409);
  });

  it('shows a payment with its calls and counts, masked code, and lists payments', async () => {
    const id = newId();
    await signedCall(sim, 'pay', payBody(id, '100001'));
    await signedCall(sim, 'inquiryPayment', { paymentRequestId: id });
    const shown = await control('GET', `/payments/${id}`);
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({ paymentRequestId: id, status: 'PROCESSING', magic: 'IN_PROCESS_THEN_SUCCESS', paymentCode: '2810…4821', counts: { pay: 1, inquiryPayment: 1, cancelPayment: 0 } });
    expect(shown.body.calls).toEqual([
      { api: 'pay', time: expect.any(String), result: 'U/PAYMENT_IN_PROCESS' },
      { api: 'inquiryPayment', time: expect.any(String), result: 'S/SUCCESS', paymentResult: 'U/PAYMENT_IN_PROCESS' },
    ]);
    expect(JSON.stringify(shown.body)).not.toContain('281010897274821897274821');
    expect((await control('GET', '/payments')).body.items.map((p: { paymentRequestId: string }) => p.paymentRequestId)).toContain(id);
    expect((await control('GET', `/payments/${newId()}`)).status).toBe(404);
    expect((await control('GET', '/magic-amounts')).body).toHaveLength(8);
  });
});

describe('reset', () => {
  it('forgets payments and scripts', async () => {
    const separate = await createSimulator({ clientId: CLIENT_ID, privateKeyPem: ALIPAYPLUS_KEYS.privatePem, gatewayPublicKeyPem: ACQP_KEYS.publicPem, notify: false });
    try {
      const id = newId();
      separate.script(newId(), '100001');
      await signedCall(separate, 'pay', payBody(id));
      expect((await fetch(`${separate.url}/simulator/reset`, { method: 'POST' })).status).toBe(204);
      expect(separate.state.payments.size).toBe(0);
      expect(separate.state.scripts.size).toBe(0);
      expect(resultOf(await signedCall(separate, 'inquiryPayment', { paymentRequestId: id }))).toBe('F/ORDER_NOT_EXIST');
    } finally {
      await separate.close();
    }
  });
});

// ---- notifyPayment to a small fake gateway ------------------------------------------------------------

type Ack = 'SIGNED_S' | 'SIGNED_F' | 'UNSIGNED_S';

interface Received {
  path: string;
  signatureValid: boolean;
  headers: Record<string, string | undefined>;
  body: any;
}

/** Verifies the simulator's signature like the gateway, and acknowledges as scripted (then signed S). */
async function fakeGateway(acks: Ack[]): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const app = express();
  app.post(/.*/, express.raw({ type: () => true }), async (req, res) => {
    const raw = req.body as Buffer;
    const signatureValid = gatewaySigner.verify(req.originalUrl, req.get('request-time') ?? '', raw, req.get('signature')).ok;
    received.push({ path: req.originalUrl, signatureValid, headers: { 'client-id': req.get('client-id'), 'request-time': req.get('request-time') }, body: JSON.parse(raw.toString('utf8')) });
    const ack = acks.shift() ?? 'SIGNED_S';
    const json = JSON.stringify({ result: ack === 'SIGNED_F' ? { resultCode: 'PARAM_ILLEGAL', resultStatus: 'F', resultMessage: 'Illegal parameters.' } : { resultCode: 'SUCCESS', resultStatus: 'S', resultMessage: 'success' } });
    const responseTime = new Date().toISOString();
    const headers: Record<string, string> = { 'Content-Type': 'application/json', 'Client-Id': CLIENT_ID, 'Response-Time': responseTime };
    if (ack !== 'UNSIGNED_S') headers.Signature = await gatewaySigner.sign(req.originalUrl, responseTime, json);
    res.status(200).set(headers).end(json);
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('notifyPayment', () => {
  let gateway: Awaited<ReturnType<typeof fakeGateway>>;
  let notifying: Simulator;
  const acks: Ack[] = [];

  beforeAll(async () => {
    gateway = await fakeGateway(acks);
    notifying = await createSimulator({
      clientId: CLIENT_ID,
      privateKeyPem: ALIPAYPLUS_KEYS.privatePem,
      gatewayPublicKeyPem: ACQP_KEYS.publicPem,
      acquirerId: ACQUIRER_ID,
      gatewayUrl: gateway.url,
      notifyDelayMs: 20,
      notifyRetryScheduleMs: [30, 30, 30],
    });
  });
  afterAll(async () => {
    await notifying.close();
    await gateway.close();
  });
  beforeEach(() => {
    gateway.received.length = 0;
    acks.length = 0;
  });

  it('sends a signed notification once the payment is paid, retrying until a correctly signed S', async () => {
    acks.push('UNSIGNED_S', 'SIGNED_F');
    const id = newId();
    const paid = await signedCall(notifying, 'pay', payBody(id));
    await until(() => notifying.payment(id)?.notification.status === 'ACKNOWLEDGED');
    expect(gateway.received).toHaveLength(3);
    for (const r of gateway.received) {
      expect(r.signatureValid).toBe(true);
      expect(r.path).toBe('/aps/api/v1/payments/notifyPayment');
      expect(r.headers['client-id']).toBe(CLIENT_ID);
      expect(r.headers['request-time']).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+08:00$/);
    }
    expect(gateway.received[0]!.body).toEqual({
      paymentResult: { resultCode: 'SUCCESS', resultStatus: 'S', resultMessage: 'success' },
      paymentRequestId: id,
      paymentId: paid.paymentId,
      acquirerId: ACQUIRER_ID,
      pspId: paid.pspId,
      paymentAmount: { currency: 'JPY', value: '1200' },
      paymentTime: paid.paymentTime,
      customerId: paid.customerId,
      walletBrandName: paid.walletBrandName,
    });
    expect(gateway.received[2]!.body).toEqual(gateway.received[0]!.body);
    expect(notifying.calls(id, 'notifyPayment').map((c) => [c.attempt, c.result, c.acknowledged])).toEqual([
      [1, 'S/SUCCESS (INVALID_SIGNATURE on the acknowledgement)', false],
      [2, 'F/PARAM_ILLEGAL', false],
      [3, 'S/SUCCESS', true],
    ]);
  });

  it('notifies a failure, at the paymentNotifyUrl of the pay request (path and query signed)', async () => {
    const id = newId();
    await signedCall(notifying, 'pay', payBody(id, '100002', { paymentNotifyUrl: `${gateway.url}/hooks/alipayplus?tenant=7` }));
    await until(() => notifying.payment(id)?.notification.status === 'ACKNOWLEDGED');
    expect(gateway.received).toHaveLength(1);
    expect(gateway.received[0]).toMatchObject({ path: '/hooks/alipayplus?tenant=7', signatureValid: true });
    expect(gateway.received[0]!.body).toMatchObject({ paymentResult: { resultStatus: 'F', resultCode: 'USER_BALANCE_NOT_ENOUGH' }, paymentRequestId: id, acquirerId: ACQUIRER_ID });
  });

  it('never notifies an unknown payment, and notifies once it becomes final', async () => {
    const id = newId();
    await signedCall(notifying, 'pay', payBody(id, '100001'));
    await new Promise((r) => setTimeout(r, 80));
    expect(gateway.received).toHaveLength(0);
    for (let i = 0; i < 3; i++) await signedCall(notifying, 'inquiryPayment', { paymentRequestId: id });
    await until(() => gateway.received.length === 1);
    expect(gateway.received[0]!.body.paymentResult.resultStatus).toBe('S');
  });

  it('sends nothing for a payment scripted with notify: false', async () => {
    const id = newId();
    notifying.script(id, undefined, { notify: false });
    await signedCall(notifying, 'pay', payBody(id));
    await new Promise((r) => setTimeout(r, 80));
    expect(gateway.received).toHaveLength(0);
    expect(notifying.payment(id)?.notification).toMatchObject({ enabled: false, status: 'NONE' });
  });

  it('gives up after the last retry when nobody acknowledges', async () => {
    acks.push('SIGNED_F', 'SIGNED_F', 'SIGNED_F', 'SIGNED_F');
    const id = newId();
    await signedCall(notifying, 'pay', payBody(id));
    await until(() => notifying.payment(id)?.notification.status === 'GAVE_UP');
    expect(gateway.received).toHaveLength(4);
  });
});
