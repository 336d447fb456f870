/**
 * SQLite only: the prepared-statement cache is part of the SQLite driver set-up (src/store/knex.ts);
 * Postgres has no counterpart. The store suites (test/http/*) run every repository over it too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Knex } from 'knex';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createKnex, isUniqueViolation } from '../../src/store/knex.js';

describe('SQLite connections keep their prepared statements', () => {
  let dir: string;
  let db: Knex;
  const prepared: string[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'acqp-statements-'));
    db = createKnex({ url: `sqlite:${join(dir, 'db.sqlite')}` });
    await db.schema.createTable('items', (t) => {
      t.string('id').primary();
      t.integer('n').notNullable();
    });
    // Count prepares through the real connection (the pool has one).
    const connection = (await db.client.acquireConnection()) as { prepare: (sql: string, ...rest: unknown[]) => unknown };
    const prepare = connection.prepare.bind(connection);
    connection.prepare = (sql: string, ...rest: unknown[]) => {
      prepared.push(sql);
      return prepare(sql, ...rest);
    };
    await db.client.releaseConnection(connection);
    prepared.length = 0;
  });

  afterEach(async () => {
    await db.destroy(); // closing with kept statements must succeed (sqlite3_close refuses otherwise)
    rmSync(dir, { recursive: true, force: true });
  });

  it('prepares a query shape once and runs it again with new bindings', async () => {
    for (let i = 0; i < 5; i++) await db('items').insert({ id: `i${i}`, n: i });
    for (let i = 0; i < 5; i++) expect(await db('items').where({ id: `i${i}` }).first()).toEqual({ id: `i${i}`, n: i });
    expect(prepared.filter((sql) => sql.startsWith('insert'))).toHaveLength(1);
    expect(prepared.filter((sql) => sql.startsWith('select'))).toHaveLength(1);
  });

  it('reports changes and RETURNING rows of a kept statement', async () => {
    await db('items').insert([{ id: 'a', n: 1 }]);
    await db('items').insert([{ id: 'b', n: 1 }]);
    expect(await db('items').where({ n: 1 }).update({ n: 2 })).toBe(2);
    expect(await db('items').where({ n: 2 }).update({ n: 3 })).toBe(2);
    expect(await db('items').insert({ id: 'c', n: 4 }).onConflict('id').ignore().returning('id')).toEqual([{ id: 'c' }]);
    expect(await db('items').insert({ id: 'c', n: 4 }).onConflict('id').ignore().returning('id')).toEqual([]);
  });

  it('reports a failure, then runs the same shape again', async () => {
    await db('items').insert({ id: 'x', n: 1 });
    const failure = await db('items').insert({ id: 'x', n: 2 }).catch((e: unknown) => e);
    expect(isUniqueViolation(failure)).toBe(true);
    await db('items').insert({ id: 'y', n: 2 });
    expect(await db('items').orderBy('id').select('id')).toEqual([{ id: 'x' }, { id: 'y' }]);
  });

  it('keeps working in transactions, rollback included', async () => {
    await db.transaction(async (tx) => {
      await tx('items').insert({ id: 'kept', n: 1 });
    });
    await db
      .transaction(async (tx) => {
        await tx('items').insert({ id: 'rolled-back', n: 1 });
        throw new Error('undo');
      })
      .catch(() => {});
    expect(await db('items').select('id')).toEqual([{ id: 'kept' }]);
  });

  it('runs the same shape called concurrently on several copies, then keeps them', async () => {
    await db('items').insert([{ id: 'a', n: 1 }, { id: 'b', n: 2 }, { id: 'c', n: 3 }]);
    const connection = await db.client.acquireConnection();
    const all = (id: string) => new Promise((resolve, reject) => connection.all('select n from items where id = ?', [id], (e: Error | null, rows: unknown) => (e ? reject(e) : resolve(rows))));
    expect(await Promise.all(['a', 'b', 'c'].map(all))).toEqual([[{ n: 1 }], [{ n: 2 }], [{ n: 3 }]]);
    expect(await Promise.all(['c', 'b', 'a'].map(all))).toEqual([[{ n: 3 }], [{ n: 2 }], [{ n: 1 }]]);
    await db.client.releaseConnection(connection);
    expect(prepared.filter((sql) => sql === 'select n from items where id = ?')).toHaveLength(3);
  });

  it('stays correct past its bound, evicting the least recently used', async () => {
    // 300 distinct shapes (more than the 256 kept), then the first again.
    for (let i = 0; i < 300; i++) await db('items').insert({ id: `s${i}`, n: i }).onConflict('id').merge([`n`]).returning(db.raw(`id as c${i}`) as never);
    expect(await db('items').count({ c: '*' })).toEqual([{ c: 300 }]);
    await db('items').insert({ id: 'again', n: 0 }).onConflict('id').merge(['n']).returning(db.raw('id as c0') as never);
    expect(await db('items').where({ id: 'again' }).first()).toEqual({ id: 'again', n: 0 });
  });
});
