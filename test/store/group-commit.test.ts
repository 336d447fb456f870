/**
 * Group commit (src/store/group-commit.ts) on a real SQLite file: transactions that queue up for the
 * one writer run together, each caller gets its own outcome, and one failing never takes another's
 * work with it. SQLite only: Postgres runs transactions side by side and does not group them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Knex } from 'knex';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { groupCommit } from '../../src/store/group-commit.js';
import { createKnex } from '../../src/store/knex.js';

describe('group commit on SQLite', () => {
  let dir: string;
  let db: Knex;
  let begins: number;
  let transaction: <T>(work: (tx: Knex.Transaction) => Promise<T>) => Promise<T>;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'acqp-group-'));
    db = createKnex({ url: `sqlite:${join(dir, 'db.sqlite')}` });
    await db.schema.createTable('items', (t) => {
      t.string('id').primary();
      t.integer('n').notNullable();
    });
    begins = 0;
    db.on('query', (q: { sql: string }) => {
      if (/^BEGIN/i.test(q.sql)) begins++;
    });
    transaction = groupCommit((work) => db.transaction(work));
  });

  afterEach(async () => {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const insert = (id: string, n: number) => (tx: Knex.Transaction) => tx('items').insert({ id, n }).then(() => id);
  const ids = async () => (await db('items').orderBy('id').select('id')).map((r: { id: string }) => r.id);

  it('runs transactions that queue up together in one, and answers each caller with its own result', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => transaction(insert(`t${i}`, i))));
    expect(results).toEqual(Array.from({ length: 10 }, (_, i) => `t${i}`));
    expect(await ids()).toHaveLength(10);
    // The first starts alone at once; the nine that arrived meanwhile share the next transaction.
    expect(begins).toBe(2);
  });

  it('runs them in arrival order: each sees the writes of those before it', async () => {
    await transaction(insert('seed', 0));
    const reads = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        transaction(async (tx) => {
          const [{ c }] = (await tx('items').count({ c: '*' })) as [{ c: number }];
          await tx('items').insert({ id: `r${i}`, n: i });
          return Number(c);
        }),
      ),
    );
    expect(reads).toEqual([1, 2, 3, 4, 5]);
  });

  it('a transaction that throws gets its error and leaves nothing; the others of its group commit', async () => {
    const outcomes = await Promise.allSettled([
      transaction(insert('a', 1)),
      transaction(insert('b', 2)),
      transaction(async (tx) => {
        await tx('items').insert({ id: 'undone', n: 3 });
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
});
