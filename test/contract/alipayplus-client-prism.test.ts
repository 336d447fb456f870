/**
 * Contract test of the outbound client: Prism mocks openapi/alipayplus.yaml with request validation on
 * (`prism mock … --errors`), so any request the gateway sends that violates the spec comes back 422.
 * Prism's `Prefer` header drives S, F and U answers — which Prism cannot sign, so the client must not
 * believe them (fail closed).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alipayplusClient } from '../../src/alipayplus/client.js';
import { loadSpec } from '../../src/http/specs.js';
import { loadPrivateKey, loadPublicKey, Signer } from '../../src/signing.js';
import type { AuditEntry, AuditLog } from '../../src/store/types.js';
import { CLIENT_ID, startGateway } from '../support/gateway.js';
import { ACQP_KEYS, ALIPAYPLUS_KEYS } from '../support/keys.js';
import { startPrism, type PrismProcess } from '../support/prism.js';

let prism: PrismProcess;
beforeAll(async () => {
  prism = await startPrism(['mock', 'openapi/alipayplus.yaml', '--errors']);
});
afterAll(() => prism?.stop());

const recorder = () => {
  const entries: AuditEntry[] = [];
  const audit: AuditLog = { record: (e) => entries.push(e), flush: async () => undefined };
  return { entries, audit };
};

describe('the outbound client against Prism (alipayplus.yaml, request validation on)', () => {
  it('sends pay, inquiryPayment and cancelPayment exactly as the spec says (no 422 from Prism)', async () => {
    const gw = await startGateway('sqlite', {
      ALIPAYPLUS_BASE_URL: prism.url,
      PAYMENT_WAIT_MS: '0',
      PAY_RETRY_SCHEDULE_MS: '100',
      INQUIRY_SCHEDULE_MS: '20,20,20,20,20,20,20,20,20,20',
      CANCEL_RETRY_SCHEDULE_MS: '200',
      WORKER_POLL_INTERVAL_MS: '20',
      PAYMENT_NOTIFY_URL: 'https://acqp.example/aps/api/v1/payments/notifyPayment',
    });
    try {
      const { apiKey } = await gw.onboardMerchant({ settlementCurrency: 'USD' });
      const { storeId } = await gw.createStore(apiKey);
      for (const extra of [{ terminalId: 'POS-1' }, {}]) {
        const answer = await gw.merchantApi('POST', '/v1/payments', {
          token: apiKey,
          body: { storeId, referenceOrderId: 'ORD-1', orderDescription: 'Coffee', amount: { currency: 'JPY', value: '500' }, paymentCode: '2893612204263667830', expiresInSeconds: 1, ...extra },
        });
        expect(answer.status).toBe(201);
      }
      await new Promise((r) => setTimeout(r, 2500));
      await gw.gateway.db.audit.flush();
      const calls = await gw.gateway.db.knex('audit_messages').where({ direction: 'OUT' }).select('api', 'http_status', 'response_body');
      for (const api of ['pay', 'inquiryPayment', 'cancelPayment']) expect(calls.some((c) => c.api === api), `no ${api} call`).toBe(true);
      for (const c of calls) expect(c.http_status, `${c.api}: ${c.response_body}`).toBe(200);
      // Prism's answers are unsigned: the payments are still not final (cancel is retried until a signed S).
      const { items } = (await gw.merchantApi('GET', '/v1/payments', { token: apiKey })).body;
      expect(items.map((p: { status: string }) => p.status)).toEqual(['PENDING', 'PENDING']);
    } finally {
      await gw.close();
    }
  });

  it('Prefer drives S, F and U; an unsigned answer is never believed, whatever it says', async () => {
    const doc = (await loadSpec('alipayplus', { dereference: true })) as any;
    const payExamples = doc.paths['/aps/api/v1/payments/pay'].post.requestBody.content['application/json'].examples;
    const body = JSON.stringify(Object.values<{ value: object }>(payExamples)[0]!.value);
    const signer = new Signer(CLIENT_ID, loadPrivateKey(ACQP_KEYS.privatePem), '1', new Map([['1', loadPublicKey(ALIPAYPLUS_KEYS.publicPem)]]));
    for (const [example, status] of [['success', 'S'], ['failed', 'F'], ['unknown', 'U']] as const) {
      const { entries, audit } = recorder();
      const client = alipayplusClient({ baseUrl: prism.url, signer, audit, headers: () => ({ Prefer: `example=${example}` }) });
      const result = await client.call('pay', body);
      expect(result).toMatchObject({ kind: 'NO_RESULT', reason: expect.stringContaining('not believed') });
      expect(entries[0]).toMatchObject({ direction: 'OUT', api: 'pay', httpStatus: 200 });
      expect(JSON.parse(entries[0]!.responseBody!).result.resultStatus).toBe(status);
      expect(entries[0]!.requestBody).not.toContain(JSON.parse(body).paymentMethod.paymentMethodId); // masked in the audit
    }
  });

  it('a request that breaks the spec is refused by Prism with 422 (the contract test can fail)', async () => {
    const { entries, audit } = recorder();
    const signer = new Signer(CLIENT_ID, loadPrivateKey(ACQP_KEYS.privatePem), '1', new Map());
    const client = alipayplusClient({ baseUrl: prism.url, signer, audit });
    const result = await client.call('pay', JSON.stringify({ paymentRequestId: '' }));
    expect(result).toMatchObject({ kind: 'NO_RESULT', reason: 'HTTP 422' });
    expect(entries[0]!.httpStatus).toBe(422);
  });
});
