import type { Knex } from 'knex';
import type { RowLock } from './group-commit.js';
import { insertRows } from './knex.js';
import type { StatementBatch } from './statement-batch.js';
import type { PlaceOrderRepository } from './types.js';

interface PlaceOrderRow {
  payment_id: string;
  request_payment_request_id: string | null;
  payment_amount: string;
  settlement_amount: string;
  code_value: string;
  payment_request_id: string | null;
  response_body: string | null;
  result_code: string | null;
  created_at: string;
}

const amountText = (a: { currency: string; value: string }) => `${a.currency} ${a.value}`;
const amountFrom = (text: string) => {
  const [currency = '', value = ''] = text.split(' ');
  return { currency, value };
};

/** Of rows inserted with ON CONFLICT DO NOTHING, which were: the first of each key among those returned. */
function claimedInOrder(rows: readonly PlaceOrderRow[], inserted: readonly Partial<PlaceOrderRow>[]): boolean[] {
  const unclaimed = new Set(inserted.map((row) => row.payment_id));
  return rows.map((row) => unclaimed.delete(row.payment_id));
}

export function placeOrderRepository(db: Knex | Knex.Transaction, lock: RowLock, batch: StatementBatch): PlaceOrderRepository {
  const table = () => db<PlaceOrderRow>('place_orders');
  return {
    async claim(r) {
      lock(`place_orders:${r.paymentId}`);
      const row: PlaceOrderRow = {
        payment_id: r.paymentId,
        request_payment_request_id: r.requestPaymentRequestId,
        payment_amount: amountText(r.paymentAmount),
        settlement_amount: amountText(r.settlementAmount),
        code_value: r.codeValue,
        payment_request_id: r.paymentRequestId,
        response_body: JSON.stringify(r.responseBody),
        result_code: r.resultCode,
        created_at: r.createdAt,
      };
      // ON CONFLICT DO NOTHING: on Postgres a duplicate from another instance blocks here until its
      // transaction commits, then inserts nothing; within a group the row lock keeps duplicates apart.
      return batch.run('placeOrders.claim', row, async (rows) =>
        claimedInOrder(rows, await insertRows(db, 'place_orders', rows, { ignoreConflictOn: 'payment_id', returning: 'payment_id' })),
      );
    },
    async find(paymentId) {
      lock(`place_orders:${paymentId}`);
      const row = await table().where({ payment_id: paymentId }).first();
      if (!row?.response_body || !row.result_code) return undefined;
      return {
        paymentId: row.payment_id,
        requestPaymentRequestId: row.request_payment_request_id,
        paymentAmount: amountFrom(row.payment_amount),
        settlementAmount: amountFrom(row.settlement_amount),
        codeValue: row.code_value,
        paymentRequestId: row.payment_request_id,
        responseBody: JSON.parse(row.response_body),
        resultCode: row.result_code,
        createdAt: row.created_at,
      };
    },
  };
}
