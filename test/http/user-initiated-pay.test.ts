/** userInitiatedPay: decoding order codes and entry codes (DESIGN §1 A/B, seed 000). */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectMatchesSpec } from '../support/contract.js';
import { ADMIN_TOKEN, CODE_BASE_URL, describeEachDatabase, placeOrderBody, startGateway, type TestGateway } from '../support/gateway.js';

describeEachDatabase('userInitiatedPay', (kind) => {
  let gw: TestGateway;
  let merchant: { merchantId: string; apiKey: string; referenceMerchantId: string };
  let store: { storeId: string; entryCode: string };
  beforeAll(async () => {
    gw = await startGateway(kind);
    merchant = await gw.onboardMerchant({ settlementCurrency: 'USD' });
    store = await gw.createStore(merchant.apiKey, { referenceStoreId: 'GINZA-1', storeName: 'Tea House Ginza', storeMCC: '5812' });
  });
  afterAll(() => gw?.close());

  const decode = async (codeValue: string) => {
    const answer = await gw.alipayplus('userInitiatedPay', { acquirerId: '1020000000000000001', pspId: '1022172000000000001', codeValue, customerId: '208812211212001' });
    expect(answer.signatureValid).toBe(true);
    await expectMatchesSpec('acqp', 'userInitiatedPay', 200, answer.body);
    return answer;
  };
  const patchMerchant = (changes: object) => gw.merchantApi('PATCH', `/v1/merchants/${merchant.merchantId}`, { token: ADMIN_TOKEN, body: changes });

  it('decodes an order code into the order, its amount, factors, expiry and settlement strategy', async () => {
    const order = await gw.createOrder(merchant.apiKey, store.storeId, {
      referenceOrderId: 'R-1001',
      orderDescription: 'Two matcha lattes',
      amount: { currency: 'JPY', value: '1360' },
      terminalId: 'POS-7',
    });
    const { body } = await decode(order.codeValue);
    expect(body).toEqual({
      result: { resultCode: 'SUCCESS', resultStatus: 'S', resultMessage: 'success' },
      codeType: 'ORDER_CODE',
      paymentRequestId: order.paymentRequestId,
      paymentFactor: { isInStorePayment: 'true', isCashierPayment: 'true', inStorePaymentScenario: 'OrderCode' },
      order: {
        referenceOrderId: 'R-1001',
        orderDescription: 'Two matcha lattes',
        orderAmount: { currency: 'JPY', value: '1360' },
        merchant: {
          referenceMerchantId: merchant.referenceMerchantId,
          merchantName: 'Tea House',
          merchantMCC: '5812',
          merchantAddress: { region: 'JP', city: 'Tokyo' },
          store: { referenceStoreId: 'GINZA-1', storeName: 'Tea House Ginza', storeMCC: '5812' },
        },
        env: { storeTerminalId: 'POS-7', storeTerminalRequestTime: expect.any(String) },
      },
      paymentAmount: { currency: 'JPY', value: '1360' },
      paymentExpiryTime: order.expiresAt,
      settlementStrategy: { settlementCurrency: 'USD' },
    });
  });

  it('gives the same codeValue the same answer body, with the same paymentRequestId', async () => {
    const order = await gw.createOrder(merchant.apiKey, store.storeId);
    const first = await decode(order.codeValue);
    gw.clock.advance(5);
    const second = await decode(order.codeValue);
    expect(second.text).toBe(first.text);
  });

  it('never answers an expiry later than 3 minutes after the decode', async () => {
    const order = await gw.createOrder(merchant.apiKey, store.storeId, { expiresInSeconds: 180 });
    const decodedAt = gw.clock.now().getTime();
    const { body } = await decode(order.codeValue);
    expect(Date.parse(body.paymentExpiryTime)).toBeLessThanOrEqual(decodedAt + 180_000);
  });

  it('answers INVALID_CODE for a code it never issued', async () => {
    expect((await decode(`${CODE_BASE_URL}/o/AAAAAAAAAAAAAAAAAAAAAA`)).body.result).toMatchObject({ resultCode: 'INVALID_CODE', resultStatus: 'F' });
    expect((await decode('https://elsewhere.example/o/AAAAAAAAAAAAAAAAAAAAAA')).body.result.resultCode).toBe('INVALID_CODE');
    expect((await decode('281004132828992222233')).body.result.resultCode).toBe('INVALID_CODE');
  });

  it('answers EXPIRED_CODE once the order code has expired', async () => {
    const order = await gw.createOrder(merchant.apiKey, store.storeId, { expiresInSeconds: 30 });
    gw.clock.advance(31);
    expect((await decode(order.codeValue)).body.result).toMatchObject({ resultCode: 'EXPIRED_CODE', resultStatus: 'F' });
  });

  it('answers ORDER_IS_CLOSED for a paid order', async () => {
    const order = await gw.createOrder(merchant.apiKey, store.storeId);
    const placed = await gw.alipayplus('placeOrder', placeOrderBody(order.codeValue, { currency: 'JPY', value: '680' }, { settlementAmount: { currency: 'USD', value: '460' }, settlementQuote: { quoteCurrencyPair: 'USD/JPY', quotePrice: '148' } }));
    expect(placed.body.result.resultCode).toBe('SUCCESS');
    expect((await decode(order.codeValue)).body.result.resultCode).toBe('ORDER_IS_CLOSED');
  });

  it('answers ORDER_IS_CLOSED for a cancelled order', async () => {
    const order = await gw.createOrder(merchant.apiKey, store.storeId);
    expect((await gw.merchantApi('POST', `/v1/payments/${order.paymentRequestId}/cancel`, { token: merchant.apiKey })).status).toBe(200);
    expect((await decode(order.codeValue)).body.result.resultCode).toBe('ORDER_IS_CLOSED');
  });

  it('answers INVALID_MERCHANT_STATUS for an existing code of a suspended merchant, before KYB', async () => {
    const order = await gw.createOrder(merchant.apiKey, store.storeId);
    await patchMerchant({ status: 'SUSPENDED', kybStatus: 'REJECTED' });
    try {
      expect((await decode(order.codeValue)).body.result.resultCode).toBe('INVALID_MERCHANT_STATUS');
      expect((await decode(store.entryCode)).body.result.resultCode).toBe('INVALID_MERCHANT_STATUS');
    } finally {
      await patchMerchant({ status: 'ACTIVE', kybStatus: 'APPROVED' });
    }
  });

  it('answers MERCHANT_KYB_NOT_QUALIFIED when KYB is not approved', async () => {
    const order = await gw.createOrder(merchant.apiKey, store.storeId);
    await patchMerchant({ kybStatus: 'PENDING' });
    try {
      expect((await decode(order.codeValue)).body.result.resultCode).toBe('MERCHANT_KYB_NOT_QUALIFIED');
    } finally {
      await patchMerchant({ kybStatus: 'APPROVED' });
    }
  });

  it('answers CURRENCY_NOT_SUPPORT when the merchant stopped accepting the order currency', async () => {
    const order = await gw.createOrder(merchant.apiKey, store.storeId);
    await patchMerchant({ acceptedCurrencies: ['USD'] });
    try {
      expect((await decode(order.codeValue)).body.result.resultCode).toBe('CURRENCY_NOT_SUPPORT');
    } finally {
      await patchMerchant({ acceptedCurrencies: null });
    }
  });

  it('decodes an entry code into the merchant and store, with no amount (documented ENTRY_CODE answer)', async () => {
    const { body } = await decode(store.entryCode);
    expect(body).toEqual({
      result: { resultCode: 'SUCCESS', resultStatus: 'S', resultMessage: 'success' },
      codeType: 'ENTRY_CODE',
      order: {
        merchant: {
          referenceMerchantId: merchant.referenceMerchantId,
          merchantName: 'Tea House',
          merchantMCC: '5812',
          merchantAddress: { region: 'JP', city: 'Tokyo' },
          store: { referenceStoreId: 'GINZA-1', storeName: 'Tea House Ginza', storeMCC: '5812' },
        },
      },
      settlementStrategy: { settlementCurrency: 'USD' },
    });
  });

  it('issues a distinct code for every order', async () => {
    const a = await gw.createOrder(merchant.apiKey, store.storeId);
    const b = await gw.createOrder(merchant.apiKey, store.storeId);
    expect(a.codeValue).not.toBe(b.codeValue);
    expect(a.codeValue.startsWith(`${CODE_BASE_URL}/`)).toBe(true);
  });
});
