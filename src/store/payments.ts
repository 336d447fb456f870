import type { Knex } from 'knex';
import type { Payment } from '../domain/model.js';
import type { RowLock } from './group-commit.js';
import { compiledQuery, insertRow, isPostgres, joinColumns } from './knex.js';
import { findByKey, type StatementBatch } from './statement-batch.js';
import { merchantColumns, merchantFromRow, storeColumns, storeFromRow } from './merchants.js';
import type { PaymentListFilter, PaymentRepository } from './types.js';

interface PaymentRow {
  payment_request_id: string;
  merchant_id: string;
  store_id: string;
  scenario: Payment['scenario'];
  status: Payment['status'];
  currency: string;
  amount_value: string;
  settlement_currency: string;
  reference_order_id: string;
  order_description: string | null;
  terminal_id: string | null;
  code_token: string | null;
  expires_at: string | null;
  payment_id: string | null;
  psp_id: string | null;
  customer_id: string | null;
  wallet_brand_name: string | null;
  payment_time: string | null;
  settlement_amount_currency: string | null;
  settlement_amount_value: string | null;
  failure_code: string | null;
  failure_message: string | null;
  created_at: string;
  updated_at: string;
}

/** A payment's columns in a compiled join (decode and placeOrder on an order code). */
const paymentColumns = joinColumns<PaymentRow>({
  payment_request_id: true,
  merchant_id: true,
  store_id: true,
  scenario: true,
  status: true,
  currency: true,
  amount_value: true,
  settlement_currency: true,
  reference_order_id: true,
  order_description: true,
  terminal_id: true,
  code_token: true,
  expires_at: true,
  payment_id: true,
  psp_id: true,
  customer_id: true,
  wallet_brand_name: true,
  payment_time: true,
  settlement_amount_currency: true,
  settlement_amount_value: true,
  failure_code: true,
  failure_message: true,
  created_at: true,
  updated_at: true,
});

function toRow(p: Payment): PaymentRow {
  return {
    payment_request_id: p.paymentRequestId,
    merchant_id: p.merchantId,
    store_id: p.storeId,
    scenario: p.scenario,
    status: p.status,
    currency: p.amount.currency,
    amount_value: p.amount.value,
    settlement_currency: p.settlementCurrency,
    reference_order_id: p.referenceOrderId,
    order_description: p.orderDescription,
    terminal_id: p.terminalId,
    code_token: p.codeToken,
    expires_at: p.expiresAt,
    payment_id: p.paymentId,
    psp_id: p.pspId,
    customer_id: p.customerId,
    wallet_brand_name: p.walletBrandName,
    payment_time: p.paymentTime,
    settlement_amount_currency: p.settlementAmount?.currency ?? null,
    settlement_amount_value: p.settlementAmount?.value ?? null,
    failure_code: p.failureCode,
    failure_message: p.failureMessage,
    created_at: p.createdAt,
    updated_at: p.updatedAt,
  };
}

