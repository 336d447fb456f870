/**
 * Knex on SQLite (default, one file, WAL) or Postgres (`DATABASE_URL=postgres://…`, for several
 * instances). Everything above this file is database-neutral.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import knexFactory, { type Knex } from 'knex';
import type { Database as SqliteConnection } from 'sqlite3';
import { keepPreparedStatements } from './sqlite-statements.js';
import type { StatementBatch } from './statement-batch.js';

export interface DatabaseOptions {
  url: string;
  /** Postgres only: the schema to use (created if missing); lets test runs share one database. */
  schema?: string | undefined;
  poolMax?: number | undefined;
  statementTimeoutMs?: number | undefined;
  /** SQLite only: how long a statement waits for another process's lock before SQLITE_BUSY. */
  busyTimeoutMs?: number | undefined;
  /** How long a query waits for a pooled connection before failing (the caller answers U / 503). */
  acquireTimeoutMs?: number | undefined;
  /** SQLite only: open a pool of this many connections for reads outside transactions (default: the one writer). */
  sqliteReaders?: number | undefined;
  /**
   * SQLite only: false stops a commit from checkpointing the WAL into the database file when the WAL
   * passes 1,000 pages (SQLite's default); something else must then checkpoint (store/index.ts).
   */
  sqliteAutocheckpoint?: boolean | undefined;
  /** SQLite only: the WAL size, in pages, past which the writer checkpoints too (store/index.ts; default 4,000). */
  sqliteWalRestartPages?: number | undefined;
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url);
}

type QueryCallback = (err: Error | null, result?: unknown) => void;
interface PgConnection {
  query(config: unknown, callback?: QueryCallback): unknown;
}

/**
 * The transactions of a group that run side by side (group-commit.ts) send statements on the writer's
 * one connection without waiting for each other. node-postgres queues them, but deprecates that (pg@9
 * drops the queue): here each statement waits for the one before it on the same connection, in order.
 */
function oneQueryAtATime(conn: PgConnection): void {
  const send = conn.query.bind(conn);
  let previous: Promise<void> = Promise.resolve();
  conn.query = (config, callback) => {
    // Knex always passes a callback; any other form (a stream, a promise) goes as it is.
    if (typeof callback !== 'function') return send(config, callback);
    previous = previous.then(() => new Promise<void>((sent) => send(config, (err, result) => (sent(), callback(err, result)))));
    return undefined;
  };
}

/**
 * The gateway reads and writes its rows by indexed keys, and its hot statements run as
 * prepared statements (compiledQuery, insertRows) whose plan Postgres may fix after five runs. A
 * connection that plans one while its tables hold a few rows would keep a plan that scans them whole
 * (a sequential scan, or a hash join over the whole of a table) as they grow, until an ANALYZE: a full
 * bench run once read 27k payments per userInitiatedPay that way (docs/performance.md, stop 19). So the
 * gateway's connections tell the planner to leave sequential scans and hash and merge joins aside where
 * an index can serve (they stay possible where none can): whatever the tables' size when a statement is
 * planned, a lookup is an index scan and a join a nested loop over the other table's key.
 */
const KEY_LOOKUP_PLANNER = 'SET enable_seqscan = off; SET enable_hashjoin = off; SET enable_mergejoin = off';

