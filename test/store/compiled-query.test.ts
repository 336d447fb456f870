/**
 * compiledQuery (src/store/knex.ts): the SQL is compiled once (once per list length for a list
 * argument), and every call runs it with its own values in the places of its arguments; insertRows
 * writes several rows in one statement. On both databases.
 */
import type { Knex } from 'knex';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { compiledQuery, createKnex, insertRows } from '../../src/store/knex.js';
import { describeEachDatabase } from '../support/gateway.js';
import { testStore } from '../support/store.js';

describeEachDatabase('compiledQuery', (kind) => {
  let db: Knex;
  const store = testStore(kind, 'compiled');
  let builds = 0;
  const itemsOf = compiledQuery((q, owner: string, colour: string) => {
    builds++;
    return q('items').where('owner', owner).andWhere('colour', colour).orderBy('id').limit(2).select('id');
  });
  let listBuilds = 0;
  const itemsIn = compiledQuery((q, ids: readonly string[], colour: string) => {
    listBuilds++;
    return q('items').whereIn('id', ids).andWhere('colour', colour).orderBy('id').select('id');
  });

  beforeAll(async () => {
    db = createKnex(store.options);
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

  afterAll(() => store.remove(db, () => db.destroy()));

  it('answers each call with the rows of its own arguments, in their places, with the builder’s own bindings kept', async () => {
    expect(await itemsOf<{ id: string }>(db, 'ann', 'red')).toEqual([{ id: 'a1' }, { id: 'a2' }]); // limit 2 kept
    expect(await itemsOf<{ id: string }>(db, 'ann', 'blue')).toEqual([{ id: 'a4' }]);
    expect(await itemsOf<{ id: string }>(db, 'bob', 'red')).toEqual([{ id: 'b1' }]);
    expect(await itemsOf<{ id: string }>(db, 'red', 'bob')).toEqual([]); // order of the arguments matters
    expect(await itemsOf<{ id: string }>(db, "ann' OR '1'='1", 'red')).toEqual([]); // values are bound, never spliced
  });

  it('takes a list argument: each call its own values, the SQL built once per list length', async () => {
    expect(await itemsIn<{ id: string }>(db, ['a1', 'a4', 'b1'], 'red')).toEqual([{ id: 'a1' }, { id: 'b1' }]);
    expect(await itemsIn<{ id: string }>(db, ['a2', 'a3', 'zz'], 'red')).toEqual([{ id: 'a2' }, { id: 'a3' }]);
    expect(await itemsIn<{ id: string }>(db, ['a4'], 'blue')).toEqual([{ id: 'a4' }]);
    expect(await itemsIn<{ id: string }>(db, ['a4'], 'red')).toEqual([]);
    expect(listBuilds).toBe(2);
  });

  it('inserts several rows in one statement, skipping and reporting those whose key is taken', async () => {
    const rows = [
      { id: 'n1', owner: 'cy', colour: 'red' },
      { id: 'a1', owner: 'cy', colour: 'red' },
      { id: 'n2', owner: 'cy', colour: 'red' },
    ];
    const inserted = await insertRows(db, 'items', rows, { ignoreConflictOn: 'id', returning: 'id' });
    expect(inserted.map((r) => r.id).sort()).toEqual(['n1', 'n2']);
    expect(await db('items').where('owner', 'cy').orderBy('id').pluck('id')).toEqual(['n1', 'n2']);
    await expect(insertRows(db, 'items', [{ id: 'n3', owner: 'cy', colour: 'red' }, rows[0]!])).rejects.toThrow();
    expect(await db('items').where('id', 'n3').first()).toBeUndefined(); // one statement: all or nothing
  });

  it('builds the SQL once, inside a transaction too', async () => {
    const before = builds;
    await db.transaction(async (tx) => {
      expect(await itemsOf<{ id: string }>(tx, 'bob', 'red')).toEqual([{ id: 'b1' }]);
    });
    expect(builds).toBe(before);
    expect(before).toBe(1);
  });

  it('runs on the transaction’s own connection: its writes seen inside it, nothing outside until commit, nothing after a rollback', async () => {
    const row = (id: string) => ({ id, owner: 'eve', colour: 'red' });
    const rolledBack = db.transaction(async (trx) => {
      await insertRows(trx, 'items', [row('t1')]);
      expect(await itemsOf<{ id: string }>(trx, 'eve', 'red')).toEqual([{ id: 't1' }]);
      // Another connection: on SQLite the test's knex has one, which the transaction holds.
      if (kind === 'postgres') expect(await itemsOf<{ id: string }>(db, 'eve', 'red')).toEqual([]);
      throw new Error('roll back');
    });
    await expect(rolledBack).rejects.toThrow('roll back');
    await db.transaction((trx) => insertRows(trx, 'items', [row('t2')]));
    expect(await itemsOf<{ id: string }>(db, 'eve', 'red')).toEqual([{ id: 't2' }]);
  });

  it('refuses a statement on a transaction that has ended: its connection is back in the pool', async () => {
    let ended!: Knex.Transaction;
    await db.transaction(async (trx) => {
      ended = trx;
    });
    await expect(itemsOf(ended, 'ann', 'red')).rejects.toThrow('Transaction query already complete');
    await expect(insertRows(ended, 'items', [{ id: 'late', owner: 'ann', colour: 'red' }])).rejects.toThrow('Transaction query already complete');
    expect(await db('items').where('id', 'late').first()).toBeUndefined();
  });

  it('emits knex’s query event for each statement: its SQL and values, and the transaction it ran in', async () => {
    const seen: { sql: string; bindings: unknown[]; __knexTxId?: string }[] = [];
    const listen = (q: (typeof seen)[number]) => seen.push(q);
    db.on('query', listen);
    try {
      await itemsOf(db, 'bob', 'red');
      await db.transaction((trx) => insertRows(trx, 'items', [{ id: 'q1', owner: 'fay', colour: 'red' }]));
    } finally {
      db.off('query', listen);
    }
    const select = seen.find((q) => /^select [`"]id[`"] from [`"]items[`"]/.test(q.sql));
    const insert = seen.find((q) => q.sql.startsWith('insert into "items"'));
    expect(select?.bindings).toEqual(['bob', 'red', 2]); // the limit is the builder's own binding
    expect(select?.__knexTxId).toBeUndefined();
    expect(insert?.bindings).toEqual(['q1', 'fay', 'red']);
    expect(insert?.__knexTxId).toEqual(expect.any(String));
  });

  it('keeps answering a query that names its columns after another migration added a column to its table', async () => {
    const coloursOf = compiledQuery((q, ids: readonly string[]) => q('items').whereIn('id', ids).orderBy('id').select(['id', 'colour']));
    const everythingOf = compiledQuery((q, ids: readonly string[]) => q('items').whereIn('id', ids).orderBy('id').select('*'));
    const answers = await db.transaction(async (trx) => {
      await coloursOf(trx, ['a1']);
      await everythingOf(trx, ['a1']);
      await trx.schema.alterTable('items', (t) => t.string('size'));
      const colours = await coloursOf<{ id: string; colour: string }>(trx, ['a1']);
      // Last: on Postgres its failure ends the transaction (rolled back, the column with it).
      const everything = await everythingOf(trx, ['a1']).then(
        () => 'answered',
        (error: Error) => error.message,
      );
      return { colours, everything };
    });
    expect(answers.colours).toEqual([{ id: 'a1', colour: 'red' }]);
    // Why the select lists of compiled queries name their columns: on Postgres the statement is
    // prepared on the connection, and Postgres will not run it once the `*` it expanded has changed.
    if (kind === 'postgres') expect(answers.everything).toMatch(/cached plan must not change result type/);
    else expect(answers.everything).toBe('answered');
  });

  if (kind === 'postgres') {
    it('Postgres: a compiled query is prepared once per connection and then run by name', async () => {
      const prepared = await db.transaction(async (trx) => {
        await itemsIn(trx, ['a1', 'b1'], 'red');
        await itemsIn(trx, ['a2', 'b1'], 'red');
        const { rows } = (await trx.raw(`select name, statement from pg_prepared_statements where statement like 'select "id" from "items" where "id" in%'`)) as { rows: { name: string; statement: string }[] };
        return rows.filter((r) => /in \(\$1, \$2\)/.test(r.statement)); // this list length; earlier tests prepared others
      });
      expect(prepared).toHaveLength(1);
      expect(prepared[0]!.name).toMatch(/^acqp_[0-9a-f]{24}$/);
    });

    it('Postgres: a join prepared while its tables hold a few rows keeps an index plan once they hold thousands', async () => {
      const shelvesOf = compiledQuery((q, ids: readonly string[]) =>
        q('shelf_items as i').join('shelves as s', 's.id', 'i.shelf_id').whereIn('i.id', ids).select(['i.id', 's.label']),
      );
      const { found, plan } = await db.transaction(async (trx) => {
        await trx.schema.createTable('shelves', (t) => {
          t.string('id').primary();
          t.string('label').notNullable();
        });
        await trx.schema.createTable('shelf_items', (t) => {
          t.string('id').primary();
          t.string('shelf_id').notNullable();
        });
        await trx('shelves').insert({ id: 's1', label: 'top' });
        await trx('shelf_items').insert({ id: 'i1', shelf_id: 's1' });
        await trx.raw('analyze shelves; analyze shelf_items'); // as autovacuum does while the tables are small
        // Past Postgres's five custom plans: from here on it may run the statement with a plan fixed now.
        for (let run = 0; run < 8; run++) expect(await shelvesOf(trx, ['i1'])).toEqual([{ id: 'i1', label: 'top' }]);
        const ids = Array.from({ length: 5000 }, (_, n) => `n${n}`);
        await trx.raw(`insert into shelves select id, 'more' from unnest(?::text[]) as id`, [ids]);
        await trx.raw(`insert into shelf_items select id, id from unnest(?::text[]) as id`, [ids]);
        const [{ name }] = ((await trx.raw(`select name from pg_prepared_statements where statement like '%from "shelf_items"%'`)) as { rows: { name: string }[] }).rows as [{ name: string }];
        const explained = (await trx.raw(`explain execute ${name}('n42')`)) as { rows: { 'QUERY PLAN': string }[] };
        const found = await shelvesOf(trx, ['n42']);
        await trx.schema.dropTable('shelf_items').dropTable('shelves');
        return { found, plan: explained.rows.map((r) => r['QUERY PLAN']).join('\n') };
      });
      expect(found).toEqual([{ id: 'n42', label: 'more' }]);
      expect(plan).toMatch(/Index Scan using shelf_items_pkey/);
      expect(plan).toMatch(/Index Scan using shelves_pkey/);
      expect(plan).not.toMatch(/Seq Scan|Hash Join|Merge Join/);
    });

    it('Postgres: an insert of insertRows is prepared once per connection and then run by name', async () => {
      const prepared = await db.transaction(async (trx) => {
        const row = (id: string) => ({ id, owner: 'dee', colour: 'green' });
        await insertRows(trx, 'items', [row('p1')]);
        await insertRows(trx, 'items', [row('p2')]);
        const { rows } = (await trx.raw(`select name, statement from pg_prepared_statements where statement like 'insert into "items"%'`)) as { rows: { name: string; statement: string }[] };
        return rows.filter((r) => /values \(\$1, \$2, \$3\)$/.test(r.statement)); // this one-row insert; earlier tests prepared others
      });
      expect(prepared).toHaveLength(1);
      expect(prepared[0]!.name).toMatch(/^acqp_[0-9a-f]{24}$/);
      expect(await db('items').whereIn('id', ['p1', 'p2']).orderBy('id').pluck('id')).toEqual(['p1', 'p2']);
    });
  }
});
