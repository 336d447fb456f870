/** The merchant API (DESIGN §2): auth, isolation, problem+json, orders, expiry, listing, cancel. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectMatchesSpec } from '../support/contract.js';
import { ADMIN_TOKEN, describeEachDatabase, placeOrderBody, startGateway, type TestGateway } from '../support/gateway.js';

const JPY = (value: string) => ({ currency: 'JPY', value });

describeEachDatabase('merchant API', (kind) => {
  let gw: TestGateway;
  let a: { merchantId: string; apiKey: string };
  let b: { merchantId: string; apiKey: string };
  let storeA: { storeId: string; entryCode: string };
  beforeAll(async () => {
    gw = await startGateway(kind);
    a = await gw.onboardMerchant();
    b = await gw.onboardMerchant();
    storeA = await gw.createStore(a.apiKey);
  });
  afterAll(() => gw?.close());

  const expectProblem = (answer: { status: number; headers: Headers; body: any }, status: number, type?: string) => {
    expect(answer.status).toBe(status);
    expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(answer.body).toMatchObject({ status, title: expect.any(String) });
    if (type) expect(answer.body.type).toBe(type);
  };

  describe('authentication', () => {
    it('requires the admin token to onboard a merchant', async () => {
      expectProblem(await gw.merchantApi('POST', '/v1/merchants', { body: {} }), 401, '/problems/unauthorized');
      expectProblem(await gw.merchantApi('POST', '/v1/merchants', { token: a.apiKey, body: {} }), 401);
      expectProblem(await gw.merchantApi('POST', '/v1/merchants', { token: `${ADMIN_TOKEN}x`, body: {} }), 401);
    });

    it('requires a merchant API key for merchant calls', async () => {
      expectProblem(await gw.merchantApi('GET', '/v1/payments'), 401);
      expectProblem(await gw.merchantApi('GET', '/v1/payments', { token: ADMIN_TOKEN }), 401);
      expectProblem(await gw.merchantApi('GET', '/v1/payments', { token: 'acqp_sk_not_a_key' }), 401);
    });

    it('stores API keys hashed, never in clear', async () => {
      const knex = gw.gateway.db.knex;
      const rows = await knex('merchants').select('*');
      expect(JSON.stringify(rows)).not.toContain(a.apiKey);
    });
  });

  describe('routing and validation', () => {
    it('answers 404 for a path the spec does not have', async () => {
      const answer = await gw.merchantApi('GET', '/v1/refunds', { token: a.apiKey });
      expectProblem(answer, 404, '/problems/not-found');
    });

    it('answers 405 with Allow for a method the path does not have', async () => {
      const answer = await gw.merchantApi('DELETE', '/v1/orders', { token: a.apiKey });
      expectProblem(answer, 405, '/problems/method-not-allowed');
      expect(answer.headers.get('allow')).toBe('POST');
      const onTemplatedPath = await gw.merchantApi('PUT', '/v1/payments/pr_x/cancel', { token: a.apiKey });
      expectProblem(onTemplatedPath, 405, '/problems/method-not-allowed');
      expect(onTemplatedPath.headers.get('allow')).toBe('POST');
    });

    it('answers 415 for a body that is not JSON', async () => {
      const answer = await gw.merchantApi('POST', '/v1/orders', { token: a.apiKey, headers: { 'Content-Type': 'text/plain' } });
      expectProblem(answer, 415, '/problems/unsupported-media-type');
    });

    it('answers 400 naming a query parameter the operation does not have', async () => {
      const answer = await gw.merchantApi('GET', '/v1/payments?colour=red', { token: a.apiKey });
      expectProblem(answer, 400, '/problems/validation-error');
      expect(answer.body.errors).toEqual([expect.objectContaining({ message: expect.stringContaining('colour') })]);
    });

    it('names the invalid field of a query and of a body', async () => {
      const query = await gw.merchantApi('GET', '/v1/payments?limit=0', { token: a.apiKey });
      expectProblem(query, 400, '/problems/validation-error');
      expect(query.body.errors).toEqual([expect.objectContaining({ path: 'limit' })]);
      const body = await gw.merchantApi('POST', '/v1/orders', { token: a.apiKey, body: { storeId: storeA.storeId, referenceOrderId: 'R-1', orderDescription: 'Tea', amount: { currency: 'JPY', value: 'ten' } } });
      expectProblem(body, 400, '/problems/validation-error');
      expect(body.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'amount.value' })]));
    });
  });

  describe('onboarding', () => {
    it('answers 201 with the merchant and its API key', async () => {
      const answer = await gw.merchantApi('POST', '/v1/merchants', {
        token: ADMIN_TOKEN,
        body: { referenceMerchantId: 'M-ONBOARD-1', merchantName: 'Noodle Bar', merchantMCC: '5814', merchantAddress: { region: 'HK' }, settlementCurrency: 'HKD', acceptedCurrencies: ['HKD'], perPaymentLimit: { currency: 'HKD', value: '500000' }, dailyPaymentCountLimit: 1000 },
      });
      expect(answer.status).toBe(201);
      await expectMatchesSpec('merchant', 'createMerchant', 201, answer.body);
      expect(answer.body).toMatchObject({ referenceMerchantId: 'M-ONBOARD-1', status: 'ACTIVE', kybStatus: 'APPROVED', apiKey: expect.any(String) });
      const again = await gw.merchantApi('POST', '/v1/merchants', { token: ADMIN_TOKEN, body: { referenceMerchantId: 'M-ONBOARD-1', merchantName: 'x', merchantMCC: '5814', merchantAddress: { region: 'HK' } } });
      expectProblem(again, 409);
    });

    it('refuses an invalid body with 400 problem+json naming the field', async () => {
      const answer = await gw.merchantApi('POST', '/v1/merchants', { token: ADMIN_TOKEN, body: { referenceMerchantId: 'M', merchantName: 'x', merchantMCC: 'ABCD', merchantAddress: { region: 'JP' } } });
      expectProblem(answer, 400, '/problems/validation-error');
      expect(JSON.stringify(answer.body.errors)).toContain('merchantMCC');
    });

    it('takes a daily payment count limit up to 2,147,483,647 and refuses a larger one with 400, on both stores', async () => {
      // A larger one went through to Postgres's 32-bit column and came back as a 500 (found by hostile-input.test.ts).
      const body = (referenceMerchantId: string, dailyPaymentCountLimit: number) => ({ referenceMerchantId, merchantName: 'x', merchantMCC: '5814', merchantAddress: { region: 'JP' }, dailyPaymentCountLimit });
      const largest = await gw.merchantApi('POST', '/v1/merchants', { token: ADMIN_TOKEN, body: body('M-LIMIT-MAX', 2_147_483_647) });
      expect(largest.status).toBe(201);
      expect(largest.body).toMatchObject({ dailyPaymentCountLimit: 2_147_483_647 });
      const tooLarge = await gw.merchantApi('POST', '/v1/merchants', { token: ADMIN_TOKEN, body: body('M-LIMIT-OVER', 792_500_663_277_967) });
      expectProblem(tooLarge, 400, '/problems/validation-error');
      expect(JSON.stringify(tooLarge.body.errors)).toContain('dailyPaymentCountLimit');
      const patched = await gw.merchantApi('PATCH', `/v1/merchants/${largest.body.merchantId}`, { token: ADMIN_TOKEN, body: { dailyPaymentCountLimit: 2_147_483_648 } });
      expectProblem(patched, 400, '/problems/validation-error');
    });

    it('refuses an unknown currency', async () => {
      const answer = await gw.merchantApi('POST', '/v1/merchants', { token: ADMIN_TOKEN, body: { referenceMerchantId: 'M-CUR', merchantName: 'x', merchantMCC: '5814', merchantAddress: { region: 'JP' }, settlementCurrency: 'QQQ' } });
      expectProblem(answer, 400);
    });

    it('changes status, KYB and limits with PATCH', async () => {
      const answer = await gw.merchantApi('PATCH', `/v1/merchants/${b.merchantId}`, { token: ADMIN_TOKEN, body: { kybStatus: 'PENDING', dailyPaymentCountLimit: 5 } });
      expect(answer.status).toBe(200);
      await expectMatchesSpec('merchant', 'updateMerchant', 200, answer.body);
      expect(answer.body).toMatchObject({ kybStatus: 'PENDING', dailyPaymentCountLimit: 5 });
      await gw.merchantApi('PATCH', `/v1/merchants/${b.merchantId}`, { token: ADMIN_TOKEN, body: { kybStatus: 'APPROVED', dailyPaymentCountLimit: null } });
      expectProblem(await gw.merchantApi('PATCH', '/v1/merchants/mch_nope', { token: ADMIN_TOKEN, body: { status: 'ACTIVE' } }), 404);
    });
  });

  describe('stores and orders', () => {
    it('creates a store with its entry code', async () => {
      const answer = await gw.merchantApi('POST', '/v1/stores', { token: a.apiKey, body: { referenceStoreId: 'SHOP-9', storeName: 'Kiosk', storeMCC: '5499', address: { region: 'JP' } } });
      expect(answer.status).toBe(201);
      await expectMatchesSpec('merchant', 'createStore', 201, answer.body);
      expect(answer.body.entryCode).toMatch(/^https:\/\/.+\/e\/[A-Za-z0-9_-]{22}$/);
      expectProblem(await gw.merchantApi('POST', '/v1/stores', { token: a.apiKey, body: { referenceStoreId: 'SHOP-9', storeName: 'Kiosk', storeMCC: '5499', address: { region: 'JP' } } }), 409);
    });

    it('creates an order code that expires after 120 s by default', async () => {
      const answer = await gw.merchantApi('POST', '/v1/orders', { token: a.apiKey, body: { storeId: storeA.storeId, referenceOrderId: 'R-1', orderDescription: 'Latte', amount: JPY('500') } });
      expect(answer.status).toBe(201);
      await expectMatchesSpec('merchant', 'createOrder', 201, answer.body);
      expect(answer.body.status).toBe('PENDING');
      const created = await gw.merchantApi('GET', `/v1/payments/${answer.body.paymentRequestId}`, { token: a.apiKey });
      expect(Date.parse(answer.body.expiresAt) - Date.parse(created.body.createdAt)).toBe(120_000);
    });

    it('refuses expiresInSeconds over 180', async () => {
      const answer = await gw.merchantApi('POST', '/v1/orders', { token: a.apiKey, body: { storeId: storeA.storeId, referenceOrderId: 'R-2', orderDescription: 'Latte', amount: JPY('500'), expiresInSeconds: 181 } });
      expectProblem(answer, 400);
      expect(JSON.stringify(answer.body)).toContain('expiresInSeconds');
    });

    it('refuses with 403 for an ineligible merchant (SUSPENDED wins over KYB) and 422 for a refused amount', async () => {
      await gw.merchantApi('PATCH', `/v1/merchants/${a.merchantId}`, { token: ADMIN_TOKEN, body: { status: 'SUSPENDED', kybStatus: 'REJECTED' } });
      const suspended = await gw.merchantApi('POST', '/v1/orders', { token: a.apiKey, body: { storeId: storeA.storeId, referenceOrderId: 'R-3', orderDescription: 'x', amount: JPY('1') } });
      await gw.merchantApi('PATCH', `/v1/merchants/${a.merchantId}`, { token: ADMIN_TOKEN, body: { status: 'ACTIVE', kybStatus: 'APPROVED' } });
      expectProblem(suspended, 403, '/problems/merchant-not-eligible');
      expect(suspended.body.resultCode).toBe('INVALID_MERCHANT_STATUS');
      const zero = await gw.merchantApi('POST', '/v1/orders', { token: a.apiKey, body: { storeId: storeA.storeId, referenceOrderId: 'R-4', orderDescription: 'x', amount: JPY('0') } });
      expectProblem(zero, 422, '/problems/payment-refused');
      expect(zero.body.resultCode).toBe('PAYMENT_AMOUNT_INVALID');
    });

    it('replays the same Idempotency-Key and refuses it with another body', async () => {
      const body = { storeId: storeA.storeId, referenceOrderId: 'R-IDEM', orderDescription: 'x', amount: JPY('100') };
      const first = await gw.merchantApi('POST', '/v1/orders', { token: a.apiKey, body, headers: { 'Idempotency-Key': 'k-1' } });
      const second = await gw.merchantApi('POST', '/v1/orders', { token: a.apiKey, body, headers: { 'Idempotency-Key': 'k-1' } });
      expect(second.status).toBe(201);
      expect(second.body).toEqual(first.body);
      expectProblem(await gw.merchantApi('POST', '/v1/orders', { token: a.apiKey, body: { ...body, amount: JPY('101') }, headers: { 'Idempotency-Key': 'k-1' } }), 409);
    });
  });

  describe('isolation', () => {
    it('never shows one merchant another merchant’s store or payment', async () => {
      const order = await gw.createOrder(a.apiKey, storeA.storeId);
      expectProblem(await gw.merchantApi('GET', `/v1/payments/${order.paymentRequestId}`, { token: b.apiKey }), 404);
      expectProblem(await gw.merchantApi('POST', `/v1/payments/${order.paymentRequestId}/cancel`, { token: b.apiKey }), 404);
      expectProblem(await gw.merchantApi('GET', `/v1/stores/${storeA.storeId}`, { token: b.apiKey }), 404);
      const onOthersStore = await gw.merchantApi('POST', '/v1/orders', { token: b.apiKey, body: { storeId: storeA.storeId, referenceOrderId: 'R', orderDescription: 'x', amount: JPY('1') } });
      expectProblem(onOthersStore, 404);
      const list = await gw.merchantApi('GET', '/v1/payments?limit=200', { token: b.apiKey });
      expect(list.body.items.map((p: any) => p.paymentRequestId)).not.toContain(order.paymentRequestId);
    });
  });

  describe('payments', () => {
    it('shows an unpaid order code as EXPIRED after its expiry', async () => {
      const order = await gw.createOrder(a.apiKey, storeA.storeId, { expiresInSeconds: 5 });
      gw.clock.advance(6);
      const answer = await gw.merchantApi('GET', `/v1/payments/${order.paymentRequestId}`, { token: a.apiKey });
      await expectMatchesSpec('merchant', 'getPayment', 200, answer.body);
      expect(answer.body.status).toBe('EXPIRED');
      const expired = await gw.merchantApi('GET', '/v1/payments?status=EXPIRED&limit=200', { token: a.apiKey });
      expect(expired.body.items.map((p: any) => p.paymentRequestId)).toContain(order.paymentRequestId);
      const pending = await gw.merchantApi('GET', '/v1/payments?status=PENDING&limit=200', { token: a.apiKey });
      expect(pending.body.items.map((p: any) => p.paymentRequestId)).not.toContain(order.paymentRequestId);
    });

    it('cancels an unpaid order code at once, idempotently, and refuses to cancel a paid one', async () => {
      const order = await gw.createOrder(a.apiKey, storeA.storeId);
      const cancelled = await gw.merchantApi('POST', `/v1/payments/${order.paymentRequestId}/cancel`, { token: a.apiKey });
      expect(cancelled.status).toBe(200);
      await expectMatchesSpec('merchant', 'cancelPayment', 200, cancelled.body);
      expect(cancelled.body.status).toBe('CANCELLED');
      expect((await gw.merchantApi('POST', `/v1/payments/${order.paymentRequestId}/cancel`, { token: a.apiKey })).status).toBe(200);
      const paid = await gw.createOrder(a.apiKey, storeA.storeId);
      await gw.alipayplus('placeOrder', placeOrderBody(paid.codeValue, JPY('680')));
      expectProblem(await gw.merchantApi('POST', `/v1/payments/${paid.paymentRequestId}/cancel`, { token: a.apiKey }), 409);
    });

    it('lists newest first, filters by status and time, and pages with a cursor', async () => {
      const m = await gw.onboardMerchant();
      const shop = await gw.createStore(m.apiKey);
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        ids.push((await gw.createOrder(m.apiKey, shop.storeId)).paymentRequestId);
        gw.clock.advance(1);
      }
      const first = await gw.merchantApi('GET', '/v1/payments?limit=2', { token: m.apiKey });
      await expectMatchesSpec('merchant', 'listPayments', 200, first.body);
      expect(first.body.items.map((p: any) => p.paymentRequestId)).toEqual([ids[4], ids[3]]);
      const second = await gw.merchantApi('GET', `/v1/payments?limit=2&cursor=${first.body.nextCursor}`, { token: m.apiKey });
      expect(second.body.items.map((p: any) => p.paymentRequestId)).toEqual([ids[2], ids[1]]);
      const third = await gw.merchantApi('GET', `/v1/payments?limit=2&cursor=${second.body.nextCursor}`, { token: m.apiKey });
      expect(third.body).toMatchObject({ nextCursor: null });
      expect(third.body.items.map((p: any) => p.paymentRequestId)).toEqual([ids[0]]);
      const all = (await gw.merchantApi('GET', '/v1/payments', { token: m.apiKey })).body.items;
      const middle = all[2].createdAt;
      const window = await gw.merchantApi('GET', `/v1/payments?createdFrom=${encodeURIComponent(middle)}&createdTo=${encodeURIComponent(middle)}`, { token: m.apiKey });
      expect(window.body.items.map((p: any) => p.paymentRequestId)).toEqual([ids[2]]);
    });

    it('refuses a NUL character in the body or the URL with 400 (Postgres cannot store it)', async () => {
      const body = { storeId: 'sto\u0000x', referenceOrderId: 'R', orderDescription: 'x', amount: JPY('1') };
      const answer = await gw.merchantApi('POST', '/v1/orders', { token: a.apiKey, body });
      expectProblem(answer, 400, '/problems/validation-error');
      expect(answer.body.detail).toContain('storeId');
      expectProblem(await gw.merchantApi('GET', '/v1/payments/pr%00x', { token: a.apiKey }), 400);
    });

    it('answers 400 problem+json for invalid list parameters', async () => {
      expectProblem(await gw.merchantApi('GET', '/v1/payments?limit=500', { token: a.apiKey }), 400);
      expectProblem(await gw.merchantApi('GET', '/v1/payments?status=PAID', { token: a.apiKey }), 400);
      expectProblem(await gw.merchantApi('GET', '/v1/payments?createdFrom=yesterday', { token: a.apiKey }), 400);
      expectProblem(await gw.merchantApi('GET', '/v1/payments?cursor=garbage', { token: a.apiKey }), 400);
      expectProblem(await gw.merchantApi('GET', '/v1/payments?colour=red', { token: a.apiKey }), 400);
    });
  });
});
