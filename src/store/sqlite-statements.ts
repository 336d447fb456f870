/**
 * Prepared statements kept per SQLite connection.
 *
 * node-sqlite3's `all`/`run` prepare, run and finalize a statement on every call: two trips through
 * libuv's thread pool and a parse of the SQL each time. Knex builds the same SQL text for the same
 * query shape (values travel as bindings), so a connection can keep its statements by SQL text and
 * run them again with new bindings: one trip per query, no parse (an 8-statement transaction went
 * from ~0.64 to ~0.33 ms on this machine). Knex calls only `all` and `run`, which step to the end,
 * so a kept statement never holds a read snapshot open between queries.
 */
import type { Database, Statement } from 'sqlite3';

/** Statements kept per connection, least recently used evicted first. */
const MAX_KEPT = 256;
/** Longer SQL is a one-off (multi-row inserts such as the audit batches): run it the ordinary way. */
const MAX_SQL_LENGTH = 2000;

type Callback = (this: unknown, error: Error | null, rows?: unknown) => void;

export function keepPreparedStatements(connection: Database): void {
  const kept = new Map<string, Statement>();
  const ordinaryAll = connection.all.bind(connection) as (sql: string, bindings: unknown[], callback: Callback) => void;
  const ordinaryRun = connection.run.bind(connection) as (sql: string, bindings: unknown[], callback: Callback) => void;
  const ordinaryClose = connection.close.bind(connection);

  const statementFor = (sql: string): Statement => {
    let statement = kept.get(sql);
    if (statement) {
      kept.delete(sql); // re-inserted below: Map order is recency
    } else {
      // With a callback, a failed prepare is reported to the queued call, not thrown as an 'error' event.
      statement = connection.prepare(sql, () => {});
      if (kept.size >= MAX_KEPT) {
        const [oldestSql, oldest] = kept.entries().next().value as [string, Statement];
        kept.delete(oldestSql);
        oldest.finalize();
      }
    }
    kept.set(sql, statement);
    return statement;
  };

  // A statement that failed (bad SQL, constraint, busy) is dropped: the next use prepares it afresh.
  const forget = (sql: string, statement: Statement) => {
    if (kept.get(sql) === statement) kept.delete(sql);
    statement.finalize();
  };

  const reuse = (method: 'all' | 'run', ordinary: typeof ordinaryAll) =>
    function (sql: string, bindings: unknown[], callback: Callback): void {
      if (sql.length > MAX_SQL_LENGTH) return ordinary(sql, bindings, callback);
      const statement = statementFor(sql);
      // `this` in the callback is the statement: knex reads lastID / changes from it after `run`.
      (statement[method] as (params: unknown[], cb: Callback) => void)(bindings ?? [], function (this: unknown, error, rows) {
        if (error) forget(sql, statement);
        callback.call(this, error, rows);
      });
    };

  Object.assign(connection, {
    all: reuse('all', ordinaryAll),
    run: reuse('run', ordinaryRun),
    // sqlite3_close refuses while statements are unfinalized.
    close(callback?: (error: Error | null) => void) {
      const statements = [...kept.values()];
      kept.clear();
      let left = statements.length;
      if (left === 0) return ordinaryClose(callback);
      for (const statement of statements) {
        statement.finalize(() => {
          if (--left === 0) ordinaryClose(callback);
        });
      }
    },
  });
}
