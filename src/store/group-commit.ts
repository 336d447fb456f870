/**
 * Group commit: every write transaction of the process on one writer connection, grouped.
 *
 * SQLite runs one write transaction at a time, so transactions queue for the writer anyway. Each one
 * paid BEGIN, COMMIT and the hand-over of the connection, and every one of those steps waits for a
 * turn of a busy event loop. Postgres could run them side by side, each on a connection of its own,
 * but each then paid five or six round trips and a WAL flush of its own: grouped, placeOrder on
 * Postgres was answered ~1.6× as fast (README, Performance). Here the transactions that queue up
 * while one runs are run together in the next database transaction, and each caller gets its own
 * result once that transaction commits.
 * Nothing is answered before it is committed. While groups keep coming, one group's COMMIT and the
 * next one's BEGIN are a single call to the database (WriterTransaction's `commitAndBegin`).
 *
 * Inside a group, transactions run one after another in arrival order, each seeing the writes of
 * those before it — except consecutive ones marked `sideBySide`, which run at the same time. Their
 * statements then reach the writer together instead of each waiting for the previous one's answer.
 * That is safe only for transactions that take a row lock (RowLock) on every row another sideBySide
 * transaction may also write or lock — the places where Postgres locks rows (`forUpdate` reads, the
 * placeOrder claim), since in one database transaction Postgres's own locks do not keep them apart.
 * Two of them reaching for the same row is a conflict: the group is rolled back and run again, one
 * after another, as if none were marked. Between gateway instances sharing a Postgres database,
 * Postgres's locks still do: a group waits for another instance's like any transaction, and a
 * deadlock between two instances' groups fails one of them, which is then run again as below.
 *
 * A transaction may ask to hear its result as soon as its work is done (`onWorkDone`), while its group
 * goes on and commits: to prepare what it will do with it (the Alipay+ pipeline signs the answer
 * meanwhile), never to act on it — the result is the caller's only once committed. If the group is
 * run again (below), the work runs again and `onWorkDone` hears the new result.
 *
 * If any transaction throws (a rule refusing inside a transaction, a database error), or the commit
 * fails, the whole group is rolled back and each is run again alone, so that every caller sees
 * exactly its own outcome and a failure never takes another caller's work with it. Work passed to a
 * transaction touches only the database (no calls out, no side effects), so running it again is safe.
 */

/**
 * Locks a row until the transaction ends, named `<table>:<primary key>`; a lookup by another key also
 * locks `<table>.<column>:<value>`, so that two lookups finding nothing conflict too.
 */
export type RowLock = (row: string) => void;

/** The lock of a transaction that runs alone: nothing else can reach its rows. */
export const ALONE: RowLock = () => {};

/** Two transactions of a group reached for the same row. */
export class RowConflict extends Error {
  constructor(readonly row: string) {
    super(`two transactions of a group lock ${row}`);
    this.name = 'RowConflict';
  }
}

export interface TransactionOptions<T = unknown> {
  /** May run beside other sideBySide transactions of its group (see above). */
  sideBySide?: boolean;
  /** Hears the work's result once it is done, before it is committed (see above), where the store offers it (store/index.ts). */
  onWorkDone?: (result: T) => void;
}

