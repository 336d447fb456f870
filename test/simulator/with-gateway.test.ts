/**
 * The simulator and the wallet against the real gateway (test/support/gateway.ts): the wallet's
 * userInitiatedPay + placeOrder pay an order code and an entry code; a user-presented payment goes
 * through the gateway's real client to the simulator, and the simulator's notifyPayment is acknowledged
 * by the gateway with a signature the simulator accepts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '../../src/simulator/index.js';
import { createWallet } from '../../src/simulator/wallet.js';
import { CLIENT_ID, startGateway, type TestGateway } from '../support/gateway.js';
import { ACQP_KEYS, ALIPAYPLUS_KEYS, ALIPAYPLUS_KEYS_V2 } from '../support/keys.js';
import { freePort } from '../support/prism.js';

const ACQUIRER_ID = '1020000000000000001';

let gw: TestGateway;
let sim: Simulator;
let apiKey: string;
let storeId: string;
let entryCode: string;

beforeAll(async () => {
  // The gateway must know the simulator's URL and the simulator the gateway's: reserve a port first.
  const simulatorPort = await freePort();
  gw = await startGateway('sqlite', {
    ALIPAYPLUS_BASE_URL: `http://127.0.0.1:${simulatorPort}`,
    PAYMENT_WAIT_MS: '5000',
    INQUIRY_SCHEDULE_MS: '20,20,20,20,20,20,20,20,20,20',
    PAY_RETRY_SCHEDULE_MS: '50',
    WORKER_POLL_INTERVAL_MS: '20',
  });
  sim = await createSimulator({
    port: simulatorPort,
    clientId: CLIENT_ID,
    privateKeyPem: ALIPAYPLUS_KEYS.privatePem,
    gatewayPublicKeyPem: ACQP_KEYS.publicPem,
    acquirerId: ACQUIRER_ID,
    gatewayUrl: gw.url,
    notifyDelayMs: 10,
    notifyRetryScheduleMs: [50],
  });
  ({ apiKey } = await gw.onboardMerchant());
  ({ storeId, entryCode } = await gw.createStore(apiKey));
});
afterAll(async () => {
  await sim?.close();
  await gw?.close();
});

const wallet = (overrides: { gatewayPublicKeyPem?: string } = {}) =>
  createWallet({ gatewayUrl: gw.url, clientId: CLIENT_ID, privateKeyPem: ALIPAYPLUS_KEYS.privatePem, gatewayPublicKeyPem: ACQP_KEYS.publicPem, acquirerId: ACQUIRER_ID, ...overrides });

describe('the wallet (Merchant-presented Mode)', () => {
  it('pays an order code: decode, then placeOrder with the decoded paymentRequestId and amount', async () => {
    const order = await gw.createOrder(apiKey, storeId);
    const scanned = await wallet().scan(order.codeValue);
    expect(scanned.reason).toBeNull();
    expect(scanned.paid).toBe(true);
    expect(scanned.decode.signature.ok).toBe(true);
    expect(scanned.decode.body).toMatchObject({ codeType: 'ORDER_CODE', paymentRequestId: order.paymentRequestId });
    const sent = JSON.parse(scanned.placeOrder!.requestBody);
    expect(sent).toMatchObject({ acquirerId: ACQUIRER_ID, codeValue: order.codeValue, paymentRequestId: order.paymentRequestId, paymentAmount: { currency: 'JPY', value: '680' }, settlementAmount: { currency: 'JPY', value: '680' } });
    expect(sent.paymentId).toMatch(/^[0-9]{35}$/);
    const payment = await gw.merchantApi('GET', `/v1/payments/${order.paymentRequestId}`, { token: apiKey });
    expect(payment.body.status).toBe('SUCCEEDED');
  });

  it('pays an entry code with the amount the user typed, and needs one', async () => {
    const withoutAmount = await wallet().scan(entryCode);
    expect(withoutAmount).toMatchObject({ paid: false, placeOrder: null });
    expect(withoutAmount.reason).toMatch(/amount/);
    const scanned = await wallet().scan(entryCode, { value: '1500' });
    expect(scanned.paid).toBe(true);
    expect(JSON.parse(scanned.placeOrder!.requestBody).paymentAmount).toEqual({ currency: 'JPY', value: '1500' });
  });

  it('reports a refused code, and never believes an answer it cannot verify', async () => {
    const unknown = await wallet().scan(`${gw.config.codeBaseUrl}/o/AAAAAAAAAAAAAAAAAAAAAA`);
    expect(unknown).toMatchObject({ paid: false, placeOrder: null });
    expect(unknown.reason).toMatch(/F\/INVALID_CODE/);
    const order = await gw.createOrder(apiKey, storeId);
    const distrustful = await wallet({ gatewayPublicKeyPem: ALIPAYPLUS_KEYS_V2.publicPem }).scan(order.codeValue);
    expect(distrustful).toMatchObject({ paid: false, placeOrder: null });
    expect(distrustful.reason).toMatch(/not believed/);
  });
});

describe('the simulator behind the gateway (User-presented Mode)', () => {
  const charge = (value: string) =>
    gw.merchantApi('POST', '/v1/payments', {
      token: apiKey,
      body: { storeId, referenceOrderId: 'ORD-UPM', orderDescription: 'Tea', amount: { currency: 'JPY', value }, paymentCode: '281003897274821897274821' },
    });

  it('a plain amount is paid at once, and the notification is acknowledged by the gateway', async () => {
    const answer = await charge('700');
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ status: 'SUCCEEDED', walletBrandName: 'KAKAOPAY' });
    const id = answer.body.paymentRequestId as string;
    expect(sim.payment(id)?.paymentId).toBe(answer.body.paymentId);
    await expect.poll(() => sim.payment(id)?.notification.status, { timeout: 5000 }).toBe('ACKNOWLEDGED');
    expect(sim.calls(id, 'notifyPayment')).toEqual([expect.objectContaining({ result: 'S/SUCCESS', acknowledged: true })]);
  });

  it('100001: the gateway inquires until the third inquiry says S', async () => {
    const answer = await charge('100001');
    expect(answer.body.status).toBe('SUCCEEDED');
    const id = answer.body.paymentRequestId as string;
    expect(sim.calls(id, 'pay')).toHaveLength(1);
    expect(sim.calls(id, 'inquiryPayment').map((c) => c.paymentResult)).toEqual(['U/PAYMENT_IN_PROCESS', 'U/PAYMENT_IN_PROCESS', 'S/SUCCESS']);
  });

  it('100005: the badly signed S is not believed; the payment is settled by what comes next', async () => {
    const answer = await charge('100005');
    expect(answer.body.status).toBe('SUCCEEDED');
    const id = answer.body.paymentRequestId as string;
    expect(sim.calls(id, 'pay')[0]).toMatchObject({ result: 'S/SUCCESS', delivery: 'BAD_SIGNATURE' });
    // The notification (10 ms) or the resent pay (50 ms), whichever comes first, made it SUCCEEDED.
    await gw.gateway.db.audit.flush();
    const pays = await gw.gateway.db.knex('audit_messages').where({ direction: 'OUT', api: 'pay', payment_request_id: id }).orderBy('id').select('result_code');
    expect(pays[0].result_code).toMatch(/^NO_RESULT: answer not believed/);
  });
});
