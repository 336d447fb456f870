/**
 * SQLite only: the writer connection never checkpoints the WAL on commit (a checkpoint inside a COMMIT
 * held every queued transaction for 10–20 ms); a reader connection does, every 200 ms, beside it. Once
 * the WAL is long, the writer checkpoints what is left as its next transaction begins, so that SQLite
 * starts the WAL over.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Knex } from 'knex';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, walCheckpoints } from '../../src/store/index.js';
import type { Database } from '../../src/store/types.js';

describe('WAL checkpoints on SQLite', () => {
  let dir: string;
  let file: string;
  let db: Database & { knex: Knex };

  const WAL_RESTART_PAGES = 300;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'acqp-checkpoint-'));
    file = join(dir, 'db.sqlite');
    db = await openDatabase({ url: `sqlite:${file}`, sqliteWalRestartPages: WAL_RESTART_PAGES });
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

  it('under writes that never pause, the WAL file stops growing: the writer starts it over', async () => {
    const answer = { result: { resultStatus: 'S', resultCode: 'SUCCESS', resultMessage: 'x'.repeat(3000) } };
    let claims = 0;
    const until = Date.now() + 2000;
    // Ten callers claiming back to back: the group commit chains its groups with COMMIT; BEGIN.
    const caller = async (n: number) => {
      while (Date.now() < until) {
        const paymentId = `wal-${n}-${claims++}`;
        await db.transaction(
          (tx) =>
            tx.placeOrders.claim({ paymentId, requestPaymentRequestId: null, paymentAmount: { currency: 'JPY', value: '100' }, settlementAmount: { currency: 'JPY', value: '100' }, codeValue: 'c', paymentRequestId: null, responseBody: answer, resultCode: 'SUCCESS', createdAt: new Date().toISOString() }),
          { sideBySide: true },
        );
      }
    };
    await Promise.all(Array.from({ length: 10 }, (_, n) => caller(n)));
    const walPages = statSync(`${file}-wal`).size / 4096;
    // A claim's row (3 KB) takes a page of its own: a WAL never started over would hold a page or
    // more per claim (measured: 2.3; with the writer's checkpoint, 0.3).
    expect(claims).toBeGreaterThan(8 * WAL_RESTART_PAGES);
    expect(walPages).toBeLessThan(claims / 2);
  });

  it('once the WAL is past the restart size, the reader checkpoints it a second time before the writer is told to', async () => {
    const framesAfterEachPass = [10, WAL_RESTART_PAGES + 200, 40];
    const statements: string[] = [];
    const reader = { raw: async (sql: string) => (statements.push(sql), [{ log: framesAfterEachPass.shift() ?? 0 }]) } as unknown as Knex;
    const checkpoints = walCheckpoints(reader, WAL_RESTART_PAGES);
    try {
      await expect.poll(() => statements.length, { timeout: 1000, interval: 10 }).toBe(1);
      expect(checkpoints.writerCheckpointDue()).toBe(false); // 10 frames: nothing for the writer to do
      await expect.poll(() => checkpoints.writerCheckpointDue(), { timeout: 1000, interval: 10 }).toBe(true);
      expect(statements).toEqual(Array(3).fill('PRAGMA wal_checkpoint(PASSIVE)')); // the long WAL's pass, then one more
      expect(checkpoints.writerCheckpointDue()).toBe(false); // told once
    } finally {
      checkpoints.stop();
    }
  });
});
