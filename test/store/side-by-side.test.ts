/**
 * The transactions that SQLite may run side by side (placeOrder, order codes) against the real store:
 * when two of one group reach for the same row, each still gets what running one after the other
 * would have given. The HTTP concurrency tests cannot make two calls share a group reliably; here a
 * transaction holds the writer while the others queue, so they do. SQLite only: Postgres runs
 * transactions side by side and locks rows itself (test/http/concurrency.test.ts covers both).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { idempotent } from '../../src/domain/idempotency.js';
import { openDatabase } from '../../src/store/index.js';
import type { Database, Repositories } from '../../src/store/types.js';

describe('side-by-side transactions on the SQLite store', () => {
  let dir: string;
  let db: Database;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'acqp-side-'));
    db = await openDatabase({ url: `sqlite:${join(dir, 'db.sqlite')}` });
  });
  afterEach(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the transactions `send` starts while another holds the writer: they queue, then form one group. */
  async function asOneGroup<T>(send: () => Promise<T>[]): Promise<T[]> {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const held = db.transaction(() => released);
    const sent = send();
    release();
    await held;
    return Promise.all(sent);
  }

  it('the same Idempotency-Key twice in one group: the second replays the first answer', async () => {
    const create = () =>
      db.transaction(
        (tx: Repositories) =>
          idempotent(tx, 'mch_1', 'createOrder', { key: 'k-1', request: { amount: 1 } }, new Date().toISOString(), async () => {
            await new Promise((r) => setTimeout(r, 20)); // the second reads the key meanwhile
            return { order: 'ord_1' };
          }),
        { sideBySide: true },
      );
    const [first, second] = await asOneGroup(() => [create(), create()]);
    expect(first).toEqual({ value: { order: 'ord_1' }, replayed: false });
    expect(second).toEqual({ value: { order: 'ord_1' }, replayed: true });
  });
});
