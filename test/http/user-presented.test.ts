/**
 * User-presented payments through the real app (merchant API, worker, notifyPayment pipeline) with a
 * scripted Alipay+: every row of the result table, the schedule, cancel, and notifications. The same
 * flows against the signing simulator (real client, signatures, timeouts) are in test/behaviour/.
 */
import { afterEach, expect, it } from 'vitest';
import { expectMatchesSpec } from '../support/contract.js';
import { describeEachDatabase, startGateway, type TestGateway } from '../support/gateway.js';
import { F, INQUIRY, NONE, S_PAID, ScriptedAlipayplus, U } from '../support/scripted-alipayplus.js';

const CODE = '281010897274821897274821';
const USD = (value: string) => ({ currency: 'USD', value });
const FAST = {
  INQUIRY_SCHEDULE_MS: '20,20,20,20,20,20,20,20,20,20',
  PAY_RETRY_SCHEDULE_MS: '20',
  CANCEL_RETRY_SCHEDULE_MS: '20',
  WORKER_POLL_INTERVAL_MS: '20',
  PAYMENT_WAIT_MS: '3000',
  PAYMENT_NOTIFY_URL: 'https://acqp.example/aps/api/v1/payments/notifyPayment',
};

describeEachDatabase('user-presented payments', (kind) => {
  let gw: TestGateway;
  let alipayplus: ScriptedAlipayplus;
  let merchant: { apiKey: string };
  let store: { storeId: string };

  async function start(env: Record<string, string> = {}) {
    alipayplus = new ScriptedAlipayplus();
    gw = await startGateway(kind, { ...FAST, ...env }, alipayplus);
    merchant = await gw.onboardMerchant({ settlementCurrency: 'USD' });
    store = await gw.createStore(merchant.apiKey, { referenceStoreId: 'S-UPM', storeName: 'Deli', storeMCC: '5812' });
  }
  afterEach(() => gw?.close());

  const charge = async (overrides: Record<string, unknown> = {}, headers: Record<string, string> = {}) => {
    const answer = await gw.merchantApi('POST', '/v1/payments', {
      token: merchant.apiKey,
      headers,
      body: { storeId: store.storeId, referenceOrderId: 'ORD-7', orderDescription: 'Sandwich', amount: USD('1250'), paymentCode: CODE, terminalId: 'POS-3', ...overrides },
    });
    if (answer.status === 201) await expectMatchesSpec('merchant', 'createPayment', 201, answer.body);
    return answer;
  };
  const get = async (id: string) => (await gw.merchantApi('GET', `/v1/payments/${id}`, { token: merchant.apiKey })).body;
  const until = async (id: string, status: string, ms = 5000) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const p = await get(id);
      if (p.status === status || Date.now() > deadline) return p;
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const notify = (body: Record<string, unknown>) => gw.alipayplus('notifyPayment', { acquirerId: '1020000000000000001', ...body });
  const notifications = (id: string) => gw.gateway.db.notifications.listFor(id);

  it('pay S → 201 SUCCEEDED with the Alipay+ ids, after one pay carrying the documented fields', async () => {
    await start();
    const answer = await charge();
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ scenario: 'PAYMENT_CODE', status: 'SUCCEEDED', paymentId: 'P-1', walletBrandName: 'KAKAOPAY', pspId: '1022172000000000001', customerId: 'C-1' });
    expect(alipayplus.count('pay')).toBe(1);
    const sent = JSON.parse(alipayplus.calls[0]!.body);
    expect(sent).toMatchObject({
      paymentRequestId: answer.body.paymentRequestId,
      paymentAmount: USD('1250'),
      paymentMethod: { paymentMethodType: 'CONNECT_WALLET', paymentMethodId: CODE },
      paymentFactor: { isInStorePayment: 'true', inStorePaymentScenario: 'PaymentCode' },
      settlementStrategy: { settlementCurrency: 'USD' },
      paymentNotifyUrl: FAST.PAYMENT_NOTIFY_URL,
      order: {
        referenceOrderId: 'ORD-7',
        orderDescription: 'Sandwich',
        orderAmount: USD('1250'),
        merchant: { store: { referenceStoreId: 'S-UPM', storeName: 'Deli', storeMCC: '5812' } },
        env: { storeTerminalId: 'POS-3', storeTerminalRequestTime: answer.body.createdAt },
      },
    });
    expect(sent.paymentRequestId.length).toBeLessThanOrEqual(64);
    expect(Date.parse(sent.paymentExpiryTime) - Date.parse(answer.body.createdAt)).toBe(60_000);
  });

  it('sends the earlier of one minute and the merchant’s expiry', async () => {
    await start();
    const answer = await charge({ expiresInSeconds: 20 });
    expect(Date.parse(JSON.parse(alipayplus.calls[0]!.body).paymentExpiryTime) - Date.parse(answer.body.createdAt)).toBe(20_000);
  });

  it('pay F → 201 FAILED with the code', async () => {
    await start();
    alipayplus.script('pay', F('USER_BALANCE_NOT_ENOUGH'));
    const answer = await charge();
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ status: 'FAILED', failure: { resultCode: 'USER_BALANCE_NOT_ENOUGH' } });
  });

  it('pay U/PAYMENT_IN_PROCESS → inquiryPayment until S', async () => {
    await start();
    alipayplus.script('pay', U('PAYMENT_IN_PROCESS')).script('inquiryPayment', INQUIRY('U'), INQUIRY('U'), INQUIRY('S'));
    const answer = await charge();
    expect(answer.body).toMatchObject({ status: 'SUCCEEDED', paymentId: 'P-INQ', walletBrandName: 'GCASH' });
    expect(alipayplus.count('inquiryPayment')).toBe(3);
    expect(alipayplus.count('pay')).toBe(1);
  });

  it('other U, timeout → resends the identical pay with the same paymentRequestId', async () => {
    await start();
    alipayplus.script('pay', U('UNKNOWN_EXCEPTION'), NONE, S_PAID('P-3'));
    const answer = await charge();
    expect(answer.body).toMatchObject({ status: 'SUCCEEDED', paymentId: 'P-3' });
    const bodies = alipayplus.calls.filter((c) => c.api === 'pay').map((c) => c.body);
    expect(bodies).toHaveLength(3);
    expect(new Set(bodies).size).toBe(1);
  });

  it('always U → 10 inquiries, then cancelPayment at expiry → CANCELLED', async () => {
    await start({ PAYMENT_WAIT_MS: '0' });
    alipayplus.script('pay', U('PAYMENT_IN_PROCESS'));
    const answer = await charge({ expiresInSeconds: 1 });
    expect(answer.body.status).toBe('PENDING');
    const final = await until(answer.body.paymentRequestId, 'CANCELLED');
    expect(final.status).toBe('CANCELLED');
    expect(alipayplus.count('inquiryPayment')).toBe(10);
    const firstCancel = alipayplus.calls.findIndex((c) => c.api === 'cancelPayment');
    expect(alipayplus.calls.slice(firstCancel).every((c) => c.api === 'cancelPayment')).toBe(true);
  });

  it('retries cancelPayment until it succeeds', async () => {
    await start({ PAYMENT_WAIT_MS: '0' });
    alipayplus.script('pay', U('PAYMENT_IN_PROCESS')).script('cancelPayment', NONE, F('PROCESS_FAIL'), U('UNKNOWN_EXCEPTION'));
    const answer = await charge({ expiresInSeconds: 1 });
    expect((await until(answer.body.paymentRequestId, 'CANCELLED')).status).toBe('CANCELLED');
    expect(alipayplus.count('cancelPayment')).toBe(4);
  });

  it('answers PENDING after the configured wait, and the POS sees the final state later', async () => {
    await start({ PAYMENT_WAIT_MS: '100', INQUIRY_SCHEDULE_MS: '300,20,20,20,20,20,20,20,20,20' });
    alipayplus.script('pay', U('PAYMENT_IN_PROCESS')).script('inquiryPayment', INQUIRY('S'));
    const answer = await charge();
    expect(answer.body.status).toBe('PENDING');
    expect((await until(answer.body.paymentRequestId, 'SUCCEEDED')).status).toBe('SUCCEEDED');
  });

  it('refuses a code that is no Alipay+ payment code with 422, sending nothing and storing nothing', async () => {
    await start();
    const answer = await charge({ paymentCode: '1234567890123456789' });
    expect(answer.status).toBe(422);
    expect(answer.body.type).toBe('/problems/not-alipayplus-code');
    expect(alipayplus.calls).toHaveLength(0);
    expect((await gw.merchantApi('GET', '/v1/payments', { token: merchant.apiKey })).body.items).toHaveLength(0);
  });

  it('refuses a code of a directly integrated wallet with its own 422 problem type', async () => {
    await start({ DIRECT_WALLETS: 'ALIPAY_CN_HK,010' });
    const answer = await charge();
    expect(answer.status).toBe(422);
    expect(answer.body.type).toBe('/problems/direct-wallet');
    expect(answer.body.detail).toContain('MPP_010');
    expect(alipayplus.calls).toHaveLength(0);
  });

  it('replays the same Idempotency-Key without a second charge, and refuses it with another body', async () => {
    await start();
    const first = await charge({}, { 'Idempotency-Key': 'pos-7-tx-1' });
    const again = await charge({}, { 'Idempotency-Key': 'pos-7-tx-1' });
    expect(again.body.paymentRequestId).toBe(first.body.paymentRequestId);
    expect(alipayplus.count('pay')).toBe(1);
    expect((await charge({ amount: USD('1') }, { 'Idempotency-Key': 'pos-7-tx-1' })).status).toBe(409);
  });

  it('merchant cancel of a PENDING payment → 202, cancelPayment, CANCELLED; a late success notification is recorded, not applied', async () => {
    await start({ PAYMENT_WAIT_MS: '0', INQUIRY_SCHEDULE_MS: '5000,5000,5000,5000,5000,5000,5000,5000,5000,5000' });
    alipayplus.script('pay', U('PAYMENT_IN_PROCESS'));
    const { body: pending } = await charge();
    await until(pending.paymentRequestId, 'PENDING');
    const cancel = await gw.merchantApi('POST', `/v1/payments/${pending.paymentRequestId}/cancel`, { token: merchant.apiKey });
    expect(cancel.status).toBe(202);
    await expectMatchesSpec('merchant', 'cancelPayment', 202, cancel.body);
    expect((await until(pending.paymentRequestId, 'CANCELLED')).status).toBe('CANCELLED');
    const late = await notify({ paymentRequestId: pending.paymentRequestId, paymentId: 'P-LATE', paymentResult: { resultCode: 'SUCCESS', resultStatus: 'S' }, paymentAmount: USD('1250') });
    expect(late.body.result).toMatchObject({ resultCode: 'SUCCESS', resultStatus: 'S' });
    expect(late.signatureValid).toBe(true);
    expect((await get(pending.paymentRequestId)).status).toBe('CANCELLED');
    expect((await notifications(pending.paymentRequestId)).at(-1)).toMatchObject({ applied: false, flag: 'CONTRADICTS_FINAL' });
    expect((await gw.merchantApi('POST', `/v1/payments/${pending.paymentRequestId}/cancel`, { token: merchant.apiKey })).status).toBe(200);
  });

  it('a success notification while cancelling is recorded as AFTER_CANCEL and the payment still ends CANCELLED', async () => {
    // Two cancelPayment calls get no answer, the third succeeds, 1 s apart: the notification below
    // arrives while the payment is CANCELLING however slow the machine is (up to 2 s).
    await start({ PAYMENT_WAIT_MS: '0', INQUIRY_SCHEDULE_MS: '5000,5000,5000,5000,5000,5000,5000,5000,5000,5000', CANCEL_RETRY_SCHEDULE_MS: '1000' });
    alipayplus.script('pay', U('PAYMENT_IN_PROCESS')).script('cancelPayment', NONE, NONE);
    const { body: pending } = await charge();
    await gw.merchantApi('POST', `/v1/payments/${pending.paymentRequestId}/cancel`, { token: merchant.apiKey });
    while (alipayplus.count('cancelPayment', pending.paymentRequestId) === 0) await new Promise((r) => setTimeout(r, 10));
    await notify({ paymentRequestId: pending.paymentRequestId, paymentResult: { resultCode: 'SUCCESS', resultStatus: 'S' }, paymentAmount: USD('1250') });
    expect((await notifications(pending.paymentRequestId))[0]).toMatchObject({ applied: false, flag: 'AFTER_CANCEL' });
    expect((await until(pending.paymentRequestId, 'CANCELLED')).status).toBe('CANCELLED');
  });

  it('notify before inquiry settles the payment and stops the polling', async () => {
    await start({ PAYMENT_WAIT_MS: '0', INQUIRY_SCHEDULE_MS: '2000,20,20,20,20,20,20,20,20,20' });
    alipayplus.script('pay', U('PAYMENT_IN_PROCESS'));
    const { body: pending } = await charge();
    await new Promise((r) => setTimeout(r, 100));
    const ack = await notify({ paymentRequestId: pending.paymentRequestId, paymentId: 'P-N', pspId: 'psp', customerId: 'cust', walletBrandName: 'TNG', paymentTime: '2026-01-01T00:00:00Z', paymentResult: { resultCode: 'SUCCESS', resultStatus: 'S', resultMessage: 'success' }, paymentAmount: USD('1250') });
    await expectMatchesSpec('acqp', 'notifyPayment', 200, ack.body);
    expect(await get(pending.paymentRequestId)).toMatchObject({ status: 'SUCCEEDED', paymentId: 'P-N', walletBrandName: 'TNG' });
    await new Promise((r) => setTimeout(r, 2300));
    expect(alipayplus.count('inquiryPayment')).toBe(0);
  });

  it('notify after inquiry: a duplicate is harmless; a failure notification for a PENDING payment makes it FAILED', async () => {
    await start({ PAYMENT_WAIT_MS: '0' });
    alipayplus.script('pay', U('PAYMENT_IN_PROCESS')).script('inquiryPayment', INQUIRY('S'));
    const { body: pending } = await charge();
    await until(pending.paymentRequestId, 'SUCCEEDED');
    const dup = { paymentRequestId: pending.paymentRequestId, paymentId: 'P-INQ', paymentResult: { resultCode: 'SUCCESS', resultStatus: 'S' }, paymentAmount: USD('1250') };
    expect((await notify(dup)).body.result.resultCode).toBe('SUCCESS');
    expect((await notify(dup)).body.result.resultCode).toBe('SUCCESS');
    expect((await notifications(pending.paymentRequestId)).map((n) => n.flag)).toEqual([null, null]);
    expect((await get(pending.paymentRequestId)).status).toBe('SUCCEEDED');

    alipayplus.script('pay', U('PAYMENT_IN_PROCESS'));
    alipayplus.defaults.inquiryPayment = INQUIRY('U');
    const { body: other } = await charge({ referenceOrderId: 'ORD-8' });
    await notify({ paymentRequestId: other.paymentRequestId, paymentResult: { resultCode: 'RISK_REJECT', resultStatus: 'F', resultMessage: 'risk' } });
    expect(await get(other.paymentRequestId)).toMatchObject({ status: 'FAILED', failure: { resultCode: 'RISK_REJECT' } });
  });

  it('a notification with a wrong amount is acknowledged, recorded and flagged, never applied', async () => {
    await start({ PAYMENT_WAIT_MS: '0', INQUIRY_SCHEDULE_MS: '5000,5000,5000,5000,5000,5000,5000,5000,5000,5000' });
    alipayplus.script('pay', U('PAYMENT_IN_PROCESS'));
    const { body: pending } = await charge();
    const ack = await notify({ paymentRequestId: pending.paymentRequestId, paymentResult: { resultCode: 'SUCCESS', resultStatus: 'S' }, paymentAmount: USD('1') });
    expect(ack.body.result.resultCode).toBe('SUCCESS');
    expect((await get(pending.paymentRequestId)).status).toBe('PENDING');
    expect((await notifications(pending.paymentRequestId))[0]).toMatchObject({ applied: false, flag: 'AMOUNT_MISMATCH' });
  });

  it('a notification for an unknown payment is acknowledged and flagged; a badly signed one is refused', async () => {
    await start();
    expect((await notify({ paymentRequestId: 'pr_unknown', paymentResult: { resultCode: 'SUCCESS', resultStatus: 'S' } })).body.result.resultCode).toBe('SUCCESS');
    expect((await notifications('pr_unknown'))[0]).toMatchObject({ flag: 'UNKNOWN_PAYMENT' });
    const forged = await gw.alipayplus('notifyPayment', { acquirerId: 'x', paymentRequestId: 'pr_x', paymentResult: { resultCode: 'SUCCESS', resultStatus: 'S' } }, { headers: { Signature: 'algorithm=RSA256,keyVersion=1,signature=AAAA' } });
    expect(forged.body.result.resultCode).toBe('INVALID_SIGNATURE');
    expect(await notifications('pr_x')).toHaveLength(0);
  });
});
