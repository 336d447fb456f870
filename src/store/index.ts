/** Composes the Knex store: repositories bound to the pool, and the same bound to a transaction. */
import type { Knex } from 'knex';
import { AUDIT_ROWS_PER_STATEMENT, auditLog } from './audit.js';
import { ALONE, groupCommit, type RowLock } from './group-commit.js';
import { idempotencyRepository } from './idempotency.js';
import { createKnex, insertRows, isPostgresUrl, writerTransaction, type DatabaseOptions } from './knex.js';
import { merchantRepository, storeRepository } from './merchants.js';
import { migrateToLatest, migrationsApplied } from './migrations.js';
import { paymentRepository } from './payments.js';
import { placeOrderRepository } from './place-orders.js';
import { notificationRepository, scheduleRepository } from './schedule.js';
import { statementBatch, type StatementBatch } from './statement-batch.js';
import type { Database, Repositories } from './types.js';

/**
 * `lock` is the row lock of the transaction they are bound to (group-commit.ts), none outside one;
 * `batch` sends the same statement of several callers as one (statement-batch.ts): the transactions
 * of a group, or reads outside transactions.
 */
function repositories(db: Knex | Knex.Transaction, lock: RowLock, batch: StatementBatch): Repositories {
  return {
    merchants: merchantRepository(db, lock, batch),
    stores: storeRepository(db, batch),
    payments: paymentRepository(db, lock, batch),
    placeOrders: placeOrderRepository(db, lock, batch),
    idempotency: idempotencyRepository(db, lock),
    schedule: scheduleRepository(db, lock),
    notifications: notificationRepository(db, batch),
    auditTrail: {
      async append(rows) {
        for (let from = 0; from < rows.length; from += AUDIT_ROWS_PER_STATEMENT) {
          await insertRows(db, 'audit_messages', rows.slice(from, from + AUDIT_ROWS_PER_STATEMENT));
        }
      },
    },
  };
}

/**
 * SQLite: how often a reader connection checkpoints the WAL into the database file. The writer does
 * not: a checkpoint run by a COMMIT (every 1,000 WAL pages, several times a second under load) held
 * the writer, and every transaction queued behind it, for 10–20 ms of copying and fsync. A PASSIVE
 * checkpoint on another connection runs beside the writer and waits for nobody.
 */
const CHECKPOINT_INTERVAL_MS = 200;

/**
 * SQLite starts the WAL over only when a writer begins a transaction with all of the WAL copied into
 * the database file. Under steady writes the reader's checkpoints never get there (the writer keeps
 * adding pages while they copy), and the WAL file grew without end (~28 MB/s under placeOrder load).
 * So once a reader's checkpoint finds the WAL past this many pages (16 MB), the writer checkpoints
 * too as its next transaction begins: only what was written since the reader's, after which that
 * transaction starts the WAL over.
 */
const WAL_RESTART_PAGES = 4000;

/**
 * The reader's checkpoints, every CHECKPOINT_INTERVAL_MS; `writerCheckpointDue` is true once for each
 * of them that found the WAL at `restartPages` or more. Such a one runs a second pass first: the
 * writer's checkpoint copies, on the writer's path, what was written since the reader's last pass, and
 * the first pass can take a while (with 10^5 more orders in the store, the writer's checkpoints took
 * 16–18 ms on average with one pass, 9–10.5 with two: docs/performance.md, stop 24).
 */
export function walCheckpoints(reader: Knex, restartPages: number): { writerCheckpointDue: () => boolean; stop: () => void } {
  let due = false;
  const passive = async () => ((await reader.raw('PRAGMA wal_checkpoint(PASSIVE)')) as { log: number }[])[0]?.log ?? 0;
  const checkpoint = async () => {
    if ((await passive()) < restartPages) return;
    await passive(); // leaves the writer only what came in during this pass
    due = true;
  };
  const timer = setInterval(() => void checkpoint().catch(() => undefined), CHECKPOINT_INTERVAL_MS).unref();
  return {
    writerCheckpointDue: () => {
      if (!due) return false;
      due = false;
      return true;
    },
    stop: () => clearInterval(timer),
  };
}

export async function openDatabase(options: DatabaseOptions, onAuditError: (error: unknown) => void = () => {}): Promise<Database & { knex: Knex }> {
  const sqlite = !isPostgresUrl(options.url);
  const knex = createKnex({ ...options, sqliteAutocheckpoint: false });
  await migrateToLatest(knex);
  // SQLite: one writer connection serialises every transaction; reads outside transactions go to a
  // few reader connections so that they neither queue behind writes nor behind each other.
  const reader = sqlite ? createKnex({ ...options, sqliteReaders: options.sqliteReaders ?? 4 }) : knex;
  const checkpoints = sqlite ? walCheckpoints(reader, options.sqliteWalRestartPages ?? WAL_RESTART_PAGES) : undefined;
  // Every write transaction on one writer connection at a time, grouped (group-commit.ts), the
  // statements of a group's transactions batched. On Postgres the pool's other connections read.
  // Telling a result before its commit (`onWorkDone`: the pipeline signs placeOrder's answer meanwhile)
  // pays on Postgres, where a group's COMMIT is a round trip to its server (placeOrder 1.08–1.12× with
  // --ab); SQLite commits in ~0.6 ms on its own thread, and signing then only competed with the writer
  // for the two cores (0.94×). Without it, the answer is signed once committed.
  const transaction: Database['transaction'] = groupCommit<Repositories>(
    (work) =>
      writerTransaction(knex, (trx, commitAndBegin) => {
        const batch = statementBatch();
        return work((lock) => repositories(trx, lock, batch), commitAndBegin);
      }, checkpoints?.writerCheckpointDue),
    { tellWorkDone: !sqlite },
  );
  // The audit's batches are written like every write, in a transaction: one joins a group
  // (side by side: it only adds rows nobody else touches) instead of waiting for the writer between
  // groups and then holding it, 5–15 ms for 100 rows, while every placeOrder queued behind it.
  const audit = auditLog((rows) => transaction((tx) => tx.auditTrail.append(rows), { sideBySide: true }), onAuditError);
  // Reads outside transactions made while the event loop handles one round of I/O (several requests
  // arriving together) go to the database as one statement (setImmediate: once that round is done):
  // handing a statement to SQLite's thread cost ~0.15 ms of the event loop under userInitiatedPay load.
  return {
    ...repositories(reader, ALONE, statementBatch((flush) => setImmediate(flush))),
    knex,
    audit,
    transaction,
    async ready() {
      try {
        return await migrationsApplied(knex);
      } catch {
        return false;
      }
    },
    async close() {
      checkpoints?.stop();
      await audit.flush();
      if (reader !== knex) await reader.destroy();
      await knex.destroy();
    },
  };
}
