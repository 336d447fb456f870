/**
 * Group commit (src/store/group-commit.ts) on a real database: transactions that queue up for the
 * writer run together, each caller gets its own outcome, and one failing never takes another's work
 * with it. On both databases; the WAL checkpoint is SQLite's alone.
 */
import type { Knex } from 'knex';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { groupCommit, type RowLock, type TransactionOptions } from '../../src/store/group-commit.js';
import { createKnex, writerTransaction } from '../../src/store/knex.js';
import { describeEachDatabase } from '../support/gateway.js';
import { testStore, type TestStore } from '../support/store.js';

describeEachDatabase('group commit', (kind) => {
  let store: TestStore;
  let db: Knex;
  /** Database transactions committed: by knex's COMMIT, or by `COMMIT; BEGIN` between two groups. */
  let commits: number;
  /** What a grouped transaction gets: the knex transaction, and its row lock. */
  type Tx = { trx: Knex.Transaction; lock: RowLock };
  let transaction: <T>(work: (tx: Tx) => Promise<T>, options?: TransactionOptions) => Promise<T>;

  beforeEach(async () => {
    store = testStore(kind, 'group');
    db = createKnex(store.options);
    await db.schema.createTable('items', (t) => {
      t.string('id').primary();
      t.integer('n').notNullable();
    });
    commits = 0;
    db.on('query', (q: { sql: string }) => {
      if (/^COMMIT/i.test(q.sql)) commits++;
    });
    transaction = groupCommit<Tx>((work) =>
      writerTransaction(db, (trx, commitAndBegin) =>
        work(
          (lock) => ({ trx, lock }),
          () => commitAndBegin().then(() => void commits++),
        ),
      ),
    );
  });

  afterEach(() => store.remove(db, () => db.destroy()));

  const insert = (id: string, n: number) => ({ trx }: Tx) => trx('items').insert({ id, n }).then(() => id);
  const ids = async () => (await db('items').orderBy('id').select('id')).map((r: { id: string }) => r.id);

  /** 'first' and 'a' in a group held running while 'b' and 'c' queue: two groups, `COMMIT; BEGIN` between them. */
  async function twoGroups(run: typeof transaction): Promise<string[]> {
    const first = held('first', run);
    const group = [first.result, run(insert('a', 1))];
    await first.running; // that group is running: the next ones queue
    const next = ['b', 'c'].map((id) => run(insert(id, 1)));
    first.release();
    return Promise.all([...group, ...next]);
  }

  it('runs transactions that queue up together in one, and answers each caller with its own result', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => transaction(insert(`t${i}`, i))));
    expect(results).toEqual(Array.from({ length: 10 }, (_, i) => `t${i}`));
    expect(await ids()).toHaveLength(10);
    // All ten arrive while the transaction begins: they share it.
    expect(commits).toBe(1);
  });

  it('runs them in arrival order: each sees the writes of those before it', async () => {
    await transaction(insert('seed', 0));
    const reads = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        transaction(async ({ trx }) => {
          const [{ c }] = (await trx('items').count({ c: '*' })) as [{ c: number }];
          await trx('items').insert({ id: `r${i}`, n: i });
          return Number(c);
        }),
      ),
    );
    expect(reads).toEqual([1, 2, 3, 4, 5]);
  });

  /**
   * A transaction that waits for `release` before writing `id`: what is sent meanwhile queues behind it.
   * `running` settles once its group has started it (waited on instead of a timer: exact on a loaded machine).
   */
  function held(
    id: string,
    run = transaction,
    write = (id: string) => insert(id, 0),
    options?: TransactionOptions,
  ): { result: Promise<string>; running: Promise<void>; release: () => void } {
    let release!: () => void;
    let started!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const running = new Promise<void>((r) => (started = r));
    return { result: run(async (tx) => (started(), await released, write(id)(tx)), options), running, release };
  }

  it('groups that keep coming share one database transaction, committed between groups by one call', async () => {
    let begins = 0;
    db.on('query', (q: { sql: string }) => void (/^BEGIN/i.test(q.sql) && begins++));
    const first = held('first');
    await first.running; // the next ones queue
    const next = ['a', 'b', 'c'].map((id) => transaction(insert(id, 1)));
    first.release();
    expect(await Promise.all([first.result, ...next])).toEqual(['first', 'a', 'b', 'c']);
    expect(await ids()).toEqual(['a', 'b', 'c', 'first']);
    expect({ begins, commits }).toEqual({ begins: 1, commits: 2 }); // knex's BEGIN; `COMMIT; BEGIN`, knex's COMMIT
  });

  it('a group failing after another committed in the same database transaction leaves the first committed', async () => {
    const first = held('first');
    await first.running;
    const next = [transaction(insert('a', 1)), transaction(insert('first', 2)), transaction(insert('b', 3))];
    first.release();
    const outcomes = await Promise.allSettled([first.result, ...next]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(await db('items').orderBy('id').select('id', 'n')).toEqual([
      { id: 'a', n: 1 },
      { id: 'b', n: 3 },
      { id: 'first', n: 0 },
    ]);
  });

  it('a commit between two groups that fails: that group is run again, each alone, and nothing is written twice', async () => {
    let failNext = true;
    const flaky = groupCommit<Tx>((work) =>
      writerTransaction(db, (trx, commitAndBegin) =>
        work(
          (lock) => ({ trx, lock }),
          () => (failNext ? ((failNext = false), Promise.reject(new Error('disk I/O error'))) : commitAndBegin()),
        ),
      ),
    );
    expect(await twoGroups(flaky)).toEqual(['first', 'a', 'b', 'c']);
    expect(await ids()).toEqual(['a', 'b', 'c', 'first']);
    expect(failNext).toBe(false);
  });

  it('tells a transaction its result once its work is done, before the commit; again when its group runs again', async () => {
    const events: string[] = [];
    let failNext = true;
    const flaky = groupCommit<Tx>((work) =>
      writerTransaction(db, (trx, commitAndBegin) =>
        work(
          (lock) => ({ trx, lock }),
          () => (events.push('commit between groups'), failNext ? ((failNext = false), Promise.reject(new Error('disk I/O error'))) : commitAndBegin()),
        ),
      ),
    );
    const told = { onWorkDone: (id: unknown) => void events.push(`work done: ${id}`) };
    const answered = (result: Promise<string>) => result.then((id) => (events.push(`answered: ${id}`), id));
    const first = held('first', flaky, undefined, told);
    const group = [answered(first.result), answered(flaky(insert('a', 1), told))];
    await first.running; // that group is running: `b` queues, so a commit comes between
    const next = answered(flaky(insert('b', 2), told));
    first.release();
    expect(await Promise.all([...group, next])).toEqual(['first', 'a', 'b']);

    const at = (event: string) => events.indexOf(event);
    // Told before the commit (which failed), then told again when its work ran again alone, answered after that.
    expect(events.filter((e) => e === 'work done: first')).toHaveLength(2);
    expect(at('work done: first')).toBeLessThan(at('commit between groups'));
    expect(events.lastIndexOf('work done: first')).toBeGreaterThan(at('commit between groups'));
    expect(events.lastIndexOf('work done: first')).toBeLessThan(at('answered: first'));
    expect(at('work done: b')).toBeLessThan(at('answered: b'));
    expect(await ids()).toEqual(['a', 'b', 'first']);
  });

  it('tells no transaction its result before the commit when made with tellWorkDone false, and answers each the same', async () => {
    const quiet = groupCommit<Tx>((work) => writerTransaction(db, (trx, commitAndBegin) => work((lock) => ({ trx, lock }), commitAndBegin)), { tellWorkDone: false });
    const told: string[] = [];
    const results = await Promise.all(['q1', 'q2'].map((id, i) => quiet(insert(id, i), { onWorkDone: (r) => void told.push(r) })));
    expect(results).toEqual(['q1', 'q2']);
    expect(told).toEqual([]);
    expect(await ids()).toEqual(['q1', 'q2']);
  });

  // SQLite's alone: Postgres has no checkpoint for the writer to run.
  if (kind === 'sqlite') {
    it('a WAL checkpoint that fails fails no transaction and repeats none: a committed group stays committed once', async () => {
      // The writer's one connection, made to fail every checkpoint the way SQLite would: what comes
      // before the PRAGMA in the same call runs, then the call fails.
      const connection = (await db.client.acquireConnection()) as { exec(sql: string, callback: (error: Error | null) => void): void };
      const exec = connection.exec.bind(connection);
      connection.exec = (sql, callback) => {
        const at = sql.indexOf('PRAGMA wal_checkpoint');
        if (at < 0) return exec(sql, callback);
        const failure = new Error('SQLITE_IOERR: disk I/O error');
        if (sql.slice(0, at).trim() === '') return callback(failure);
        exec(sql.slice(0, at), (error) => callback(error ?? failure));
      };
      db.client.releaseConnection(connection);
      // A checkpoint is due at every transaction and between every two groups.
      const checkpointing = groupCommit<Tx>((work) => writerTransaction(db, (trx, commitAndBegin) => work((lock) => ({ trx, lock }), commitAndBegin), () => true));
      expect(await twoGroups(checkpointing)).toEqual(['first', 'a', 'b', 'c']);
      expect(await ids()).toEqual(['a', 'b', 'c', 'first']);
    });
  }

  // Postgres's alone: a constraint checked at COMMIT makes a real COMMIT fail (SQLite has no such constraint).
  if (kind === 'postgres') {
    it('a real `COMMIT; BEGIN` that fails (a deferred unique key): that group runs again, each alone, and only the offender fails', async () => {
      await db.raw('create table deferred_items (id text, constraint deferred_items_id unique (id) deferrable initially deferred)');
      const insertDeferred = (id: string) => ({ trx }: Tx) => trx('deferred_items').insert({ id }).then(() => id);
      const failedCommits: unknown[] = [];
      const transaction = groupCommit<Tx>((work) =>
        writerTransaction(db, (trx, commitAndBegin) =>
          work(
            (lock) => ({ trx, lock }),
            () =>
              commitAndBegin().catch((error: unknown) => {
                failedCommits.push(error);
                throw error;
              }),
          ),
        ),
      );
      await transaction(insertDeferred('taken'));
      const first = held('first', transaction, insertDeferred);
      await first.running; // group 1 runs; the next two queue as group 2
      const duplicate = transaction(insertDeferred('taken'));
      const second = held('a', transaction, insertDeferred);
      first.release();
      await first.result;
      await second.running; // group 2 runs, `a` held; `c` queues as group 3
      const third = transaction(insertDeferred('c'));
      second.release(); // group 2 done, group 3 waiting: `COMMIT; BEGIN`, which the deferred key fails
      const outcomes = await Promise.allSettled([first.result, duplicate, second.result, third]);
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
      expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ code: '23505' });
      expect((await db('deferred_items').orderBy('id').select('id')).map((r: { id: string }) => r.id)).toEqual(['a', 'c', 'first', 'taken']);
      expect(failedCommits, 'the COMMIT that failed was the one between groups 2 and 3').toMatchObject([{ code: '23505' }]);
    });
  }

  it('a transaction that throws gets its error and leaves nothing; the others of its group commit', async () => {
    const outcomes = await Promise.allSettled([
      transaction(insert('a', 1)),
      transaction(insert('b', 2)),
      transaction(async ({ trx }) => {
        await trx('items').insert({ id: 'undone', n: 3 });
        throw new Error('refused');
      }),
      transaction(insert('c', 4)),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[2] as PromiseRejectedResult).reason).toMatchObject({ message: 'refused' });
    expect(await ids()).toEqual(['a', 'b', 'c']);
  });

  it('a database error inside a group fails only the transaction that caused it', async () => {
    await transaction(insert('taken', 0));
    const outcomes = await Promise.allSettled([transaction(insert('x', 1)), transaction(insert('taken', 2)), transaction(insert('y', 3))]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await db('items').where({ id: 'taken' }).first()).toEqual({ id: 'taken', n: 0 });
    expect(await ids()).toEqual(['taken', 'x', 'y']);
  });

  describe('side by side', () => {
    // node-postgres warns (once per process) when a statement is sent on a connection still busy with
    // another: it queues it, but that queue is deprecated and gone in pg 9. Side-by-side transactions
    // send theirs together; the writer's connection must make each wait for the one before (knex.ts).
    const pgQueueWarnings: string[] = [];
    const onWarning = (warning: Error) => void (/already executing a query/.test(warning.message) && pgQueueWarnings.push(warning.message));
    beforeAll(() => void process.on('warning', onWarning));
    afterAll(() => void process.off('warning', onWarning));

    /** Locks `row`, counts the items, waits a little, then inserts one: the count shows what it saw. */
    const countThenInsert = (id: string, row: string, log: string[]) => async ({ trx, lock }: Tx) => {
      lock(row);
      log.push(`start ${id}`);
      const [{ c }] = (await trx('items').count({ c: '*' })) as [{ c: number }];
      await new Promise((r) => setTimeout(r, 20));
      await trx('items').insert({ id, n: Number(c) });
      log.push(`end ${id}`);
      return Number(c);
    };

    /** Holds the writer with a transaction of its own until `release`: what is sent meanwhile forms one group. */
    function holdWriter(): { held: Promise<unknown>; release: () => void } {
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      return { held: transaction(async ({ trx }) => (await trx('items').insert({ id: 'seed', n: 0 }), released)), release };
    }

    async function asOneGroup<T>(send: () => Promise<T>[]): Promise<PromiseSettledResult<Awaited<T>>[]> {
      const writer = holdWriter();
      const sent = send();
      writer.release();
      await writer.held;
      return Promise.allSettled(sent);
    }
    const values = <T>(outcomes: PromiseSettledResult<T>[]) => outcomes.map((o) => (o.status === 'fulfilled' ? o.value : o.reason));

    it('runs sideBySide transactions of a group at the same time, each answered with its own result', async () => {
      const log: string[] = [];
      const outcomes = await asOneGroup(() => ['a', 'b', 'c', 'd'].map((id) => transaction(countThenInsert(id, `items:${id}`, log), { sideBySide: true })));
      expect(log.slice(0, 4)).toEqual(['start a', 'start b', 'start c', 'start d']);
      expect(values(outcomes)).toEqual([1, 1, 1, 1]);
      expect(await ids()).toEqual(['a', 'b', 'c', 'd', 'seed']);
      expect(commits).toBe(1); // the held transaction and the four: one group
    });

    it('runs them again one after another when two lock the same row: each sees the writes before it', async () => {
      const log: string[] = [];
      const outcomes = await asOneGroup(() => ['a', 'b', 'c', 'd'].map((id) => transaction(countThenInsert(id, id === 'a' ? 'items:a' : 'items:same', log), { sideBySide: true })));
      expect(values(outcomes)).toEqual([1, 2, 3, 4]);
      expect(await db('items').orderBy('id').select('id', 'n')).toEqual([
        { id: 'a', n: 1 },
        { id: 'b', n: 2 },
        { id: 'c', n: 3 },
        { id: 'd', n: 4 },
        { id: 'seed', n: 0 },
      ]);
    });

    it('a transaction not marked runs alone: after the ones before it, before the ones after it', async () => {
      const log: string[] = [];
      const outcomes = await asOneGroup(() => [
        transaction(countThenInsert('a', 'items:a', log), { sideBySide: true }),
        transaction(countThenInsert('b', 'items:b', log), { sideBySide: true }),
        transaction(countThenInsert('alone', 'items:alone', log)),
        transaction(countThenInsert('c', 'items:c', log), { sideBySide: true }),
        transaction(countThenInsert('d', 'items:d', log), { sideBySide: true }),
      ]);
      expect(values(outcomes)).toEqual([1, 1, 3, 4, 4]);
      const at = (entry: string) => log.indexOf(entry);
      expect(at('start b'), 'a and b side by side').toBeLessThan(at('end a'));
      expect(at('start alone'), 'alone after a and b').toBeGreaterThan(Math.max(at('end a'), at('end b')));
      expect(at('end alone'), 'alone before c and d').toBeLessThan(Math.min(at('start c'), at('start d')));
      expect(at('start d'), 'c and d side by side').toBeLessThan(at('end c'));
    });

    it('one that throws gets its error and leaves nothing; the others commit', async () => {
      const log: string[] = [];
      const outcomes = await asOneGroup(() => [
        transaction(countThenInsert('a', 'items:a', log), { sideBySide: true }),
        transaction(
          async ({ trx }) => {
            await trx('items').insert({ id: 'undone', n: 0 });
            throw new Error('refused');
          },
          { sideBySide: true },
        ),
        transaction(countThenInsert('b', 'items:b', log), { sideBySide: true }),
      ]);
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect(await ids()).toEqual(['a', 'b', 'seed']);
    });

    if (kind === 'postgres') {
      it('sends no statement into node-postgres’s own queue (the tests above sent theirs side by side)', async () => {
        await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
        expect(pgQueueWarnings).toEqual([]);
      });
    }
  });
});