interface Queued<R> {
  work: (tx: R) => Promise<unknown>;
  sideBySide: boolean;
  onWorkDone: ((result: unknown) => void) | undefined;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** The most transactions run in one; beyond it the rest wait for the next group. */
const MAX_GROUP = 64;

/**
 * Runs one database transaction on the writer. `work` gets the means to bind the repositories to it
 * with a row lock, and `commitAndBegin`, which commits what was done so far and begins the next
 * transaction on the same connection, in one call.
 */
export type WriterTransaction<R> = <T>(work: (bind: (lock: RowLock) => R, commitAndBegin: () => Promise<void>) => Promise<T>) => Promise<T>;

/**
 * How long one database transaction goes on carrying group after group: then it ends, and the
 * writer connection is free for a moment for what waits for it outside the groups.
 */
const MAX_RUN_MS = 50;

/**
 * Returns the contract of Database.transaction, grouped, over `transaction`. `tellWorkDone: false` leaves
 * every `onWorkDone` unheard: where a commit is quick, preparing meanwhile only competes with it (store/index.ts).
 */
export function groupCommit<R>(transaction: WriterTransaction<R>, { tellWorkDone = true } = {}): <T>(work: (tx: R) => Promise<T>, options?: TransactionOptions<T>) => Promise<T> {
  let queue: Queued<R>[] = [];
  let draining = false;

  const take = (): Queued<R>[] => {
    const group = queue.slice(0, MAX_GROUP);
    queue = queue.slice(group.length);
    return group;
  };
  const settle = (group: Queued<R>[], results: unknown[]) => group.forEach((item, i) => item.resolve(results[i]));
  /** Runs one transaction's work and tells its result to whoever asked (onWorkDone). */
  const run = async (item: Queued<R>, tx: R): Promise<unknown> => {
    const result = await item.work(tx);
    item.onWorkDone?.(result);
    return result;
  };
  const runAlone = (item: Queued<R>) => transaction((bind) => run(item, bind(ALONE))).then(item.resolve, item.reject);

  async function oneAfterAnother(group: Queued<R>[], bind: (lock: RowLock) => R): Promise<unknown[]> {
    const out: unknown[] = [];
    for (const item of group) out.push(await run(item, bind(ALONE)));
    return out;
  }

  /** Runs the group in one transaction, sideBySide neighbours together; throws the first failure. */
  async function sideBySide(group: Queued<R>[], bind: (lock: RowLock) => R): Promise<unknown[]> {
    const out: unknown[] = [];
    for (let start = 0; start < group.length; ) {
      let end = start + 1;
      while (group[start]!.sideBySide && end < group.length && group[end]!.sideBySide) end++;
      if (end - start === 1) {
        out.push(await run(group[start]!, bind(ALONE)));
      } else {
        const owners = new Map<string, number>();
        const lockFor = (index: number): RowLock => (row) => {
          const owner = owners.get(row);
          if (owner !== undefined && owner !== index) throw new RowConflict(row);
          owners.set(row, index);
        };
        // Every one is let finish before the group goes on or rolls back: none may still be sending
        // statements once the transaction has ended.
        const settled = await Promise.allSettled(group.slice(start, end).map((item, index) => run(item, bind(lockFor(index)))));
        const failures = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected').map((s) => s.reason);
        if (failures.length > 0) throw failures.find((f) => f instanceof RowConflict) ?? failures[0];
        for (const s of settled) out.push((s as PromiseFulfilledResult<unknown>).value);
      }
      start = end;
    }
    return out;
  }

  /** A group that failed: each of its transactions gets its own outcome, in a transaction of its own. */
  async function recover(group: Queued<R>[], error: unknown): Promise<void> {
    if (group.length === 1) return group[0]!.reject(error);
    if (error instanceof RowConflict) {
      const results = await transaction((bind) => oneAfterAnother(group, bind)).catch(() => undefined);
      if (results) return settle(group, results);
    }
    for (const item of group) await runAlone(item);
  }

  async function drain(): Promise<void> {
    draining = true;
    try {
      while (queue.length > 0) {
        // Group after group in one database transaction: `commitAndBegin` between two groups, the
        // transaction's own COMMIT after the last one (when none is waiting, or MAX_RUN_MS is over).
        let uncommitted: Queued<R>[] | undefined;
        let failure: unknown;
        await transaction(async (bind, commitAndBegin) => {
          const ends = Date.now() + MAX_RUN_MS;
          try {
            for (;;) {
              const group = (uncommitted = take());
              const results = await sideBySide(group, bind);
              if (queue.length === 0 || Date.now() >= ends) return results;
              await commitAndBegin();
              uncommitted = undefined;
              settle(group, results);
            }
          } catch (error) {
            failure = error;
            throw error; // rolls back the uncommitted group only: those before it are committed
          }
        }).then(
          (results) => settle(uncommitted!, results),
          // Nothing was taken when the transaction could not even begin: the next group gets the error.
          (error: unknown) => recover(uncommitted ?? take(), failure ?? error),
        );
      }
    } finally {
      draining = false;
    }
  }

  return <T>(work: (tx: R) => Promise<T>, options?: TransactionOptions<T>) =>
    new Promise<T>((resolve, reject) => {
      const onWorkDone = tellWorkDone ? (options?.onWorkDone as Queued<R>['onWorkDone']) : undefined;
      queue.push({ work, sideBySide: options?.sideBySide === true, onWorkDone, resolve: resolve as (value: unknown) => void, reject });
      if (!draining) void drain();
    });
}
