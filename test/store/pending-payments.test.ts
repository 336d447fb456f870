/**
 * The pending-payments gauge of /metrics (acqp_pending_payments), read on every scrape: it counts the
 * payments not yet final, and reads only those. Unpaid order codes stay PENDING in the table once
 * expired (expiry is decided at read time) and only accumulate; the count must not read them.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { newPayment } from '../../src/domain/orders.js';
import { pendingPaymentsCount } from '../../src/store/payments.js';
import { describeEachDatabase, startGateway, type TestGateway } from '../support/gateway.js';

describeEachDatabase('pending payments', (kind) => {
  let gw: TestGateway;
  let merchant: { merchantId: string; apiKey: string };
  let store: { storeId: string; entryCode: string };

  const pendingGauge = async () => {
    const text = (await gw.merchantApi('GET', '/metrics')).body as string;
    return Number(/^acqp_pending_payments (\S+)$/m.exec(text)?.[1]);
  };

  beforeAll(async () => {
    gw = await startGateway(kind);
    merchant = await gw.onboardMerchant();
    store = await gw.createStore(merchant.apiKey);
  });
  afterAll(() => gw?.close());

  it('counts unexpired order codes and payments in progress; not expired codes, nor final payments', async () => {
    await gw.createOrder(merchant.apiKey, store.storeId, { expiresInSeconds: 60 });
    await gw.createOrder(merchant.apiKey, store.storeId, { expiresInSeconds: 180 });
    const paid = await gw.createOrder(merchant.apiKey, store.storeId, { expiresInSeconds: 180 });
    await gw.gateway.db.transaction(async (tx) => {
      const found = await tx.payments.findByCodeToken(paid.codeValue.split('/').pop()!);
      await tx.payments.update({ ...found!, status: 'SUCCEEDED' });
      // A user-presented payment still waiting for the wallet's answer: no expiry of its own.
      const inProgress = { scenario: 'PAYMENT_CODE' as const, status: 'PENDING' as const, codeToken: null, expiresAt: null };
      await tx.payments.insert(
        newPayment(
          { paymentRequestId: `PR-pending-${kind}`, merchantId: merchant.merchantId, storeId: store.storeId, amount: { currency: 'JPY', value: '500' }, settlementCurrency: 'JPY', referenceOrderId: 'ORD-scan', orderDescription: null, terminalId: null, ...inProgress },
          gw.clock.now(),
        ),
      );
    });
    expect(await pendingGauge()).toBe(3);

    gw.clock.advance(120); // past the first code's expiry, before the others'
    expect(await pendingGauge()).toBe(2);
    gw.clock.advance(120);
    expect(await pendingGauge()).toBe(1); // the user-presented payment only
  });

  it('reads the payments_pending index, never the whole table', async () => {
    const knex = gw.gateway.db.knex;
    const { sql, bindings } = pendingPaymentsCount(knex, gw.clock.now().toISOString()).toSQL();
    if (kind === 'postgres') {
      // On the gateway's own connections (KEY_LOOKUP_PLANNER: no sequential scan where an index serves,
      // whatever the table's size), as the gauge runs.
      const { rows } = (await knex.raw(`explain ${sql}`, bindings)) as { rows: { 'QUERY PLAN': string }[] };
      const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
      const scans = plan.split(/\n(?=\s*->)/).filter((step) => /Scan/.test(step));
      expect(scans).toHaveLength(3); // one per scenario
      for (const scan of scans) {
        expect(scan).toMatch(/Index Only Scan using payments_pending .*\n\s*Index Cond: \(\(status = 'PENDING'::text\) AND \(scenario = '\w+'::text\)/);
        expect(scan).not.toMatch(/Filter:/);
      }
      expect(plan).toMatch(/scenario = 'ORDER_CODE'::text\) AND \(expires_at > /);
    } else {
      const rows = (await knex.raw(`explain query plan ${sql}`, bindings)) as { detail: string }[];
      const searches = rows.map((r) => r.detail).filter((d) => /\bpayments\b/.test(d));
      expect(searches).toHaveLength(3); // one per scenario
      for (const d of searches) expect(d).toMatch(/^SEARCH payments USING COVERING INDEX payments_pending \(status=\? AND scenario=\?(\)| AND expires_at>\?\))$/);
    }
  });
});
