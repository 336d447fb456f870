/**
 * SQLite only: the writer connection never checkpoints the WAL itself (a checkpoint inside a COMMIT
 * held every queued transaction for 10–20 ms); a reader connection does, every 200 ms, beside it.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Knex } from 'knex';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/index.js';
import type { Database } from '../../src/store/types.js';

describe('WAL checkpoints on SQLite', () => {
  let dir: string;
  let file: string;
  let db: Database & { knex: Knex };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'acqp-checkpoint-'));
    file = join(dir, 'db.sqlite');
    db = await openDatabase({ url: `sqlite:${file}` });
  });
  afterEach(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the writer does not checkpoint on commit', async () => {
    expect(await db.knex.raw('PRAGMA wal_autocheckpoint')).toEqual([{ wal_autocheckpoint: 0 }]);
  });

  it('what is committed reaches the database file within moments, well before SQLite’s 1,000-page checkpoint', async () => {
    await new Promise((r) => setTimeout(r, 300)); // the migrations' pages are checkpointed first
    const before = statSync(file).size;
    // ~100 pages of audit rows: a tenth of what would make a COMMIT checkpoint.
    const row = (i: number) => ({ direction: 'IN', api: 'bench', request_headers: '{}', request_body: 'x'.repeat(3000), response_headers: '{}', latency_ms: i, created_at: new Date().toISOString() });
    for (let i = 0; i < 4; i++) await db.knex('audit_messages').insert(Array.from({ length: 30 }, (_, j) => row(i * 30 + j)));
    await expect.poll(() => statSync(file).size, { timeout: 2000, interval: 50 }).toBeGreaterThan(before + 100 * 4096);
  });
});
