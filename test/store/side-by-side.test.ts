/**
 * The transactions that a group may run side by side (placeOrder, order codes) against the real store:
 * when two of one group reach for the same row, each still gets what running one after the other
 * would have given; the same statements of a group's transactions go to the database as one
 * (statement-batch.ts), and a batched statement that fails still leaves each its own outcome. The HTTP
 * concurrency tests cannot make two calls share a group reliably; here a transaction holds the writer
 * while the others queue, so they do. On both databases.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { codeValue } from '../../src/domain/codes.js';
import { idempotent } from '../../src/domain/idempotency.js';
import { merchantService } from '../../src/domain/merchants.js';
import { newPayment } from '../../src/domain/orders.js';
import { orderService } from '../../src/domain/orders.js';
import { pushPaymentService } from '../../src/domain/push-payments.js';
import { parseDirectIntegrations } from '../../src/domain/routing.js';
import { DEFAULT_SCHEDULE } from '../../src/domain/user-presented.js';
import { userPresentedService } from '../../src/domain/user-presented-payments.js';
import { openDatabase } from '../../src/store/index.js';
import type { Database, Repositories } from '../../src/store/types.js';
import { describeEachDatabase, type DatabaseKind } from '../support/gateway.js';
import { testStore } from '../support/store.js';

const CODE_BASE_URL = 'https://qr.acqp.test';

/** A fresh store (test/support/store.ts), opened; `remove` closes it and removes what it left. */
async function freshDatabase(kind: DatabaseKind): Promise<{ db: Database & { knex: Knex }; remove: () => Promise<void> }> {
  const store = testStore(kind, 'side');
  const db = await openDatabase(store.options);
  return { db, remove: () => store.remove(db.knex, () => db.close()) };
}

describeEachDatabase('side-by-side transactions on the store', (kind) => {
  let db: Database & { knex: Knex };
  let remove: () => Promise<void>;

  beforeEach(async () => void ({ db, remove } = await freshDatabase(kind)));
  afterEach(() => remove());

  // Only where the commit is a round trip to another process is it worth preparing the answer meanwhile (store/index.ts).
  it(`${kind === 'postgres' ? 'tells' : 'does not tell'} a transaction its result before the commit`, async () => {
    const told: string[] = [];
    const result = await db.transaction(async () => 'decided', { onWorkDone: (r) => void told.push(r) });
    expect(result).toBe('decided');
    expect(told).toEqual(kind === 'postgres' ? ['decided'] : []);
  });

  /** Runs the transactions `send` starts while another holds the writer: they queue, then form one group. */
  async function asOneGroup<T>(send: () => Promise<T>[]): Promise<T[]> {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const held = db.transaction(() => released);
    const sent = send();
    release();
    await held;
    return Promise.all(sent);
  }

  it('the same Idempotency-Key twice in one group: the second replays the first answer', async () => {
    const create = () =>
      db.transaction(
        (tx: Repositories) =>
          idempotent(tx, 'mch_1', 'createOrder', { key: 'k-1', request: { amount: 1 } }, new Date().toISOString(), async () => {
            await new Promise((r) => setTimeout(r, 20)); // the second reads the key meanwhile
            return { order: 'ord_1' };
          }),
        { sideBySide: true },
      );
    const [first, second] = await asOneGroup(() => [create(), create()]);
    expect(first).toEqual({ value: { order: 'ord_1' }, replayed: false });
    expect(second).toEqual({ value: { order: 'ord_1' }, replayed: true });
  });
});

