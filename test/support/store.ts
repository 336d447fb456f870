/**
 * Where a store test keeps its data: a SQLite file in a temporary directory of its own, or a Postgres
 * schema of its own in the test database. Open it with `options` (createKnex or openDatabase); when
 * done, `remove` drops the schema through a connection still open, closes, then removes the directory.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Knex } from 'knex';
import { inject } from 'vitest';
import type { DatabaseKind } from './gateway.js';

export interface TestStore {
  options: { url: string; schema?: string };
  remove(knex: Knex, close: () => Promise<void>): Promise<void>;
}

export function testStore(kind: DatabaseKind, prefix: string): TestStore {
  if (kind === 'postgres') {
    const schema = `${prefix}_${randomBytes(4).toString('hex')}`;
    return {
      options: { url: inject('postgresUrl')!, schema },
      async remove(knex, close) {
        await knex.raw(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await close();
      },
    };
  }
  const dir = mkdtempSync(join(tmpdir(), `acqp-${prefix}-`));
  return {
    options: { url: `sqlite:${join(dir, 'db.sqlite')}` },
    async remove(_knex, close) {
      await close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