export function createKnex(options: DatabaseOptions): Knex {
  if (isPostgresUrl(options.url)) {
    const schema = options.schema;
    return knexFactory({
      client: 'pg',
      acquireConnectionTimeout: options.acquireTimeoutMs ?? 5000,
      connection: {
        connectionString: options.url,
        ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
      },
      searchPath: schema ? [schema] : undefined,
      pool: {
        min: 0,
        max: options.poolMax ?? 10,
        afterCreate: (conn: PgConnection, done: (err: Error | null, conn: unknown) => void) => {
          oneQueryAtATime(conn);
          const createSchema = schema ? `; CREATE SCHEMA IF NOT EXISTS "${schema.replace(/"/g, '')}"` : '';
          conn.query(`${KEY_LOOKUP_PLANNER}${createSchema}`, (err) => done(err, conn));
        },
      },
    });
  }
  const filename = options.url.replace(/^sqlite:(\/\/)?/, '');
  if (filename !== ':memory:') mkdirSync(dirname(filename), { recursive: true });
  return knexFactory({
    client: 'sqlite3',
    acquireConnectionTimeout: options.acquireTimeoutMs ?? 5000,
    connection: { filename },
    useNullAsDefault: true,
    // The writer is one connection: SQLite serialises writers anyway, and one connection makes every
    // transaction exclusive within the process, without SQLITE_BUSY between our own connections.
    // Readers (WAL) never block the writer nor each other.
    pool: {
      min: 1,
      max: options.sqliteReaders ?? 1,
      afterCreate: (conn: SqliteConnection, done: (err: Error | null, conn: unknown) => void) => {
        keepPreparedStatements(conn);
        const autocheckpoint = options.sqliteAutocheckpoint === false ? 0 : 1000;
        conn.exec(
          `PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=${options.busyTimeoutMs ?? 5000}; PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=${autocheckpoint};`,
          (err) => done(err, conn),
        );
      },
    },
  });
}

/**
 * A transaction on the writer connection that may go on past a commit: `commitAndBegin` commits what
 * was done so far and begins the next transaction in one call (`COMMIT; BEGIN`, one trip to the
 * database instead of two). Knex is not told: for it, the transaction it began is still the one it
 * ends. A BEGIN right after a COMMIT has nothing to fail on, so a failure of the call is the
 * COMMIT's: on SQLite the transaction is then still open, on Postgres already ended; either way it is
 * rolled back when `work` throws (a ROLLBACK with no transaction is only a warning on Postgres).
 *
 * SQLite only: when `checkpointDue()` says so as one of these transactions begins, the writer
 * checkpoints the WAL first (store/index.ts: that is what lets SQLite start the WAL over).
 */
export function writerTransaction<T>(
  knex: Knex,
  work: (trx: Knex.Transaction, commitAndBegin: () => Promise<void>) => Promise<T>,
  checkpointDue: () => boolean = () => false,
): Promise<T> {
  if (isPostgres(knex)) {
    return knex.transaction(async (trx) => {
      const connection = (await trx.client.acquireConnection()) as PgConnection;
      return work(trx, () => new Promise<void>((resolve, reject) => connection.query('COMMIT; BEGIN', (error) => (error ? reject(error) : resolve()))));
    });
  }
  return knex.transaction(async (trx) => {
    const connection = (await trx.client.acquireConnection()) as SqliteConnection;
    const exec = (sql: string) => new Promise<void>((resolve, reject) => connection.exec(sql, (error) => (error ? reject(error) : resolve())));
    // Right after a BEGIN, which a deferred transaction allows: it holds nothing until it reads. A call
    // of its own, whose failure is not the transaction's: it only leaves the WAL to start over later
    // (in one call with `COMMIT; BEGIN` its failure would pass for the COMMIT's, once that succeeded).
    const checkpoint = () => exec('PRAGMA wal_checkpoint(PASSIVE)').catch(() => undefined);
    if (checkpointDue()) await checkpoint();
    return work(trx, async () => {
      await exec('COMMIT; BEGIN');
      if (checkpointDue()) await checkpoint();
    });
  });
}

export function isPostgres(db: Knex | Knex.Transaction): boolean {
  return db.client.config.client === 'pg';
}

/** True for a unique-key violation on either database. */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  return e?.code === '23505' || (e?.code === 'SQLITE_CONSTRAINT' && /UNIQUE/.test(e.message ?? ''));
}

