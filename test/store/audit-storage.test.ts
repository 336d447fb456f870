/**
 * The audit's rows as the database keeps them. A userInitiatedPay exchange's row is wider than ~2 KB
 * (its answer carries the order and the merchant): Postgres would compress its text columns on every
 * insert; migration 003 has it keep rows of up to a page as they are.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AUDIT_ROWS_PER_STATEMENT } from '../../src/store/audit.js';
import { openDatabase } from '../../src/store/index.js';
import type { AuditEntry } from '../../src/store/types.js';
import { describeEachDatabase } from '../support/gateway.js';
import { testStore } from '../support/store.js';

/** An exchange about as wide as a userInitiatedPay's, its answer repetitive enough to compress well. */
function wideExchange(): AuditEntry {
  const signature = `algorithm=RSA256,keyVersion=1,signature=${'Q2xpZW50'.repeat(43)}`;
  const order = { referenceOrderId: 'ORDER-0001', orderDescription: 'Café au lait ×2 – 東京駅前店 '.repeat(30), orderAmount: { currency: 'JPY', value: '1200' } };
  return {
    direction: 'IN',
    api: 'userInitiatedPay',
    paymentRequestId: 'PR-audit-storage-1',
    paymentId: null,
    requestHeaders: { 'content-type': 'application/json', 'client-id': 'CLIENT', 'request-time': '2026-12-03T00:00:00.000Z', signature },
    requestBody: JSON.stringify({ codeValue: 'https://pay.test.acqp.example/c/0123456789abcdef', customerId: 'C1' }),
    httpStatus: 200,
    responseHeaders: { 'Content-Type': 'application/json; charset=UTF-8', 'Client-Id': 'CLIENT', 'Response-Time': '2026-12-03T00:00:00.010Z', Signature: signature },
    responseBody: JSON.stringify({ result: { resultCode: 'SUCCESS', resultStatus: 'S', resultMessage: 'Success' }, paymentRequestId: 'PR-audit-storage-1', order }),
    resultStatus: 'S',
    resultCode: 'SUCCESS',
    latencyMs: 3,
    createdAt: '2026-12-03T00:00:00.010Z',
  };
}

describeEachDatabase('audit rows as stored', (kind) => {
  const store = testStore(kind, 'audit_storage');
  let db: Awaited<ReturnType<typeof openDatabase>>;
  const exchange = wideExchange();

  beforeAll(async () => {
    db = await openDatabase(store.options);
    db.audit.record(exchange);
    await db.audit.flush();
  });

  afterAll(() => store.remove(db.knex, () => db.close()));

  it('reads a wide exchange back byte for byte', async () => {
    const row = await db.knex('audit_messages').where('payment_request_id', exchange.paymentRequestId).first();
    expect(row.response_body).toBe(exchange.responseBody);
    expect(JSON.parse(row.response_headers)).toEqual(exchange.responseHeaders);
    expect(JSON.parse(row.request_headers)).toEqual(exchange.requestHeaders);
  });

  it('writes a batch in statements of a fixed number of rows, the last one shorter', async () => {
    const rowCounts: number[] = [];
    const count = (query: { sql: string; bindings?: unknown[] }) => {
      if (!query.sql.startsWith('insert into "audit_messages"')) return;
      const columns = query.sql.slice(0, query.sql.indexOf(') values')).split(',').length;
      rowCounts.push(query.bindings!.length / columns);
    };
    db.knex.on('query', count);
    for (let i = 0; i < AUDIT_ROWS_PER_STATEMENT + 7; i++) db.audit.record({ ...exchange, paymentRequestId: `PR-statements-${i}` });
    await db.audit.flush();
    db.knex.off('query', count);
    expect(rowCounts).toEqual([AUDIT_ROWS_PER_STATEMENT, 7]);
    const [written] = await db.knex('audit_messages').where('payment_request_id', 'like', 'PR-statements-%').count({ n: '*' });
    expect(Number(written!.n)).toBe(AUDIT_ROWS_PER_STATEMENT + 7);
  });

  if (kind === 'postgres') {
    it('stores a row wider than 2 KB uncompressed on Postgres', async () => {
      const { rows } = await db.knex.raw(
        `select pg_column_size(a.*) as stored, octet_length(response_body) as text_bytes, pg_column_size(response_body) as stored_bytes
           from audit_messages a where payment_request_id = ?`,
        [exchange.paymentRequestId!],
      );
      expect(rows[0].stored).toBeGreaterThan(2100); // past Postgres's ~2 KB threshold
      expect(rows[0].stored_bytes).toBeGreaterThanOrEqual(rows[0].text_bytes); // not compressed
    });
  }
});
