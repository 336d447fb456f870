/**
 * Fills the store for the scale check: `count` past orders written straight into the tables the
 * gateway migrated (going through the API would take minutes of signing and cost as much as the
 * measurement). They belong to the bench merchant and store, the worst case for the per-merchant
 * indexes, and look like a week of business: half entry-code payments, a quarter paid order codes,
 * a quarter order codes that expired unpaid; every paid one with its place_orders row.
 */
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { createKnex, isPostgres } from '../../src/store/knex.js';
import { CODE_BASE_URL } from './requests.js';

export interface SeedTarget {
  databaseUrl: string;
  schema?: string | undefined;
  merchantId: string;
  storeId: string;
  entryCodeValue: string;
  currency: string;
}

export function openStore(databaseUrl: string, schema: string | undefined): Knex {
  return createKnex({ url: databaseUrl, schema, poolMax: 2 });
}

export async function countPayments(db: Knex): Promise<number> {
  const [row] = await db('payments').count({ n: '*' });
  return Number(row?.n ?? 0);
}

/**
 * Unique ids without a randomBytes call per id (which would take most of the seeding time): a random
 * prefix per run and a counter. They only need to be unique and well-formed, not unguessable.
 */
function idFactory() {
  const prefix = randomBytes(6).toString('hex'); // 12 hex characters
  let n = 0;
  return {
    /** `width` hex characters (≥ 20). */
    hex: (width: number) => `${prefix}${(n++).toString(16).padStart(width - 12, '0')}`,
    /** 22 base64url characters, like a code token. */
    token: () => `${prefix}${(n++).toString(36).padStart(10, '0')}`,
  };
}

/**
 * Inserts rows as ONE JSON parameter per statement (SQLite json_each, Postgres
 * json_populate_recordset): binding 25 parameters per row through knex and the drivers took most of
 * the seeding time; this way 10^5 orders take seconds.
 */
async function insertJson(db: Knex | Knex.Transaction, table: string, columns: string[], rows: Record<string, unknown>[]): Promise<void> {
  if (rows.length === 0) return;
  const list = columns.map((c) => `"${c}"`).join(', ');
  const json = JSON.stringify(rows);
  if (isPostgres(db)) {
    await db.raw(`insert into "${table}" (${list}) select ${list} from json_populate_recordset(null::"${table}", ?::json)`, [json]);
  } else {
    await db.raw(`insert into "${table}" (${list}) select ${columns.map((c) => `json_extract(value, '$.${c}')`).join(', ')} from json_each(?)`, [json]);
  }
}

/** Inserts `count` orders in batches; returns the seconds it took. */
export async function seedOrders(db: Knex, target: SeedTarget, count: number): Promise<number> {
  const started = Date.now();
  const now = Date.now();
  const week = 7 * 24 * 3600 * 1000;
  const BATCH = 2000;
  const PER_TRANSACTION = 10_000; // short transactions: the running gateway keeps using the database
  // Only the columns the migrated schema has, so that a column added or dropped in src/store does not
  // break the seeding (a new NOT NULL column without default still fails loudly on insert).
  const paymentColumns = new Set(Object.keys(await db('payments').columnInfo()));
  const placeOrderColumns = new Set(Object.keys(await db('place_orders').columnInfo()));
  const ids = idFactory();
  // This connection's page cache only (SQLite's default is 2 MB): random keys in five indexes.
  if (!isPostgres(db)) await db.raw('PRAGMA cache_size = -262144');
  for (let start = 0; start < count; start += PER_TRANSACTION) {
    const end = Math.min(count, start + PER_TRANSACTION);
    await db.transaction(async (tx) => {
      for (let b = start; b < end; b += BATCH) {
        const payments: Record<string, unknown>[] = [];
        const placeOrders: Record<string, unknown>[] = [];
        for (let i = b; i < Math.min(end, b + BATCH); i++) {
          const createdMs = now - 3_600_000 - Math.floor((i / count) * week);
          const createdAt = new Date(createdMs).toISOString();
          const paymentRequestId = `pr_${createdMs.toString(16).padStart(12, '0')}_${ids.hex(20)}`;
          const kind = i % 4; // 0, 2: entry code paid; 1: order code paid; 3: order code expired unpaid
          const amount = String(100 + (i % 5000));
          const paid = kind !== 3;
          const entry = kind === 0 || kind === 2;
          const paymentId = paid ? `2010${ids.hex(24)}` : null;
          const codeToken = entry ? null : ids.token();
          const paidAt = new Date(createdMs + 20_000).toISOString();
          payments.push({
            payment_request_id: paymentRequestId,
            merchant_id: target.merchantId,
            store_id: target.storeId,
            scenario: entry ? 'ENTRY_CODE' : 'ORDER_CODE',
            status: paid ? 'SUCCEEDED' : 'PENDING',
            currency: target.currency,
            amount_value: amount,
            settlement_currency: target.currency,
            reference_order_id: entry ? paymentId : `ORD-SEED-${i}`,
            order_description: entry ? null : 'Seeded order',
            terminal_id: entry ? null : 'POS-1',
            code_token: codeToken,
            expires_at: entry ? null : new Date(createdMs + 120_000).toISOString(),
            payment_id: paymentId,
            psp_id: paid ? '1022172000000000001' : null,
            customer_id: paid ? '210282121122' : null,
            wallet_brand_name: null,
            payment_time: paid ? paidAt : null,
            settlement_amount_currency: paid ? target.currency : null,
            settlement_amount_value: paid ? amount : null,
            failure_code: null,
            failure_message: null,
            alipayplus_merchant: null,
            created_at: createdAt,
            updated_at: paid ? paidAt : createdAt,
          });
          if (paid) {
            placeOrders.push({
              payment_id: paymentId,
              request_payment_request_id: null,
              payment_amount: `${target.currency} ${amount}`,
              settlement_amount: `${target.currency} ${amount}`,
              code_value: entry ? target.entryCodeValue : `${CODE_BASE_URL}/o/${codeToken}`,
              payment_request_id: paymentRequestId,
              response_body: JSON.stringify({ result: { resultCode: 'SUCCESS', resultStatus: 'S', resultMessage: 'success' }, paymentRequestId }),
              result_code: 'SUCCESS',
              created_at: paidAt,
            });
          }
        }
        await insertJson(tx, 'payments', Object.keys(payments[0]!).filter((c) => paymentColumns.has(c)), payments);
        await insertJson(tx, 'place_orders', Object.keys(placeOrders[0] ?? {}).filter((c) => placeOrderColumns.has(c)), placeOrders);
      }
    });
  }
  return (Date.now() - started) / 1000;
}

/**
 * After a bulk load, what a week of gradual growth would have left behind: Postgres has vacuumed and
 * analysed the tables (else autovacuum starts in the middle of the measurement and the planner works
 * from stale statistics); SQLite's WAL is checkpointed into the database file.
 */
export async function settleAfterSeeding(db: Knex): Promise<void> {
  if (isPostgres(db)) {
    await db.raw('vacuum analyze "payments", "place_orders"');
  } else {
    await db.raw('PRAGMA wal_checkpoint(TRUNCATE)');
  }
}