describeEachDatabase('statements of one group sent as one', (kind) => {
  let db: Database & { knex: Knex };
  let remove: () => Promise<void>;
  let statements: string[];

  beforeEach(async () => {
    ({ db, remove } = await freshDatabase(kind));
    statements = [];
    db.knex.on('query', (q: { sql: string }) => statements.push(q.sql));
  });
  afterEach(() => remove());

  async function asOneGroup<T>(send: () => Promise<T>[]): Promise<PromiseSettledResult<T>[]> {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const held = db.transaction(() => released);
    const sent = send();
    statements.length = 0;
    release();
    await held;
    return Promise.allSettled(sent);
  }

  async function merchantWithStore() {
    const merchants = merchantService(db, () => new Date());
    const { merchant } = await merchants.onboard({ referenceMerchantId: 'M-1', merchantName: 'Tea House', merchantMCC: '5812', merchantAddress: { region: 'JP', city: 'Tokyo' }, settlementCurrency: 'JPY' });
    const store = await merchants.addStore(merchant, { referenceStoreId: 'S-1', storeName: 'Ginza', storeMCC: '5812', address: { region: 'JP', city: 'Tokyo' } });
    return { merchant, store };
  }

  it('five placeOrders on an entry code: one read, one claim and one insert for all, each with its own answer', async () => {
    const { store } = await merchantWithStore();
    const push = pushPaymentService(db, { codeBaseUrl: CODE_BASE_URL, settlementQuoteToleranceMinorUnits: 0n }, () => new Date());
    const entryCode = codeValue(CODE_BASE_URL, 'ENTRY_CODE', store.entryCodeToken);
    const amount = (i: number) => ({ currency: 'JPY', value: String(100 + i) });
    const settled = await asOneGroup(() =>
      Array.from({ length: 5 }, (_, i) => push.placeOrder({ codeValue: entryCode, paymentId: `pay-${i}`, pspId: 'PSP', paymentAmount: amount(i), settlementAmount: amount(i) })),
    );
    const answers = settled.map((s) => (s.status === 'fulfilled' ? s.value : s.reason));
    expect(answers.map((a) => a.result.resultCode)).toEqual(Array(5).fill('SUCCESS'));
    expect(new Set(answers.map((a) => a.paymentRequestId)).size).toBe(5);
    expect(statements.filter((sql) => /^select .* from [`"]stores[`"]/.test(sql))).toHaveLength(1);
    expect(statements.filter((sql) => sql.startsWith('insert into "place_orders"'))).toHaveLength(1);
    expect(statements.filter((sql) => sql.startsWith('insert into "payments"'))).toHaveLength(1);
    const stored = await db.knex('payments').orderBy('amount_value').select('payment_id', 'amount_value', 'payment_request_id');
    expect(stored.map((p: { payment_id: string; amount_value: string }) => [p.payment_id, p.amount_value])).toEqual(
      Array.from({ length: 5 }, (_, i) => [`pay-${i}`, String(100 + i)]),
    );
    answers.forEach((a, i) => expect(stored[i].payment_request_id).toBe(a.paymentRequestId));
  });

  it('notifyPayment side by side: one read and one insert for several; two for one payment run one after the other', async () => {
    const { merchant, store } = await merchantWithStore();
    const orders = orderService(db, { codeBaseUrl: CODE_BASE_URL, defaultOrderCodeTtlSeconds: 120 }, () => new Date());
    const order = (i: number) => orders.createOrder(merchant, { storeId: store.storeId, referenceOrderId: `ORD-${i}`, orderDescription: 'Tea', amount: { currency: 'JPY', value: '500' } });
    // notify calls neither Alipay+ nor the schedule for an order paid through the pull flow.
    const userPresented = userPresentedService(db, undefined as never, { schedule: DEFAULT_SCHEDULE, direct: parseDirectIntegrations(undefined), paymentNotifyUrl: undefined }, () => new Date());
    const notify = (paymentRequestId: string, paymentId: string) =>
      userPresented.notify({ paymentRequestId, paymentId, paymentResult: { resultStatus: 'S', resultCode: 'SUCCESS', resultMessage: 'success' }, paymentAmount: { currency: 'JPY', value: '500' } });
    const notificationsOf = async (paymentRequestId: string) => (await db.notifications.listFor(paymentRequestId)).map((n) => [n.paymentId, n.applied, n.flag]);

    const paid = await order(1);
    await notify(paid.paymentRequestId, 'pay-1');
    const settled = await asOneGroup(() => [notify(paid.paymentRequestId, 'pay-1'), notify('pr_unknown_a', 'pay-a'), notify('pr_unknown_b', 'pay-b')]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    expect(statements.filter((sql) => /^select \* from [`"]payments[`"]/.test(sql))).toHaveLength(1);
    expect(statements.filter((sql) => sql.startsWith('insert into "notifications"'))).toHaveLength(1);
    expect(await notificationsOf(paid.paymentRequestId)).toEqual([
      ['pay-1', true, null],
      ['pay-1', false, null],
    ]);
    expect(await notificationsOf('pr_unknown_b')).toEqual([['pay-b', false, 'UNKNOWN_PAYMENT']]);

    const pending = await order(2);
    const twice = await asOneGroup(() => [notify(pending.paymentRequestId, 'pay-2a'), notify(pending.paymentRequestId, 'pay-2b')]);
    expect(twice.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled']);
    // The second saw the first's write: recorded as a harmless duplicate, not applied again.
    expect(await notificationsOf(pending.paymentRequestId)).toEqual([
      ['pay-2a', true, null],
      ['pay-2b', false, null],
    ]);
    const settledOrder = await orders.getPayment(merchant, pending.paymentRequestId);
    expect([settledOrder.status, settledOrder.paymentId]).toEqual(['SUCCEEDED', 'pay-2a']);
  });

  it('reads outside transactions made together each get their own answer, missing ones included', async () => {
    const { merchant, store } = await merchantWithStore();
    const orders = orderService(db, { codeBaseUrl: CODE_BASE_URL, defaultOrderCodeTtlSeconds: 120 }, () => new Date());
    const order = (i: number) => orders.createOrder(merchant, { storeId: store.storeId, referenceOrderId: `ORD-${i}`, orderDescription: 'Tea', amount: { currency: 'JPY', value: String(100 + i) } });
    const [a, b] = [await order(1), await order(2)];
    const found = await Promise.all([b.paymentRequestId, 'pr_missing', a.paymentRequestId, b.paymentRequestId].map((id) => db.payments.findByRequestId(id)));
    expect(found.map((p) => p?.amount.value)).toEqual(['102', undefined, '101', '102']);
    const stores = await Promise.all([store.entryCodeToken, 'x'.repeat(22)].map((token) => db.stores.findByEntryCodeTokenWithMerchant(token)));
    expect(stores.map((s) => s?.merchant.merchantId)).toEqual([merchant.merchantId, undefined]);
  });

  it('a batched insert failing for one transaction: the others are stored, that one alone fails', async () => {
    const { merchant, store } = await merchantWithStore();
    const payment = (paymentRequestId: string) =>
      newPayment(
        { paymentRequestId, merchantId: merchant.merchantId, storeId: store.storeId, scenario: 'ORDER_CODE', status: 'PENDING', amount: { currency: 'JPY', value: '100' }, settlementCurrency: 'JPY', referenceOrderId: paymentRequestId, orderDescription: null, terminalId: null, codeToken: null, expiresAt: null },
        new Date(),
      );
    await db.transaction((tx) => tx.payments.insert(payment('pr_taken')));
    const insert = (id: string) => db.transaction((tx) => tx.payments.insert(payment(id)).then(() => id), { sideBySide: true });
    const settled = await asOneGroup(() => [insert('pr_a'), insert('pr_taken'), insert('pr_b')]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(statements.filter((sql) => sql.startsWith('insert into "payments"')).length).toBeGreaterThan(1); // the batch, then each alone
    expect((await db.knex('payments').orderBy('payment_request_id').select('payment_request_id')).map((r: { payment_request_id: string }) => r.payment_request_id)).toEqual([
      'pr_a',
      'pr_b',
      'pr_taken',
    ]);
  });

  it('an audit batch joins a group: written inside the writer’s transaction, and once even when its group rolls back', async () => {
    const auditInserts: (string | undefined)[] = [];
    db.knex.on('query', (q: { sql: string; __knexTxId?: string }) => {
      if (/^insert into "audit_messages"/.test(q.sql)) auditInserts.push(q.__knexTxId);
    });
    const auditEntry = (api: string) => ({ direction: 'IN' as const, api, requestHeaders: {}, requestBody: '{}', httpStatus: 200, responseHeaders: {}, responseBody: '{}', resultStatus: 'S', resultCode: 'SUCCESS', latencyMs: 1, createdAt: new Date().toISOString() });
    db.audit.record(auditEntry('first'));
    const [flushed, refused] = await asOneGroup(() => [db.audit.flush(), db.transaction(() => Promise.reject(new Error('refused')), { sideBySide: true })]);
    expect(flushed?.status).toBe('fulfilled');
    expect(refused).toMatchObject({ status: 'rejected', reason: { message: 'refused' } });
    // In the group, rolled back with it, then again alone: each time in a transaction, never beside one.
    expect(auditInserts.length).toBeGreaterThanOrEqual(1);
    expect(auditInserts.every((txId) => txId !== undefined)).toBe(true);
    expect(Number((await db.knex('audit_messages').where({ api: 'first' }).count({ n: '*' }))[0]?.n)).toBe(1);
  });
});

