/**
 * One statement for the same query made at once by several callers: the transactions of a group
 * (group-commit.ts), or reads outside transactions.
 *
 * The transactions of a group that run side by side (group-commit.ts) make the same calls at the same
 * moment: five placeOrders each read their entry code, then each claim their paymentId, then each
 * insert their payment. Each statement is a trip to the database and back — on SQLite to its thread,
 * and under load the trip costs more than SQLite does (handing one statement to the thread pool took
 * ~0.1 ms of the event loop on these 2-core VMs, the statement itself tens of µs); on Postgres a round
 * trip to its server process. So calls of the same query made in the same tick are sent as one
 * statement — a `where … in (…)`, a multi-row insert — and each caller gets its own part of the
 * answer. If that statement fails, every caller in it fails: the group is rolled back and each
 * transaction run again alone (group-commit.ts), so each then sees only its own outcome.
 *
 * Reads outside transactions are batched too, over one round of the event loop (store/index.ts).
 */
export interface StatementBatch {
  /**
   * Runs `arg` together with the other calls of `query` made in this tick: `runMany` gets all their
   * arguments, in order, and returns one result per argument. `runMany` must depend on nothing but
   * the transaction: the first caller's runs everybody's.
   */
  run<Arg, Result>(query: string, arg: Arg, runMany: (args: Arg[]) => Promise<Result[]>): Promise<Result>;
}

/**
 * At most this many calls go into one statement; more are split. Bounds the SQL text of a multi-row
 * insert, so that it stays among the statements a connection keeps prepared (sqlite-statements.ts).
 */
export const MAX_BATCH = 16;

interface Pending {
  args: unknown[];
  waiters: { resolve: (result: unknown) => void; reject: (error: unknown) => void }[];
  runMany: (args: unknown[]) => Promise<unknown[]>;
}

/**
 * A batch. By default calls wait for the end of the current tick (process.nextTick runs once the
 * promise jobs queued so far are done): the transactions of a group, started together, reach the
 * same call through promise continuations only, so they meet there. `schedule` may wait longer.
 */
export function statementBatch(schedule: (flush: () => void) => void = process.nextTick): StatementBatch {
  let pending = new Map<string, Pending>();

  function flush(): void {
    const due = pending;
    pending = new Map();
    for (const { args, waiters, runMany } of due.values()) {
      for (let start = 0; start < args.length; start += MAX_BATCH) {
        const part = waiters.slice(start, start + MAX_BATCH);
        runMany(args.slice(start, start + MAX_BATCH))
          .then((results) => {
            if (results.length !== part.length) throw new Error(`a batched query answered ${results.length} results for ${part.length} calls`);
            part.forEach((waiter, i) => waiter.resolve(results[i]));
          })
          .catch((error: unknown) => part.forEach((waiter) => waiter.reject(error)));
      }
    }
  }

  return {
    run<Arg, Result>(query: string, arg: Arg, runMany: (args: Arg[]) => Promise<Result[]>): Promise<Result> {
      return new Promise<Result>((resolve, reject) => {
        if (pending.size === 0) schedule(flush);
        let calls = pending.get(query);
        if (!calls) pending.set(query, (calls = { args: [], waiters: [], runMany: runMany as Pending['runMany'] }));
        calls.args.push(arg);
        calls.waiters.push({ resolve: resolve as (result: unknown) => void, reject });
      });
    },
  };
}

/**
 * A lookup by a unique column, batched: `fetch` gets the distinct keys of the calls made together and
 * returns their rows; each caller gets the row of its own key, or undefined.
 */
export function findByKey<Row>(batch: StatementBatch, query: string, key: string, column: keyof Row, fetch: (keys: string[]) => Promise<Row[]>): Promise<Row | undefined> {
  return batch.run(query, key, async (keys: string[]) => {
    const byKey = new Map((await fetch([...new Set(keys)])).map((row) => [String(row[column]), row]));
    return keys.map((k) => byKey.get(k));
  });
}
