/** placeOrder and inquiryPushPayment (DESIGN §1 A/B, seed 002, reference §3.7–§3.8, §8). */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectMatchesSpec } from '../support/contract.js';
import { ADMIN_TOKEN, describeEachDatabase, placeOrderBody, startGateway, type TestGateway } from '../support/gateway.js';

const JPY = (value: string) => ({ currency: 'JPY', value });

describeEachDatabase('placeOrder', (kind) => {
  let gw: TestGateway;
  let merchant: { merchantId: string; apiKey: string };
  let store: { storeId: string; entryCode: string };
  beforeAll(async () => {
    gw = await startGateway(kind);
    merchant = await gw.onboardMerchant({ perPaymentLimit: JPY('50000') });
    store = await gw.createStore(merchant.apiKey);
  });
  afterAll(() => gw?.close());

  const place = async (body: ReturnType<typeof placeOrderBody>) => {
    const answer = await gw.alipayplus('placeOrder', body);
    expect(answer.signatureValid).toBe(true);
    await expectMatchesSpec('acqp', 'placeOrder', 200, answer.body);
    return answer.body;
  };
  const inquire = async (body: object) => {
    const answer = await gw.alipayplus('inquiryPushPayment', body);
    expect(answer.signatureValid).toBe(true);
    await expectMatchesSpec('acqp', 'inquiryPushPayment', 200, answer.body);
    return answer.body;
  };
  const payment = async (paymentRequestId: string, apiKey = merchant.apiKey) => (await gw.merchantApi('GET', `/v1/payments/${paymentRequestId}`, { token: apiKey })).body;
  const newOrder = (overrides = {}) => gw.createOrder(merchant.apiKey, store.storeId, { amount: JPY('680'), ...overrides });
  const patchMerchant = (changes: object) => gw.merchantApi('PATCH', `/v1/merchants/${merchant.merchantId}`, { token: ADMIN_TOKEN, body: changes });

  it('accepts the order code once and marks the order SUCCEEDED with Alipay+ ids', async () => {
    const order = await newOrder();
    const body = placeOrderBody(order.codeValue, JPY('680'), { paymentRequestId: order.paymentRequestId });
    expect(await place(body)).toEqual({ result: { resultCode: 'SUCCESS', resultStatus: 'S', resultMessage: 'success' }, paymentRequestId: order.paymentRequestId });
    expect(await payment(order.paymentRequestId)).toMatchObject({
      status: 'SUCCEEDED',
      scenario: 'ORDER_CODE',
      paymentId: body.paymentId,
      pspId: body.pspId,
      customerId: body.customerId,
      paymentTime: expect.any(String),
      settlementAmount: JPY('680'),
    });
  });

  it('accepts an order code without paymentRequestId (Alipay+ sends it only when it kept it)', async () => {
    const order = await newOrder();
    expect((await place(placeOrderBody(order.codeValue, JPY('680')))).paymentRequestId).toBe(order.paymentRequestId);
  });

  it('returns the stored answer to an identical repeat, and changes nothing', async () => {
    const order = await newOrder();
    const body = placeOrderBody(order.codeValue, JPY('680'));
    const first = await place(body);
    const before = await payment(order.paymentRequestId);
    gw.clock.advance(2);
    expect(await place(body)).toEqual(first);
    expect(await payment(order.paymentRequestId)).toEqual(before);
  });

  it.each([
    ['paymentRequestId', (b: any, o: any) => ({ ...b, paymentRequestId: `${o.paymentRequestId}x` })],
    ['paymentAmount', (b: any) => ({ ...b, paymentAmount: JPY('681') })],
    ['settlementAmount', (b: any) => ({ ...b, settlementAmount: JPY('681') })],
  ])('answers REPEAT_REQ_INCONSISTENT to a repeat whose %s differs', async (_field, change) => {
    const order = await newOrder();
    const body = placeOrderBody(order.codeValue, JPY('680'), { paymentRequestId: order.paymentRequestId });
    expect((await place(body)).result.resultCode).toBe('SUCCESS');
    expect((await place(change(body, order))).result).toMatchObject({ resultCode: 'REPEAT_REQ_INCONSISTENT', resultStatus: 'F' });
    expect((await payment(order.paymentRequestId)).status).toBe('SUCCEEDED');
  });

  it('answers PARAM_ILLEGAL when paymentRequestId is not the order’s', async () => {
    const order = await newOrder();
    const answer = await place(placeOrderBody(order.codeValue, JPY('680'), { paymentRequestId: 'pr_someone_else' }));
    expect(answer.result).toMatchObject({ resultCode: 'PARAM_ILLEGAL', resultStatus: 'F' });
    expect((await payment(order.paymentRequestId)).status).toBe('PENDING');
  });

  it('answers PAYMENT_AMOUNT_INVALID when the amount is not the order’s', async () => {
    const order = await newOrder();
    expect((await place(placeOrderBody(order.codeValue, JPY('679')))).result.resultCode).toBe('PAYMENT_AMOUNT_INVALID');
    expect((await payment(order.paymentRequestId)).status).toBe('PENDING');
  });

  it('answers ORDER_IS_CLOSED to a second payment of a paid order', async () => {
    const order = await newOrder();
    expect((await place(placeOrderBody(order.codeValue, JPY('680')))).result.resultCode).toBe('SUCCESS');
    expect((await place(placeOrderBody(order.codeValue, JPY('680')))).result.resultCode).toBe('ORDER_IS_CLOSED');
  });

  it('answers ORDER_IS_CLOSED for a cancelled order and EXPIRED_CODE for an expired one', async () => {
    const cancelled = await newOrder();
    await gw.merchantApi('POST', `/v1/payments/${cancelled.paymentRequestId}/cancel`, { token: merchant.apiKey });
    expect((await place(placeOrderBody(cancelled.codeValue, JPY('680')))).result.resultCode).toBe('ORDER_IS_CLOSED');
    const expired = await newOrder({ expiresInSeconds: 10 });
    gw.clock.advance(11);
    expect((await place(placeOrderBody(expired.codeValue, JPY('680')))).result.resultCode).toBe('EXPIRED_CODE');
    expect((await payment(expired.paymentRequestId)).status).toBe('EXPIRED');
  });

  it('answers INVALID_CODE for a code it never issued', async () => {
    expect((await place(placeOrderBody('281004132828992222233', JPY('100')))).result.resultCode).toBe('INVALID_CODE');
  });

  it.each([
    ['zero', JPY('0'), 'PAYMENT_AMOUNT_INVALID'],
    ['an unknown currency', { currency: 'XXQ', value: '100' }, 'PAYMENT_AMOUNT_INVALID'],
    ['a decimal point', JPY('1.5'), 'PARAM_ILLEGAL'],
    ['a number instead of a string', { currency: 'JPY', value: 100 }, 'PARAM_ILLEGAL'],
    ['17 digits', JPY('10000000000000000'), 'PAYMENT_AMOUNT_INVALID'],
  ])('refuses a paymentAmount with %s', async (_what, amount, code) => {
    const answer = await place(placeOrderBody(store.entryCode, amount as never));
    expect(answer.result.resultCode).toBe(code);
  });

  it('answers PAYMENT_AMOUNT_INVALID when settlementAmount differs from paymentAmount in the same currency', async () => {
    expect((await place(placeOrderBody(store.entryCode, JPY('500'), { settlementAmount: JPY('499') }))).result.resultCode).toBe('PAYMENT_AMOUNT_INVALID');
  });

  it('creates the order for an entry code, with the amount the user typed', async () => {
    const body = placeOrderBody(store.entryCode, JPY('1200'));
    const answer = await place(body);
    expect(answer.result.resultCode).toBe('SUCCESS');
    expect(await payment(answer.paymentRequestId)).toMatchObject({
      scenario: 'ENTRY_CODE',
      status: 'SUCCEEDED',
      amount: JPY('1200'),
      storeId: store.storeId,
      paymentId: body.paymentId,
      referenceOrderId: body.paymentId,
    });
  });

  it('answers PAYMENT_AMOUNT_EXCEED_LIMIT above the per-payment limit, and accepts the limit itself', async () => {
    expect((await place(placeOrderBody(store.entryCode, JPY('50001')))).result.resultCode).toBe('PAYMENT_AMOUNT_EXCEED_LIMIT');
    expect((await place(placeOrderBody(store.entryCode, JPY('50000')))).result.resultCode).toBe('SUCCESS');
  });

  it('answers CURRENCY_NOT_SUPPORT for a currency the merchant does not accept', async () => {
    await patchMerchant({ acceptedCurrencies: ['JPY'] });
    try {
      expect((await place(placeOrderBody(store.entryCode, { currency: 'USD', value: '100' }))).result.resultCode).toBe('CURRENCY_NOT_SUPPORT');
    } finally {
      await patchMerchant({ acceptedCurrencies: null });
    }
  });

  it('checks a settlement in another currency against settlementQuote', async () => {
    await patchMerchant({ settlementCurrency: 'USD' });
    try {
      const quote = { quoteCurrencyPair: 'USD/JPY', quotePrice: '150' };
      const ok = placeOrderBody(store.entryCode, JPY('1500'), { settlementAmount: { currency: 'USD', value: '1000' }, settlementQuote: quote });
      expect((await place(ok)).result.resultCode).toBe('SUCCESS');
      const off = placeOrderBody(store.entryCode, JPY('1500'), { settlementAmount: { currency: 'USD', value: '1100' }, settlementQuote: quote });
      expect((await place(off)).result.resultCode).toBe('PAYMENT_AMOUNT_INVALID');
      const noQuote = placeOrderBody(store.entryCode, JPY('1500'), { settlementAmount: { currency: 'USD', value: '1000' } });
      expect((await place(noQuote)).result.resultCode).toBe('PARAM_ILLEGAL');
      const wrongCurrency = placeOrderBody(store.entryCode, JPY('1500'), { settlementAmount: { currency: 'EUR', value: '900' }, settlementQuote: { quoteCurrencyPair: 'EUR/JPY', quotePrice: '166' } });
      expect((await place(wrongCurrency)).result.resultCode).toBe('CURRENCY_NOT_SUPPORT');
    } finally {
      await patchMerchant({ settlementCurrency: null });
    }
  });

  it('answers INVALID_MERCHANT_STATUS and MERCHANT_KYB_NOT_QUALIFIED for an ineligible merchant', async () => {
    await patchMerchant({ status: 'SUSPENDED' });
    expect((await place(placeOrderBody(store.entryCode, JPY('100')))).result.resultCode).toBe('INVALID_MERCHANT_STATUS');
    await patchMerchant({ status: 'ACTIVE', kybStatus: 'REJECTED' });
    expect((await place(placeOrderBody(store.entryCode, JPY('100')))).result.resultCode).toBe('MERCHANT_KYB_NOT_QUALIFIED');
    await patchMerchant({ kybStatus: 'APPROVED' });
  });

  it('answers PAYMENT_COUNT_EXCEED_LIMIT past the daily count of PENDING and SUCCEEDED payments', async () => {
    const limited = await gw.onboardMerchant({ dailyPaymentCountLimit: 2 });
    const shop = await gw.createStore(limited.apiKey);
    await gw.createOrder(limited.apiKey, shop.storeId); // PENDING counts
    expect((await place(placeOrderBody(shop.entryCode, JPY('100')))).result.resultCode).toBe('SUCCESS');
    expect((await place(placeOrderBody(shop.entryCode, JPY('100')))).result.resultCode).toBe('PAYMENT_COUNT_EXCEED_LIMIT');
    const refused = await gw.merchantApi('POST', '/v1/orders', { token: limited.apiKey, body: { storeId: shop.storeId, referenceOrderId: 'R', orderDescription: 'd', amount: JPY('1') } });
    expect(refused.status).toBe(422);
    expect(refused.body.resultCode).toBe('PAYMENT_COUNT_EXCEED_LIMIT');
  });

  // Postgres's alone: a constraint checked at COMMIT makes a placeOrder's commit fail after its answer was
  // decided — and, on Postgres, signed ahead while the group committed (src/http/alipayplus/pipeline.ts).
  if (kind === 'postgres') {
    it('answers a placeOrder whose commit fails with a signed U/UNKNOWN_EXCEPTION, not the SUCCESS it had decided, and pays the others', async () => {
      const knex = gw.gateway.db.knex;
      await knex.raw(`create function refuse_at_commit() returns trigger language plpgsql as $$
        begin if new.payment_id = 'PAY_REFUSED_AT_COMMIT' then raise exception 'refused at commit'; end if; return null; end $$`);
      await knex.raw('create constraint trigger refuse_at_commit after insert on place_orders deferrable initially deferred for each row execute function refuse_at_commit()');
      try {
        const orders = await Promise.all([newOrder(), newOrder(), newOrder()]);
        const answers = await Promise.all(
          orders.map((order, i) => gw.alipayplus('placeOrder', placeOrderBody(order.codeValue, JPY('680'), i === 1 ? { paymentId: 'PAY_REFUSED_AT_COMMIT' } : {}))),
        );
        expect(answers.map((a) => a.signatureValid)).toEqual([true, true, true]);
        expect(answers.map((a) => `${a.body.result.resultStatus}/${a.body.result.resultCode}`)).toEqual(['S/SUCCESS', 'U/UNKNOWN_EXCEPTION', 'S/SUCCESS']);
        expect(answers[1]!.body).not.toHaveProperty('paymentRequestId');
        expect((await Promise.all(orders.map((o) => payment(o.paymentRequestId)))).map((p) => p.status)).toEqual(['SUCCEEDED', 'PENDING', 'SUCCEEDED']);
      } finally {
        await knex.raw('drop trigger refuse_at_commit on place_orders');
        await knex.raw('drop function refuse_at_commit()');
      }
    });
  }

  it('answers inquiryPushPayment consistently with placeOrder', async () => {
    const order = await newOrder();
    const body = placeOrderBody(order.codeValue, JPY('680'));
    const ask = { acquirerId: body.acquirerId, pspId: body.pspId, codeValue: body.codeValue, paymentId: body.paymentId };
    expect((await inquire(ask)).result).toMatchObject({ resultCode: 'ORDER_NOT_EXIST', resultStatus: 'F' });
    await place(body);
    expect(await inquire({ ...ask, paymentRequestId: order.paymentRequestId })).toMatchObject({
      result: { resultCode: 'SUCCESS', resultStatus: 'S' },
      paymentResult: { resultCode: 'SUCCESS', resultStatus: 'S' },
      paymentRequestId: order.paymentRequestId,
      paymentId: body.paymentId,
      paymentAmount: JPY('680'),
    });
    const refusedBody = placeOrderBody(order.codeValue, JPY('680'));
    expect((await place(refusedBody)).result.resultCode).toBe('ORDER_IS_CLOSED');
    expect(await inquire({ ...ask, paymentId: refusedBody.paymentId })).toMatchObject({
      result: { resultCode: 'SUCCESS', resultStatus: 'S' },
      paymentResult: { resultCode: 'ORDER_IS_CLOSED', resultStatus: 'F' },
    });
  });
});
