/**
 * Contract test: Prism as a validating proxy (`prism proxy openapi/<spec>.yaml <gateway> --errors`)
 * in front of the real gateway. Prism answers HTTP 500 with the violations when a response breaks the
 * spec, so every exchange below proves that the gateway answers exactly what its specs promise.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACQP_PATH, ADMIN_TOKEN, alipayplusSigner, placeOrderBody, startGateway, type TestGateway } from '../support/gateway.js';
import { startPrism, type PrismProcess } from '../support/prism.js';

let gw: TestGateway;
let acqpProxy: PrismProcess;
let merchantProxy: PrismProcess;
beforeAll(async () => {
  gw = await startGateway('sqlite');
  [acqpProxy, merchantProxy] = await Promise.all([
    startPrism(['proxy', 'openapi/acqp.yaml', gw.url, '--errors']),
    startPrism(['proxy', 'openapi/merchant.yaml', gw.url, '--errors']),
  ]);
});
afterAll(async () => {
  await Promise.all([acqpProxy?.stop(), merchantProxy?.stop()]);
  await gw?.close();
});

async function viaProxy(api: string, body: unknown, signer = alipayplusSigner()) {
  const path = `${ACQP_PATH}${api}`;
  const raw = JSON.stringify(body);
  const requestTime = new Date().toISOString();
  const response = await fetch(`${acqpProxy.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Client-Id': signer.clientId, 'Request-Time': requestTime, Signature: await signer.sign(path, requestTime, raw) },
    body: raw,
  });
  const text = await response.text();
  expect(response.status, `Prism found a contract violation: ${text}`).toBe(200);
  return JSON.parse(text);
}

async function merchantViaProxy(method: string, path: string, token: string, body?: unknown) {
  const response = await fetch(`${merchantProxy.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  expect(response.status, `Prism found a contract violation: ${text}`).not.toBe(500);
  return { status: response.status, body: JSON.parse(text) };
}

describe('acqp.yaml through a validating Prism proxy', () => {
  let merchant: { merchantId: string; apiKey: string };
  let store: { storeId: string; entryCode: string };
  beforeAll(async () => {
    merchant = await gw.onboardMerchant();
    store = await gw.createStore(merchant.apiKey);
  });

  it('userInitiatedPay: order code, entry code, and refusals', async () => {
    const order = await gw.createOrder(merchant.apiKey, store.storeId, { terminalId: 'T1' });
    expect((await viaProxy('userInitiatedPay', { codeValue: order.codeValue })).codeType).toBe('ORDER_CODE');
    expect((await viaProxy('userInitiatedPay', { codeValue: store.entryCode, customerId: null })).codeType).toBe('ENTRY_CODE');
    expect((await viaProxy('userInitiatedPay', { codeValue: 'https://unknown.example/o/x' })).result.resultCode).toBe('INVALID_CODE');
  });

  it('placeOrder and inquiryPushPayment: success, repeat, inconsistency, refusal', async () => {
    const order = await gw.createOrder(merchant.apiKey, store.storeId);
    const body = placeOrderBody(order.codeValue, { currency: 'JPY', value: '680' }, { paymentRequestId: order.paymentRequestId });
    expect((await viaProxy('placeOrder', body)).result.resultCode).toBe('SUCCESS');
    expect((await viaProxy('placeOrder', body)).paymentRequestId).toBe(order.paymentRequestId);
    expect((await viaProxy('placeOrder', { ...body, paymentAmount: { currency: 'JPY', value: '1' } })).result.resultCode).toBe('REPEAT_REQ_INCONSISTENT');
    expect((await viaProxy('placeOrder', placeOrderBody(store.entryCode, { currency: 'JPY', value: '0' }))).result.resultCode).toBe('PAYMENT_AMOUNT_INVALID');
    const ask = { acquirerId: body.acquirerId, pspId: body.pspId, codeValue: body.codeValue, paymentId: body.paymentId };
    expect((await viaProxy('inquiryPushPayment', ask)).paymentResult.resultCode).toBe('SUCCESS');
    expect((await viaProxy('inquiryPushPayment', { ...ask, paymentId: 'unknown' })).result.resultCode).toBe('ORDER_NOT_EXIST');
  });

  it('pipeline refusals are envelopes the spec allows', async () => {
    expect((await viaProxy('userInitiatedPay', { codeValue: 'x' }, alipayplusSigner('SANDBOX_OTHER'))).result.resultCode).toBe('INVALID_CLIENT');
    const wrongKey = alipayplusSigner(undefined, undefined, '9');
    expect((await viaProxy('userInitiatedPay', { codeValue: 'x' }, wrongKey)).result.resultCode).toBe('KEY_NOT_FOUND');
  });
});

describe('merchant.yaml through a validating Prism proxy', () => {
  it('onboarding, stores, orders, payments, cancel and problem answers match the spec', async () => {
    const created = await merchantViaProxy('POST', '/v1/merchants', ADMIN_TOKEN, {
      referenceMerchantId: `M${randomBytes(4).toString('hex')}`,
      merchantName: 'Prism Cafe',
      merchantMCC: '5812',
      merchantAddress: { region: 'SG', city: 'Singapore' },
      settlementCurrency: 'SGD',
    });
    expect(created.status).toBe(201);
    const key = created.body.apiKey;
    const store = await merchantViaProxy('POST', '/v1/stores', key, { referenceStoreId: 'S1', storeName: 'Prism Cafe 1', storeMCC: '5812', address: { region: 'SG' } });
    expect(store.status).toBe(201);
    expect((await merchantViaProxy('GET', `/v1/stores/${store.body.storeId}`, key)).status).toBe(200);
    const order = await merchantViaProxy('POST', '/v1/orders', key, { storeId: store.body.storeId, referenceOrderId: 'R1', orderDescription: 'Kopi', amount: { currency: 'SGD', value: '350' } });
    expect(order.status).toBe(201);
    expect((await merchantViaProxy('GET', `/v1/payments/${order.body.paymentRequestId}`, key)).body.status).toBe('PENDING');
    expect((await merchantViaProxy('GET', '/v1/payments?limit=10', key)).body.items).toHaveLength(1);
    expect((await merchantViaProxy('POST', `/v1/payments/${order.body.paymentRequestId}/cancel`, key)).body.status).toBe('CANCELLED');
    expect((await merchantViaProxy('GET', `/v1/merchants/${created.body.merchantId}`, ADMIN_TOKEN)).status).toBe(200);
    expect((await merchantViaProxy('PATCH', `/v1/merchants/${created.body.merchantId}`, ADMIN_TOKEN, { status: 'SUSPENDED' })).body.status).toBe('SUSPENDED');
    const refused = await merchantViaProxy('POST', '/v1/orders', key, { storeId: store.body.storeId, referenceOrderId: 'R2', orderDescription: 'Kopi', amount: { currency: 'SGD', value: '350' } });
    expect(refused.status).toBe(403);
    expect((await merchantViaProxy('GET', '/v1/payments/nope', key)).status).toBe(404);
    expect((await merchantViaProxy('GET', '/v1/payments', 'bad-key')).status).toBe(401);
  });
});