/**
 * A query compiled to SQL once per dialect, for the hot lookups: knex compiles a builder anew on every
 * call (quoting each identifier of a wide join), which cost more than the database did. `build` runs
 * once with marker values in place of the arguments; each call then runs that SQL with its own values.
 * An argument may be a list (for `whereIn`): the SQL is then compiled once per dialect and list length.
 *
 * On Postgres it runs as a prepared statement (preparedStatementName), so that Postgres parses and
 * plans the wide join once per connection rather than on every call (the plan an index plan whatever
 * the tables' size: KEY_LOOKUP_PLANNER): bench --ab, userInitiatedPay 1.11–1.16×, placeOrder
 * 0.98–1.07×, Postgres's CPU per request −18 to −44 % (docs/performance.md, stop 20). The select list
 * must name its columns (no `p.*`): Postgres refuses to run a prepared statement whose result columns
 * changed, as `*` would after another instance's migration added a column.
 */
export function compiledQuery<Args extends (string | readonly string[])[]>(build: (db: Knex | Knex.Transaction, ...args: Args) => Knex.QueryBuilder) {
  const compiled = new Map<string, { sql: string; name: string; bindings: readonly unknown[]; markers: Map<string, [number, number]> }>();
  return async <Row>(db: Knex | Knex.Transaction, ...args: Args): Promise<Row[]> => {
    const dialect = db.client.config.client as string;
    const shape = args.some((a) => typeof a !== 'string') ? `${dialect}:${args.map((a) => (typeof a === 'string' ? '' : a.length)).join(',')}` : dialect;
    let query = compiled.get(shape);
    if (!query) {
      // Markers hold NUL, which both HTTP surfaces refuse in any input: no real value equals one.
      const markers = new Map<string, [number, number]>();
      const marker = (i: number, j: number) => {
        const text = `\u0000argument ${i}.${j}\u0000`;
        markers.set(text, [i, j]);
        return text;
      };
      const markedArgs = args.map((a, i) => (typeof a === 'string' ? marker(i, -1) : a.map((_, j) => marker(i, j))));
      const built = build(db, ...(markedArgs as Args)).toSQL();
      // Postgres: the SQL with numbered placeholders, as runDirect sends it.
      const { sql, bindings } = isPostgres(db) ? built.toNative() : built;
      query = { sql, name: preparedStatementName(sql), bindings, markers };
      compiled.set(shape, query);
    }
    const { markers } = query;
    const values = query.bindings.map((value) => {
      const place = typeof value === 'string' ? markers.get(value) : undefined;
      if (!place) return value;
      const arg = args[place[0]]!;
      return typeof arg === 'string' ? arg : arg[place[1]];
    });
    return runDirect<Row>(db, query, values);
  };
}

/**
 * Runs one of the hot statements (compiledQuery, insertRows) on the connection itself, past knex's
 * per-call work: a raw builder, its runner, and on Postgres the placeholders numbered anew in the SQL
 * text on every call (a regular expression over the audit insert's 650 of them). On the writer's
 * transaction the connection is the transaction's; otherwise one from the pool, given back once
 * answered. Postgres runs it as the prepared statement `statement.name`, its SQL already numbered ($1,
 * $2, …); SQLite as the connection's kept statement for that SQL (sqlite-statements.ts). Knex's `query`
 * event is emitted as knex would (tests count statements with it).
 */
async function runDirect<Row>(db: Knex | Knex.Transaction, statement: { sql: string; name: string }, values: readonly unknown[]): Promise<Row[]> {
  // As knex refuses it: an ended transaction's connection is back in the pool, someone else's.
  if ('isCompleted' in db && db.isCompleted()) throw new Error('Transaction query already complete');
  const client = db.client as Knex.Client;
  const connection = (await client.acquireConnection()) as { __knexTxId?: string };
  try {
    client.emit('query', { sql: statement.sql, bindings: values, __knexTxId: connection.__knexTxId });
    return await new Promise<Row[]>((resolve, reject) => {
      if (isPostgres(db)) {
        (connection as PgConnection).query({ name: statement.name, text: statement.sql, values }, (error, result) => (error ? reject(error) : resolve((result as { rows: Row[] }).rows)));
      } else {
        (connection as SqliteConnection).all(statement.sql, values, (error: Error | null, rows: Row[]) => (error ? reject(error) : resolve(rows ?? [])));
      }
    });
  } finally {
    // A no-op on a transaction's client: the transaction gives its connection back when it ends.
    client.releaseConnection(connection);
  }
}

