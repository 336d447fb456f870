/**
 * Behaviour of the real gateway (real outbound client: signatures, timeouts, fail-closed) against the
 * signing, stateful Alipay+ simulator: every magic amount ends in its documented final state, and the
 * simulator's signed notifications are acknowledged and recorded.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '../../src/simulator/index.js';
import { CLIENT_ID, describeEachDatabase, startGateway, type TestGateway } from '../support/gateway.js';
import { ACQP_KEYS, ALIPAYPLUS_KEYS } from '../support/keys.js';
import { freePort } from '../support/prism.js';

const CGCP_CODE = '281010897274821897274821';

describeEachDatabase('gateway against the Alipay+ simulator', (kind) => {
  let sim: Simulator;
  let gw: TestGateway;
  let apiKey: string;
  let storeId: string;
  beforeAll(async () => {
    const port = await freePort();
    sim = await createSimulator({
      clientId: CLIENT_ID,
      privateKeyPem: ALIPAYPLUS_KEYS.privatePem,
      gatewayPublicKeyPem: ACQP_KEYS.publicPem,
      gatewayUrl: `http://127.0.0.1:${port}`,
      // Later than any resend here, so that a payment settles by pay/inquiry answers alone and the
      // notification arrives as Alipay+'s second word on a final payment.
      notifyDelayMs: 1500,
      payHangMs: 300,
    });
    gw = await startGateway(
      kind,
      {
        ALIPAYPLUS_BASE_URL: sim.url,
        PAYMENT_WAIT_MS: '8000',
        INQUIRY_SCHEDULE_MS: '50,50,50,50,50,50,50,50,50,50',
        PAY_RETRY_SCHEDULE_MS: '50',
        CANCEL_RETRY_SCHEDULE_MS: '50',
        WORKER_POLL_INTERVAL_MS: '20',
      },
      undefined,
      port,
    );
    ({ apiKey } = await gw.onboardMerchant());
    ({ storeId } = await gw.createStore(apiKey));
  });
  afterAll(async () => {
    await gw?.close();
    await sim?.close();
  });

  const charge = async (value: string, extra: Record<string, unknown> = {}) => {
    const answer = await gw.merchantApi('POST', '/v1/payments', {
      token: apiKey,
      body: { storeId, referenceOrderId: `R-${value}`, orderDescription: 'Tea', amount: { currency: 'JPY', value }, paymentCode: CGCP_CODE, ...extra },
    });
    expect(answer.status).toBe(201);
    return answer.body;
  };
  const until = async (id: string, status: string) => {
    for (let i = 0; i < 200; i++) {
      const p = (await gw.merchantApi('GET', `/v1/payments/${id}`, { token: apiKey })).body;
      if (p.status === status) return p;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`${id} never became ${status}`);
  };
  const calls = (id: string, api: 'pay' | 'inquiryPayment' | 'cancelPayment') => sim.calls(id, api).length;

  it('an ordinary amount: S at once, one pay, wallet chosen from the routing number', async () => {
    const p = await charge('680');
    expect(p).toMatchObject({ status: 'SUCCEEDED', walletBrandName: expect.any(String), paymentId: expect.any(String), pspId: expect.any(String) });
    expect(calls(p.paymentRequestId, 'pay')).toBe(1);
  });

  it('100001: U/PAYMENT_IN_PROCESS, then S on the 3rd inquiry', async () => {
    const p = await charge('100001');
    expect(p.status).toBe('SUCCEEDED');
    expect(calls(p.paymentRequestId, 'inquiryPayment')).toBe(3);
  });

  it('100002: F/USER_BALANCE_NOT_ENOUGH', async () => {
    expect(await charge('100002')).toMatchObject({ status: 'FAILED', failure: { resultCode: 'USER_BALANCE_NOT_ENOUGH' } });
  });

  it('100003: U/UNKNOWN_EXCEPTION once, S on the identical resend', async () => {
    const p = await charge('100003');
    expect(p.status).toBe('SUCCEEDED');
    expect(calls(p.paymentRequestId, 'pay')).toBe(2);
  });

  it('100004: pay never answers → resent until expiry, one inquiry, cancelPayment → CANCELLED', async () => {
    const p = await charge('100004', { expiresInSeconds: 2 });
    const final = await until(p.paymentRequestId, 'CANCELLED');
    expect(final.status).toBe('CANCELLED');
    expect(calls(p.paymentRequestId, 'pay')).toBeGreaterThanOrEqual(2);
    expect(calls(p.paymentRequestId, 'cancelPayment')).toBeGreaterThanOrEqual(1);
  });

  it('100005: a badly signed S is not believed; the resend gets a correctly signed S', async () => {
    const p = await charge('100005');
    expect(p.status).toBe('SUCCEEDED');
    expect(calls(p.paymentRequestId, 'pay')).toBe(2);
  });

  it('100006: always U → 10 inquiries, then cancelPayment at expiry → CANCELLED', async () => {
    const p = await charge('100006', { expiresInSeconds: 1 });
    await until(p.paymentRequestId, 'CANCELLED');
    expect(calls(p.paymentRequestId, 'inquiryPayment')).toBe(10);
    expect(calls(p.paymentRequestId, 'cancelPayment')).toBe(1);
  });

  it.each([
    ['100007', 'HTTP 502 with HTML'],
    ['100008', 'truncated JSON'],
  ])('%s: %s once → no result → identical resend → S', async (value) => {
    const p = await charge(value);
    expect(p.status).toBe('SUCCEEDED');
    expect(calls(p.paymentRequestId, 'pay')).toBe(2);
  });

  it('the simulator’s signed notifyPayment is acknowledged S and recorded as a harmless duplicate', async () => {
    const p = await charge('681');
    const notifyCalls = () => sim.calls(p.paymentRequestId).filter((c) => c.api === 'notifyPayment');
    // The gateway stores the notification before it answers, and the simulator records the call once answered.
    for (let i = 0; i < 200 && ((await gw.gateway.db.notifications.listFor(p.paymentRequestId)).length === 0 || notifyCalls().length === 0); i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    const [notification] = await gw.gateway.db.notifications.listFor(p.paymentRequestId);
    expect(notification).toMatchObject({ resultStatus: 'S', applied: false, flag: null });
    const notify = notifyCalls();
    expect(notify.length).toBe(1); // acknowledged at the first attempt: no retry
  });
});
