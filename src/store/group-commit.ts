/**
 * Group commit for SQLite's one writer connection.
 *
 * SQLite runs one write transaction at a time, so transactions queue for the writer anyway. Each one
 * paid BEGIN, COMMIT and the hand-over of the connection, and every one of those steps waits for a
 * turn of a busy event loop. Here the transactions that queue up while one runs are run together in
 * the next SQLite transaction, one after another in arrival order, and each caller gets its own
 * result once that transaction commits. The outcome is the same as running them one by one: each
 * sees the writes of those before it, and nothing is answered before it is committed.
 *
 * If any of them throws (a rule refusing inside a transaction, a database error), or the commit
 * fails, the whole group is rolled back and each is run again alone, so that every caller sees
 * exactly its own outcome and a failure never takes another caller's work with it. Work passed to a
 * transaction touches only the database (no calls out, no side effects), so running it again is safe.
 */
interface Queued<R> {
  work: (tx: R) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** The most transactions run in one; beyond it the rest wait for the next group. */
const MAX_GROUP = 64;

/**
 * `transaction` runs one database transaction with the repositories bound to it (knex.transaction);
 * returns the same contract, grouped.
 */
export function groupCommit<R>(transaction: <T>(work: (tx: R) => Promise<T>) => Promise<T>): <T>(work: (tx: R) => Promise<T>) => Promise<T> {
  let queue: Queued<R>[] = [];
  let draining = false;

  const runAlone = (item: Queued<R>) => transaction(item.work).then(item.resolve, item.reject);

  async function drain(): Promise<void> {
    draining = true;
    try {
      while (queue.length > 0) {
        const group = queue.slice(0, MAX_GROUP);
        queue = queue.slice(group.length);
        if (group.length === 1) {
          await runAlone(group[0]!);
          continue;
        }
        let results: unknown[];
        try {
          results = await transaction(async (tx) => {
            const out: unknown[] = [];
            for (const item of group) out.push(await item.work(tx));
            return out;
          });
        } catch {
          for (const item of group) await runAlone(item);
          continue;
        }
        group.forEach((item, i) => item.resolve(results[i]));
      }
    } finally {
      draining = false;
    }
  }

  return <T>(work: (tx: R) => Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!draining) void drain();
    });
}