function fromRow(r: PaymentRow): Payment {
  return {
    paymentRequestId: r.payment_request_id,
    merchantId: r.merchant_id,
    storeId: r.store_id,
    scenario: r.scenario,
    status: r.status,
    amount: { currency: r.currency, value: r.amount_value },
    settlementCurrency: r.settlement_currency,
    referenceOrderId: r.reference_order_id,
    orderDescription: r.order_description,
    terminalId: r.terminal_id,
    codeToken: r.code_token,
    expiresAt: r.expires_at,
    paymentId: r.payment_id,
    pspId: r.psp_id,
    customerId: r.customer_id,
    walletBrandName: r.wallet_brand_name,
    paymentTime: r.payment_time,
    settlementAmount:
      r.settlement_amount_currency && r.settlement_amount_value
        ? { currency: r.settlement_amount_currency, value: r.settlement_amount_value }
        : null,
    failureCode: r.failure_code,
    failureMessage: r.failure_message,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** An order code past its expiry is EXPIRED although its row still says PENDING (see effectiveStatus). */
function whereExpiredOrderCode(q: Knex.QueryBuilder, now: string): Knex.QueryBuilder {
  return q.where('status', 'PENDING').andWhere('scenario', 'ORDER_CODE').andWhere('expires_at', '<=', now);
}

/** Every scenario but ORDER_CODE: an object with every key, so that a scenario added to the type and missing here fails to compile. */
const scenariosWithoutExpiry = Object.keys({ ENTRY_CODE: true, PAYMENT_CODE: true } satisfies Record<Exclude<Payment['scenario'], 'ORDER_CODE'>, true>) as Payment['scenario'][];

/**
 * How many payments are not final: order codes PENDING and unexpired, and payments of the other
 * scenarios PENDING (in progress). One range of the payments_pending index (status, scenario,
 * expires_at) per scenario, so that the order codes left PENDING once expired, which only accumulate,
 * are never read (with `scenario in (…)` Postgres may read every PENDING row and filter them).
 */
export function pendingPaymentsCount(db: Knex | Knex.Transaction, now: string): Knex.QueryBuilder {
  const pending = (scenario: Payment['scenario']) => db('payments').where('status', 'PENDING').andWhere('scenario', scenario);
  const counts = [pending('ORDER_CODE').andWhere('expires_at', '>', now), ...scenariosWithoutExpiry.map(pending)].map((q) => q.count('*'));
  return db.select(db.raw(`${counts.map(() => '(?)').join(' + ')} as n`, counts));
}

const paymentsWithMerchantByCodeTokens = (db: Knex | Knex.Transaction, tokens: readonly string[]) =>
  db('payments as p')
    .join('stores as s', 's.store_id', 'p.store_id')
    .join('merchants as m', 'm.merchant_id', 'p.merchant_id')
    .whereIn('p.code_token', tokens)
    .select([...paymentColumns.names.map((c) => `p.${c}`), ...storeColumns.as('s'), ...merchantColumns.as('m')]);
const paymentsWithMerchant = compiledQuery(paymentsWithMerchantByCodeTokens);
const paymentsWithMerchantForUpdate = compiledQuery((db, tokens: readonly string[]) => paymentsWithMerchantByCodeTokens(db, tokens).forUpdate('p'));

export function paymentRepository(db: Knex | Knex.Transaction, lock: RowLock, batch: StatementBatch): PaymentRepository {
  const table = () => db<PaymentRow>('payments');
  const forUpdateIf = (q: Knex.QueryBuilder, lockRow: boolean): Promise<PaymentRow | undefined> => (lockRow ? q.forUpdate() : q) as never;
  /**
   * A read that locks what it finds when `forUpdate`: Postgres the row itself (FOR UPDATE); a group
   * (on both databases) the key it is looked up by (so that two lookups finding nothing conflict too)
   * and the row's own key, `payments:<paymentRequestId>`, whatever the lookup.
   */
  async function lockedRead<Row extends { payment_request_id: string }>(forUpdate: boolean | undefined, lookup: string, read: (lockRow: boolean) => Promise<Row | undefined>): Promise<Row | undefined> {
    if (!forUpdate) return read(false);
    lock(lookup);
    const row = await read(isPostgres(db));
    if (row) lock(`payments:${row.payment_request_id}`);
    return row;
  }
  return {
    async insert(payment) {
      await insertRow(batch, db, 'payments', toRow(payment));
    },
    async findByRequestId(paymentRequestId, options) {
      const row = await lockedRead(options?.forUpdate, `payments:${paymentRequestId}`, (lockRow) =>
        findByKey<PaymentRow>(batch, lockRow ? 'payments.byRequestIdForUpdate' : 'payments.byRequestId', paymentRequestId, 'payment_request_id', (ids) => {
          const query = table().whereIn('payment_request_id', ids);
          return lockRow ? query.forUpdate() : query;
        }),
      );
      return row && fromRow(row);
    },
    async findByCodeTokenWithMerchant(token, options) {
      const row = await lockedRead(options?.forUpdate, `payments.code_token:${token}`, (lockRow) =>
        findByKey<PaymentRow & Record<string, unknown>>(batch, lockRow ? 'payments.withMerchantByCodeTokenForUpdate' : 'payments.withMerchantByCodeToken', token, 'code_token', (tokens) =>
          (lockRow ? paymentsWithMerchantForUpdate : paymentsWithMerchant)<PaymentRow & Record<string, unknown>>(db, tokens),
        ),
      );
      return row && { payment: fromRow(row), store: storeFromRow(storeColumns.from(row, 's')), merchant: merchantFromRow(merchantColumns.from(row, 'm')) };
    },
    async findByCodeToken(token, options) {
      const row = await lockedRead(options?.forUpdate, `payments.code_token:${token}`, (lockRow) => forUpdateIf(table().where({ code_token: token }).first(), lockRow));
      return row && fromRow(row);
    },
    async update(payment) {
      const { payment_request_id, merchant_id, store_id, scenario, created_at, ...mutable } = toRow(payment);
      await table().where({ payment_request_id }).update(mutable);
    },
    async countCounted(merchantId, since, now) {
      const [row] = await table()
        .where('merchant_id', merchantId)
        .andWhere('created_at', '>=', since)
        .whereIn('status', ['PENDING', 'SUCCEEDED'])
        .whereNot((q) => whereExpiredOrderCode(q, now))
        .count({ n: '*' });
      return Number(row?.n ?? 0);
    },
    async countPending(now) {
      const [row] = (await pendingPaymentsCount(db, now)) as { n: number | string }[];
      return Number(row?.n ?? 0);
    },
    async list(filter: PaymentListFilter) {
      const q = table().where('merchant_id', filter.merchantId);
      if (filter.status === 'EXPIRED') {
        q.andWhere((w) => w.where('status', 'EXPIRED').orWhere((e) => whereExpiredOrderCode(e, filter.now)));
      } else if (filter.status === 'PENDING') {
        q.andWhere('status', 'PENDING').whereNot((e) => whereExpiredOrderCode(e, filter.now));
      } else if (filter.status) {
        q.andWhere('status', filter.status);
      }
      if (filter.createdFrom) q.andWhere('created_at', '>=', filter.createdFrom);
      if (filter.createdTo) q.andWhere('created_at', '<=', filter.createdTo);
      const after = filter.after;
      if (after) {
        q.andWhere((w) =>
          w
            .where('created_at', '<', after.createdAt)
            .orWhere((t) => t.where('created_at', after.createdAt).andWhere('payment_request_id', '>', after.paymentRequestId)),
        );
      }
      const rows = await q.orderBy([
        { column: 'created_at', order: 'desc' },
        { column: 'payment_request_id', order: 'asc' },
      ]).limit(filter.limit);
      return rows.map(fromRow);
    },
  };
}
