import type { Knex } from 'knex';
import type { RowLock } from './group-commit.js';
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

export function placeOrderRepository(db: Knex | Knex.Transaction, lock: RowLock): PlaceOrderRepository {
  const table = () => db<PlaceOrderRow>('place_orders');
  return {
    async claim(r) {
      lock(`place_orders:${r.paymentId}`);
      // ON CONFLICT DO NOTHING: on Postgres a concurrent duplicate blocks here until the first
      // transaction commits, then inserts nothing; SQLite runs one transaction at a time.
      const inserted = await table()
        .insert({
          payment_id: r.paymentId,
          request_payment_request_id: r.requestPaymentRequestId,
          payment_amount: amountText(r.paymentAmount),
          settlement_amount: amountText(r.settlementAmount),
          code_value: r.codeValue,
          payment_request_id: r.paymentRequestId,
          response_body: JSON.stringify(r.responseBody),
          result_code: r.resultCode,
          created_at: r.createdAt,
        })
        .onConflict('payment_id')
        .ignore()
        .returning('payment_id');
      return inserted.length === 1;
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
