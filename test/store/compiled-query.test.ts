/**
 * compiledQuery (src/store/knex.ts): the SQL is compiled once, and every call runs it with its own
 * values in the places of its arguments, on both databases.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { compiledQuery, createKnex } from '../../src/store/knex.js';
import { describeEachDatabase } from '../support/gateway.js';

describeEachDatabase('compiledQuery', (kind) => {
  let db: Knex;
  let dir: string;
  const schema = `compiled_${randomBytes(4).toString('hex')}`;
  let builds = 0;
  const itemsOf = compiledQuery((q, owner: string, colour: string) => {
    builds++;
    return q('items').where('owner', owner).andWhere('colour', colour).orderBy('id').limit(2).select('id');
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'acqp-compiled-'));
    db = createKnex(kind === 'postgres' ? { url: inject('postgresUrl')!, schema } : { url: `sqlite:${join(dir, 'db.sqlite')}` });
    await db.schema.createTable('items', (t) => {
      t.string('id').primary();
      t.string('owner').notNullable();
      t.string('colour').notNullable();
    });
    await db('items').insert([
      { id: 'a1', owner: 'ann', colour: 'red' },
      { id: 'a2', owner: 'ann', colour: 'red' },
      { id: 'a3', owner: 'ann', colour: 'red' },
      { id: 'a4', owner: 'ann', colour: 'blue' },
      { id: 'b1', owner: 'bob', colour: 'red' },
    ]);
  });

  afterAll(async () => {
    if (kind === 'postgres') await db.raw(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers each call with the rows of its own arguments, in their places, with the builder’s own bindings kept', async () => {
    expect(await itemsOf<{ id: string }>(db, 'ann', 'red')).toEqual([{ id: 'a1' }, { id: 'a2' }]); // limit 2 kept
    expect(await itemsOf<{ id: string }>(db, 'ann', 'blue')).toEqual([{ id: 'a4' }]);
    expect(await itemsOf<{ id: string }>(db, 'bob', 'red')).toEqual([{ id: 'b1' }]);
    expect(await itemsOf<{ id: string }>(db, 'red', 'bob')).toEqual([]); // order of the arguments matters
    expect(await itemsOf<{ id: string }>(db, "ann' OR '1'='1", 'red')).toEqual([]); // values are bound, never spliced
  });

  it('builds the SQL once, inside a transaction too', async () => {
    const before = builds;
    await db.transaction(async (tx) => {
      expect(await itemsOf<{ id: string }>(tx, 'bob', 'red')).toEqual([{ id: 'b1' }]);
    });
    expect(builds).toBe(before);
    expect(before).toBe(1);
  });
});
