/**
 * Prepared statements kept per SQLite connection.
 *
 * node-sqlite3's `all`/`run` prepare, run and finalize a statement on every call: two trips through
 * libuv's thread pool and a parse of the SQL each time. Knex builds the same SQL text for the same
 * query shape (values travel as bindings), so a connection can keep its statements by SQL text and
 * run them again with new bindings: one trip per query, no parse (an 8-statement transaction went
 * from ~0.64 to ~0.33 ms on this machine). Knex calls only `all` and `run`, which step to the end,
 * so a kept statement never holds a read snapshot open between queries.
 *
 * A statement runs one call at a time, so a call finding every kept copy of its SQL busy prepares
 * another: the transactions of a group that run side by side (group-commit.ts) send the same
 * statements at once, and they then go to the thread pool together rather than one after another.
 *
 * A kept statement whose LIMIT is a bound parameter (knex's `first()` is `limit ?` bound to 1) would
 * still be parsed and planned again on every run: SQLite lets the LIMIT's bound value shape the plan,
 * so binding it expires the statement (sqlite3ExprIsInteger marks the parameter; vdbeUnbind and
 * sqlite3_clear_bindings, which node-sqlite3 calls on every run, expire it). Such a LIMIT is written
 * into the SQL instead (withLiteralLimits).
 */
import type { Database, Statement } from 'sqlite3';

/** Idle statements kept per connection, least recently used evicted first. */
const MAX_KEPT = 256;
/** Longer SQL is a one-off (multi-row inserts such as the audit batches): run it the ordinary way. */
const MAX_SQL_LENGTH = 2000;

type Callback = (this: unknown, error: Error | null, rows?: unknown) => void;

/**
 * `limit ?` bound to a non-negative integer becomes `limit <n>`; every other placeholder keeps its
 * binding, in order. SQL holding a string literal is left as it is: a `?` inside one is not a
 * placeholder, and knex passes every value as a binding anyway.
 */
export function withLiteralLimits(sql: string, bindings: readonly unknown[]): { sql: string; bindings: readonly unknown[] } {
  if (!/\blimit \?/i.test(sql) || sql.includes("'")) return { sql, bindings };
  const kept: unknown[] = [];
  let index = 0;
  const written = sql.replace(/(\blimit )?\?/gi, (placeholder, limit: string | undefined) => {
    const value = bindings[index++];
    if (limit && typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return `${limit}${value}`;
    kept.push(value);
    return placeholder;
  });
  return index === bindings.length ? { sql: written, bindings: kept } : { sql, bindings };
}

export function keepPreparedStatements(connection: Database): void {
  /** Idle statements by SQL text; Map order is recency. */
  const idle = new Map<string, Statement[]>();
  /** Every statement not yet finalized, idle or running: all are finalized before the connection closes. */
  const open = new Set<Statement>();
  let idleCount = 0;
  const ordinaryAll = connection.all.bind(connection) as (sql: string, bindings: unknown[], callback: Callback) => void;
  const ordinaryRun = connection.run.bind(connection) as (sql: string, bindings: unknown[], callback: Callback) => void;
  const ordinaryClose = connection.close.bind(connection);

  const finalize = (statement: Statement, done?: () => void) => {
    open.delete(statement);
    statement.finalize(done);
  };

  const take = (sql: string): Statement => {
    const copies = idle.get(sql);
    const statement = copies?.pop();
    if (statement) {
      idleCount--;
      if (copies!.length === 0) idle.delete(sql);
      return statement;
    }
    // With a callback, a failed prepare is reported to the queued call, not thrown as an 'error' event.
    const prepared = connection.prepare(sql, () => {});
    open.add(prepared);
    return prepared;
  };

  const giveBack = (sql: string, statement: Statement) => {
    const copies = idle.get(sql) ?? [];
    idle.delete(sql); // re-inserted: most recently used
    copies.push(statement);
    idle.set(sql, copies);
    if (++idleCount <= MAX_KEPT) return;
    const [oldestSql, oldest] = idle.entries().next().value as [string, Statement[]];
    finalize(oldest.shift()!);
    idleCount--;
    if (oldest.length === 0) idle.delete(oldestSql);
  };

  const reuse = (method: 'all' | 'run', ordinary: typeof ordinaryAll) =>
    function (givenSql: string, givenBindings: unknown[], callback: Callback): void {
      if (givenSql.length > MAX_SQL_LENGTH) return ordinary(givenSql, givenBindings, callback);
      const { sql, bindings } = withLiteralLimits(givenSql, givenBindings ?? []);
      const statement = take(sql);
      // `this` in the callback is the statement: knex reads lastID / changes from it after `run`.
      (statement[method] as (params: readonly unknown[], cb: Callback) => void)(bindings, function (this: unknown, error, rows) {
        // A statement that failed (bad SQL, constraint, busy) is dropped: the next use prepares it afresh.
        if (error) finalize(statement);
        else giveBack(sql, statement);
        callback.call(this, error, rows);
      });
    };

  Object.assign(connection, {
    all: reuse('all', ordinaryAll),
    run: reuse('run', ordinaryRun),
    // sqlite3_close refuses while statements are unfinalized.
    close(callback?: (error: Error | null) => void) {
      const statements = [...open];
      idle.clear();
      idleCount = 0;
      let left = statements.length;
      if (left === 0) return ordinaryClose(callback);
      for (const statement of statements) {
        finalize(statement, () => {
          if (--left === 0) ordinaryClose(callback);
        });
      }
    },
  });
}
