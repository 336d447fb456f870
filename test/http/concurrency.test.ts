/**
 * Concurrent duplicates (DESIGN §4): 20 identical placeOrder calls at once give one order, one
 * Alipay+ payment on it, and 20 identical answers; the same for order codes with one Idempotency-Key;
 * concurrent payments never overrun a merchant's daily count. Runs on SQLite and on Postgres.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase, placeOrderBody, startGateway, type TestGateway } from '../support/gateway.js';

describeEachDatabase('concurrent placeOrder duplicates', (kind) => {
  let gw: TestGateway;
  let merchant: { apiKey: string };
  let store: { storeId: string; entryCode: string };
  beforeAll(async () => {
    gw = await startGateway(kind);
    merchant = await gw.onboardMerchant();
    store = await gw.createStore(merchant.apiKey);
  });
  afterAll(() => gw?.close());

  const fire = (body: object) => Promise.all(Array.from({ length: 20 }, () => gw.alipayplus('placeOrder', body)));
  const listAll = async () => (await gw.merchantApi('GET', '/v1/payments?limit=200', { token: merchant.apiKey })).body.items as any[];

  it('20 identical placeOrder calls on an entry code create one order and get 20 identical answers', async () => {
    const body = placeOrderBody(store.entryCode, { currency: 'JPY', value: '990' });
    const answers = await fire(body);
    const bodies = new Set(answers.map((a) => a.text)); // byte-identical answers
    expect(bodies.size).toBe(1);
    expect(answers[0]!.body.result.resultCode).toBe('SUCCESS');
    const created = (await listAll()).filter((p) => p.paymentId === body.paymentId);
    expect(created).toHaveLength(1);
  });

  it('20 identical placeOrder calls on an order code pay it once and get 20 identical answers', async () => {
    const order = await gw.createOrder(merchant.apiKey, store.storeId, { amount: { currency: 'JPY', value: '450' } });
    const body = placeOrderBody(order.codeValue, { currency: 'JPY', value: '450' }, { paymentRequestId: order.paymentRequestId });
    const answers = await fire(body);
    expect(new Set(answers.map((a) => a.text)).size).toBe(1);
    expect(answers[0]!.body).toMatchObject({ result: { resultCode: 'SUCCESS' }, paymentRequestId: order.paymentRequestId });
    const paid = await gw.merchantApi('GET', `/v1/payments/${order.paymentRequestId}`, { token: merchant.apiKey });
    expect(paid.body).toMatchObject({ status: 'SUCCEEDED', paymentId: body.paymentId });
  });

  it('20 different Alipay+ payments racing for one order code: exactly one wins, the others get ORDER_IS_CLOSED', async () => {
    const order = await gw.createOrder(merchant.apiKey, store.storeId, { amount: { currency: 'JPY', value: '300' } });
    const answers = await Promise.all(Array.from({ length: 20 }, () => gw.alipayplus('placeOrder', placeOrderBody(order.codeValue, { currency: 'JPY', value: '300' }))));
    const codes = answers.map((a) => a.body.result.resultCode).sort();
    expect(codes.filter((c) => c === 'SUCCESS')).toHaveLength(1);
    expect(codes.filter((c) => c === 'ORDER_IS_CLOSED')).toHaveLength(19);
  });

  it('20 different payments at once for a merchant with room for 5 today: exactly 5 succeed', async () => {
    const limited = await gw.onboardMerchant({ dailyPaymentCountLimit: 5 });
    const shop = await gw.createStore(limited.apiKey);
    const answers = await Promise.all(Array.from({ length: 20 }, () => gw.alipayplus('placeOrder', placeOrderBody(shop.entryCode, { currency: 'JPY', value: '120' }))));
    const codes = answers.map((a) => a.body.result.resultCode);
    expect(codes.filter((c) => c === 'SUCCESS')).toHaveLength(5);
    expect(codes.filter((c) => c === 'PAYMENT_COUNT_EXCEED_LIMIT')).toHaveLength(15);
    const listed = (await gw.merchantApi('GET', '/v1/payments?limit=200', { token: limited.apiKey })).body.items as unknown[];
    expect(listed).toHaveLength(5);
  });

  it('20 order codes at once with one Idempotency-Key: one order, 20 identical answers', async () => {
    const body = { storeId: store.storeId, referenceOrderId: 'ORD-IDEM-20', orderDescription: 'Matcha', amount: { currency: 'JPY', value: '640' } };
    const answers = await Promise.all(Array.from({ length: 20 }, () => gw.merchantApi('POST', '/v1/orders', { token: merchant.apiKey, body, headers: { 'Idempotency-Key': 'idem-20' } })));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(201));
    expect(new Set(answers.map((a) => JSON.stringify(a.body))).size).toBe(1);
    expect((await listAll()).filter((p) => p.referenceOrderId === 'ORD-IDEM-20')).toHaveLength(1);
  });

  it('20 order codes at once for a merchant with room for 5 today: exactly 5 are created', async () => {
    const limited = await gw.onboardMerchant({ dailyPaymentCountLimit: 5 });
    const shop = await gw.createStore(limited.apiKey);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        gw.merchantApi('POST', '/v1/orders', { token: limited.apiKey, body: { storeId: shop.storeId, referenceOrderId: `ORD-LIM-${i}`, orderDescription: 'Matcha', amount: { currency: 'JPY', value: '640' } } }),
      ),
    );
    expect(answers.filter((a) => a.status === 201)).toHaveLength(5);
    expect(answers.filter((a) => a.status === 422)).toHaveLength(15);
    expect((await gw.merchantApi('GET', '/v1/payments?limit=200', { token: limited.apiKey })).body.items).toHaveLength(5);
  });
});
