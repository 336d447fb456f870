/** The exported merchant client: typed calls, auth, and retries that never create twice. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMerchantClient } from '../../src/client/merchant-client.js';
import { ADMIN_TOKEN, placeOrderBody, startGateway, type TestGateway } from '../support/gateway.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway('sqlite');
});
afterAll(() => gw?.close());

describe('createMerchantClient', () => {
  it('completes an order-code payment end to end with typed calls', async () => {
    const admin = createMerchantClient({ baseUrl: gw.url, token: ADMIN_TOKEN });
    const onboarded = await admin.POST('/v1/merchants', { body: { referenceMerchantId: 'M-CLIENT', merchantName: 'Client Cafe', merchantMCC: '5812', merchantAddress: { region: 'JP' } } });
    expect(onboarded.response.status).toBe(201);
    const merchant = createMerchantClient({ baseUrl: gw.url, token: onboarded.data!.apiKey });
    const store = await merchant.POST('/v1/stores', { body: { referenceStoreId: 'S1', storeName: 'Client Cafe 1', storeMCC: '5812', address: { region: 'JP' } } });
    const order = await merchant.POST('/v1/orders', { body: { storeId: store.data!.storeId, referenceOrderId: 'R-1', orderDescription: 'Tea', amount: { currency: 'JPY', value: '400' } } });
    expect(order.data!.status).toBe('PENDING');
    expect((await gw.alipayplus('placeOrder', placeOrderBody(order.data!.codeValue, { currency: 'JPY', value: '400' }))).body.result.resultCode).toBe('SUCCESS');
    const paid = await merchant.GET('/v1/payments/{paymentRequestId}', { params: { path: { paymentRequestId: order.data!.paymentRequestId } } });
    expect(paid.data!.status).toBe('SUCCEEDED');
    const refused = await merchant.GET('/v1/payments/{paymentRequestId}', { params: { path: { paymentRequestId: 'nope' } } });
    expect(refused.error).toMatchObject({ status: 404, type: '/problems/not-found' });
  });

  it('retries an order creation lost on the way back with the same Idempotency-Key: one order', async () => {
    const { apiKey } = await gw.onboardMerchant();
    const { storeId } = await gw.createStore(apiKey);
    let attempts = 0;
    const flaky: typeof fetch = async (input, init) => {
      attempts++;
      const response = await fetch(input, init);
      if (attempts === 1) throw new TypeError('socket hang up'); // the gateway did the work, the answer was lost
      return response;
    };
    const merchant = createMerchantClient({ baseUrl: gw.url, token: apiKey, fetch: flaky, backoffMs: 10 });
    const order = await merchant.POST('/v1/orders', { body: { storeId, referenceOrderId: 'R-RETRY', orderDescription: 'Tea', amount: { currency: 'JPY', value: '400' } } });
    expect(attempts).toBe(2);
    expect(order.response.status).toBe(201);
    const { items } = (await gw.merchantApi('GET', '/v1/payments', { token: apiKey })).body;
    expect(items.map((p: { paymentRequestId: string }) => p.paymentRequestId)).toEqual([order.data!.paymentRequestId]);
  });

  it('does not retry a POST without an Idempotency-Key', async () => {
    let attempts = 0;
    const failing: typeof fetch = async () => {
      attempts++;
      throw new TypeError('connection refused');
    };
    const admin = createMerchantClient({ baseUrl: gw.url, token: ADMIN_TOKEN, fetch: failing, backoffMs: 1 });
    await expect(admin.POST('/v1/merchants', { body: { referenceMerchantId: 'M-X', merchantName: 'x', merchantMCC: '5812', merchantAddress: { region: 'JP' } } })).rejects.toThrow();
    expect(attempts).toBe(1);
  });
});
