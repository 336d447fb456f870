/**
 * SQLite only: the prepared-statement cache is part of the SQLite driver set-up (src/store/knex.ts);
 * Postgres has no counterpart. The store suites (test/http/*) run every repository over it too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type { Knex } from 'knex';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createKnex, isUniqueViolation } from '../../src/store/knex.js';
import { withLiteralLimits } from '../../src/store/sqlite-statements.js';

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

  it('sends a first() with its LIMIT written into the SQL, not bound (a bound LIMIT is re-prepared on every run)', async () => {
    await db('items').insert([{ id: 'a', n: 1 }, { id: 'b', n: 2 }]);
    expect(await db('items').where({ id: 'a' }).first()).toEqual({ id: 'a', n: 1 });
    expect(await db('items').where({ id: 'c' }).first()).toBeUndefined();
    expect(await db('items').orderBy('id').limit(5).offset(1).select('id')).toEqual([{ id: 'b' }]);
    const selects = prepared.filter((sql) => sql.startsWith('select'));
    expect(selects).toEqual(['select * from `items` where `id` = ? limit 1', 'select `id` from `items` order by `id` asc limit 5 offset ?']);
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

describe('withLiteralLimits', () => {
  /** The SQL as it runs: every placeholder replaced by its binding, in order. */
  const substituted = (sql: string, bindings: readonly unknown[]) => {
    let i = 0;
    return sql.replace(/\?/g, () => `<${JSON.stringify(bindings[i++])}>`).replace(/<(\d+)>/g, '$1');
  };
  const fragment = fc.constantFrom('select * from `t` where `a` = ?', ' and `b` in (?, ?)', ' limit ?', ' offset ?', ' union all select ?', ' order by `c`', ' LIMIT ?');
  const binding = fc.oneof(fc.integer({ min: -3, max: 1_000_000 }), fc.string({ maxLength: 5 }), fc.constant(null), fc.double(), fc.constant(2 ** 60));

  it('keeps what runs the same while no integer LIMIT stays bound', () => {
    fc.assert(
      fc.property(fc.array(fragment, { minLength: 1, maxLength: 8 }), fc.array(binding, { maxLength: 20 }), (fragments, pool) => {
        const sql = fragments.join('');
        const bindings = Array.from(sql.matchAll(/\?/g), (_, i) => pool[i % Math.max(pool.length, 1)] ?? i);
        const out = withLiteralLimits(sql, bindings);
        expect(substituted(out.sql, out.bindings)).toBe(substituted(sql, bindings));
        // A LIMIT left bound is one whose value is not a non-negative integer.
        const placeholders = Array.from(out.sql.matchAll(/(\blimit )?\?/gi));
        placeholders.forEach((match, i) => {
          const value = out.bindings[i];
          if (match[1]) expect(typeof value === 'number' && Number.isSafeInteger(value) && value >= 0).toBe(false);
        });
        expect(out.bindings.length).toBe((out.sql.match(/\?/g) ?? []).length);
      }),
    );
  });

  it('leaves SQL alone when its placeholders and bindings do not match, or it holds a string literal', () => {
    expect(withLiteralLimits('select 1 limit ?', [])).toEqual({ sql: 'select 1 limit ?', bindings: [] });
    expect(withLiteralLimits("select '?' limit ?", [1])).toEqual({ sql: "select '?' limit ?", bindings: [1] });
    expect(withLiteralLimits('select ? limit ?', ['x', 1])).toEqual({ sql: 'select ? limit 1', bindings: ['x'] });
  });
});