/**
 * The name under which node-postgres prepares `sql` once per connection and then sends only the values
 * (Parse once, then Bind/Execute): derived from the SQL, so one text is one statement on every connection.
 */
function preparedStatementName(sql: string): string {
  return `acqp_${createHash('sha1').update(sql).digest('hex').slice(0, 24)}`;
}

/**
 * A table's columns as a compiled join names them (a prepared statement must not select `*`, see
 * compiledQuery): given as an object with every key of `Row`, so that a column the row type gains and
 * the list lacks fails to compile. `as` selects them under an alias prefix (`s.store_id as
 * s_store_id`), `from` reads a row of such a join back into `Row`.
 */
export function joinColumns<Row>(columns: Record<keyof Row & string, true>) {
  const names = Object.keys(columns) as (keyof Row & string)[];
  return {
    names,
    as: (alias: string) => names.map((c) => `${alias}.${c} as ${alias}_${c}`),
    from: (row: Record<string, unknown>, alias: string) => Object.fromEntries(names.map((c) => [c, row[`${alias}_${c}`]])) as Row,
  };
}

/**
 * A multi-row insert as `values (…), (…)`, with `on conflict (<column>) do nothing` and `returning` when
 * asked. Knex writes SQLite's multi-row insert as `select … union all select …`, several times longer:
 * past what a connection keeps prepared (sqlite-statements.ts). Every row has the first row's columns;
 * the SQL is built once per table, columns, row count and options.
 *
 * On Postgres it runs as a prepared statement (preparedStatementName) instead of parsed and planned on
 * every call: bench --ab, POST /v1/orders 1.06×, placeOrder 1.04×. SQLite keeps its statements
 * prepared on its own (sqlite-statements.ts).
 */
export async function insertRows<Row extends object>(
  db: Knex | Knex.Transaction,
  table: string,
  rows: readonly Row[],
  options: { ignoreConflictOn?: keyof Row & string; returning?: keyof Row & string } = {},
): Promise<Partial<Row>[]> {
  const columns = Object.keys(rows[0]!);
  const postgres = isPostgres(db);
  const key = `${postgres ? 'pg' : 'sqlite'} ${table}(${columns.join(',')})×${rows.length} ${options.ignoreConflictOn ?? ''} ${options.returning ?? ''}`;
  let statement = insertStatements.get(key);
  if (statement === undefined) {
    const quote = (name: string) => `"${name}"`;
    // Postgres numbers its placeholders (runDirect sends the SQL as it is); SQLite takes `?`.
    const row = (r: number) => `(${columns.map((_, c) => (postgres ? `$${r * columns.length + c + 1}` : '?')).join(', ')})`;
    const sql =
      `insert into ${quote(table)} (${columns.map(quote).join(', ')}) values ${rows.map((_, r) => row(r)).join(', ')}` +
      (options.ignoreConflictOn ? ` on conflict (${quote(options.ignoreConflictOn)}) do nothing` : '') +
      (options.returning ? ` returning ${quote(options.returning)}` : '');
    statement = { sql, name: preparedStatementName(sql) };
    insertStatements.set(key, statement);
  }
  const bindings = rows.flatMap((r) => columns.map((c) => (r as Record<string, unknown>)[c] as Knex.RawBinding));
  return runDirect<Partial<Row>>(db, statement, bindings);
}
const insertStatements = new Map<string, { sql: string; name: string }>();

/** One row into `table`, written in one insertRows with the rows the batch gathers with it. */
export async function insertRow(batch: StatementBatch, db: Knex | Knex.Transaction, table: string, row: object): Promise<void> {
  await batch.run(`${table}.insert`, row, async (rows) => {
    await insertRows(db, table, rows);
    return rows.map(() => undefined);
  });
}
