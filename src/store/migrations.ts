/**
 * Schema migrations, kept in code (no migration directory to ship or to resolve at run time).
 *
 * Conventions: times are ISO 8601 UTC strings with milliseconds written by the code (fixed width, so
 * they compare and sort as text on both databases); amounts are TEXT minor units (exact beyond 2^53 on
 * SQLite); JSON is TEXT. Every lookup key has an index.
 */
import type { Knex } from 'knex';
import { isPostgres } from './knex.js';

interface Migration {
  name: string;
  up(db: Knex): Promise<void>;
}

const migrations: Migration[] = [
  {
    name: '001_merchant_presented',
    async up(db) {
      await db.schema.createTable('merchants', (t) => {
        t.string('merchant_id', 64).primary();
        t.string('reference_merchant_id', 64).notNullable().unique();
        t.string('merchant_name', 256).notNullable();
        t.string('merchant_mcc', 32).notNullable();
        t.text('merchant_address').notNullable();
        t.string('settlement_currency', 3);
        t.string('status', 16).notNullable();
        t.string('kyb_status', 16).notNullable();
        t.string('per_payment_limit_currency', 3);
        t.string('per_payment_limit_value', 32);
        t.integer('daily_payment_count_limit');
        t.text('accepted_currencies');
        t.string('api_key_hash', 64).notNullable().unique();
        t.string('created_at', 24).notNullable();
        t.string('updated_at', 24).notNullable();
      });
      await db.schema.createTable('stores', (t) => {
        t.string('store_id', 64).primary();
        t.string('merchant_id', 64).notNullable().references('merchant_id').inTable('merchants');
        t.string('reference_store_id', 64).notNullable();
        t.string('store_name', 256).notNullable();
        t.string('store_mcc', 32).notNullable();
        t.text('address').notNullable();
        t.string('entry_code_token', 32).notNullable().unique();
        t.string('created_at', 24).notNullable();
        t.unique(['merchant_id', 'reference_store_id']);
      });
      await db.schema.createTable('payments', (t) => {
        t.string('payment_request_id', 64).primary();
        t.string('merchant_id', 64).notNullable().references('merchant_id').inTable('merchants');
        t.string('store_id', 64).notNullable().references('store_id').inTable('stores');
        t.string('scenario', 16).notNullable();
        t.string('status', 16).notNullable();
        t.string('currency', 3).notNullable();
        t.string('amount_value', 32).notNullable();
        t.string('settlement_currency', 3).notNullable();
        t.string('reference_order_id', 64).notNullable();
        t.string('order_description', 256);
        t.string('terminal_id', 64);
        t.string('code_token', 32).unique();
        t.string('expires_at', 24);
        // Alipay+'s ids once the payment is placed; payment_id is unique: one Alipay+ payment, one order.
        t.string('payment_id', 64).unique();
        t.string('psp_id', 64);
        t.string('customer_id', 64);
        t.string('wallet_brand_name', 64);
        t.string('payment_time', 40);
        t.string('settlement_amount_currency', 3);
        t.string('settlement_amount_value', 32);
        t.string('failure_code', 64);
        t.string('failure_message', 256);
        t.text('alipayplus_merchant');
        t.string('created_at', 24).notNullable();
        t.string('updated_at', 24).notNullable();
        t.index(['merchant_id', 'created_at', 'payment_request_id'], 'payments_merchant_created');
        t.index(['merchant_id', 'status', 'created_at'], 'payments_merchant_status');
      });
      // placeOrder idempotency: one row per Alipay+ paymentId, inserted with its answer before the payment
      // is written, so that a concurrent duplicate waits on the unique key and then reads that answer.
      await db.schema.createTable('place_orders', (t) => {
        t.string('payment_id', 64).primary();
        t.string('request_payment_request_id', 64);
        t.string('payment_amount', 40).notNullable();
        t.string('settlement_amount', 40).notNullable();
        t.string('code_value', 512).notNullable();
        t.string('payment_request_id', 64);
        t.text('response_body');
        t.string('result_code', 64);
        t.string('created_at', 24).notNullable();
      });
      await db.schema.createTable('idempotency_keys', (t) => {
        t.string('merchant_id', 64).notNullable();
        t.string('operation', 32).notNullable();
        t.string('idempotency_key', 64).notNullable();
        t.string('request_hash', 64).notNullable();
        t.integer('response_status');
        t.text('response_body');
        t.string('created_at', 24).notNullable();
        t.primary(['merchant_id', 'operation', 'idempotency_key']);
      });
      await db.schema.createTable('audit_messages', (t) => {
        t.bigIncrements('id').primary();
        t.string('direction', 8).notNullable(); // IN: Alipay+ called us; OUT: we called Alipay+
        t.string('api', 64).notNullable();
        t.string('payment_request_id', 64);
        t.string('payment_id', 64);
        t.text('request_headers');
        t.text('request_body');
        t.integer('http_status');
        t.text('response_headers');
        t.text('response_body');
        t.string('result_status', 1);
        t.string('result_code', 64);
        t.integer('latency_ms');
        t.string('created_at', 24).notNullable();
        t.index(['payment_request_id'], 'audit_payment_request');
        t.index(['created_at'], 'audit_created');
      });
    },
  },
  {
    name: '002_user_presented',
    async up(db) {
      // The schedule of a user-presented payment: its next step and when, claimed by one worker at a
      // time through a lease, so that a restarted or second process picks up exactly where work stopped.
      await db.schema.createTable('payment_schedule', (t) => {
        t.string('payment_request_id', 64).primary().references('payment_request_id').inTable('payments');
        t.string('phase', 16);
        t.string('next_step', 16);
        t.string('next_step_at', 24);
        t.integer('attempts').notNullable().defaultTo(0);
        t.integer('inquiries').notNullable().defaultTo(0);
        // The exact pay body, so that every resend is byte-identical (Alipay+ idempotency, reference §8).
        t.text('pay_request_body').notNullable();
        t.string('lease_owner', 128);
        t.string('lease_until', 24);
        t.string('updated_at', 24).notNullable();
        t.index(['next_step_at'], 'payment_schedule_due');
      });
      await db.schema.createTable('notifications', (t) => {
        t.bigIncrements('id').primary();
        t.string('payment_request_id', 64).notNullable();
        t.string('payment_id', 64);
        t.string('result_status', 1).notNullable();
        t.string('result_code', 64).notNullable();
        t.text('body').notNullable();
        t.boolean('applied').notNullable();
        // Why it was not applied when it says something we did not do: AMOUNT_MISMATCH,
        // CONTRADICTS_FINAL, AFTER_CANCEL, UNKNOWN_PAYMENT. Null for applied ones and harmless duplicates.
        t.string('flag', 32);
        t.string('created_at', 24).notNullable();
        t.index(['payment_request_id'], 'notifications_payment');
      });
    },
  },
  {
    // Postgres compresses (pglz) the text columns of a row wider than ~2 KB, as a userInitiatedPay
    // exchange's audit row is (its answer carries the order and merchant): CPU on every insert of an
    // append-only log to save ~6 % of its size. Rows of up to a page are now stored as they are.
    name: '003_audit_rows_uncompressed',
    async up(db) {
      if (isPostgres(db)) await db.raw('alter table audit_messages set (toast_tuple_target = 8160)');
    },
  },
  {
    // The pending-payments gauge, read on every /metrics scrape, counted every PENDING row: unpaid order
    // codes keep that status in the table once expired (expiry is decided at read time), so the count
    // read more rows as they accumulated. On this index it reads only unexpired codes and payments in
    // progress (payments.ts, pendingPaymentsCount).
    name: '004_pending_payments_index',
    async up(db) {
      await db.schema.alterTable('payments', (t) => t.index(['status', 'scenario', 'expires_at'], 'payments_pending'));
    },
  },
];

export const migrationSource: Knex.MigrationSource<Migration> = {
  getMigrations: async () => migrations,
  getMigrationName: (m) => m.name,
  getMigration: async (m) => ({ up: (db: Knex) => m.up(db), down: async () => undefined }),
};

export async function migrateToLatest(db: Knex): Promise<void> {
  await db.migrate.latest({ migrationSource });
}

/** True when every known migration has been applied (used by /readyz). */
export async function migrationsApplied(db: Knex): Promise<boolean> {
  const [, pending] = (await db.migrate.list({ migrationSource })) as [unknown[], unknown[]];
  return pending.length === 0;
}
