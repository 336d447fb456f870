/**
 * statementBatch (src/store/statement-batch.ts) on its own: calls of the same query made in one tick
 * become one run, each caller gets its own result, and a failure reaches exactly the callers of the
 * failed run. The SQLite store test (side-by-side.test.ts) shows the statements it saves.
 */
import { describe, expect, it } from 'vitest';
import { findByKey, MAX_BATCH, statementBatch } from '../../src/store/statement-batch.js';

/** A runMany that records its calls and answers each argument doubled. */
function doubler() {
  const runs: number[][] = [];
  return {
    runs,
    runMany: async (args: number[]) => {
      runs.push(args);
      return args.map((n) => n * 2);
    },
  };
}

describe('statementBatch', () => {
  it('runs the calls of one query made in the same tick once, and answers each caller with its own result', async () => {
    const batch = statementBatch();
    const { runs, runMany } = doubler();
    const results = await Promise.all([1, 2, 3].map((n) => batch.run('double', n, runMany)));
    expect(results).toEqual([2, 4, 6]);
    expect(runs).toEqual([[1, 2, 3]]);
  });

  it('gathers calls that arrive through promise continuations of the same tick', async () => {
    const batch = statementBatch();
    const { runs, runMany } = doubler();
    const later = async (n: number) => {
      await Promise.resolve();
      await Promise.resolve();
      return batch.run('double', n, runMany);
    };
    expect(await Promise.all([batch.run('double', 1, runMany), later(2), later(3)])).toEqual([2, 4, 6]);
    expect(runs).toEqual([[1, 2, 3]]);
  });

  it('scheduled with setImmediate, gathers the calls of one round of the event loop (callbacks of separate I/O)', async () => {
    const batch = statementBatch((flush) => setImmediate(flush));
    const { runs, runMany } = doubler();
    const results = await new Promise<number[]>((resolve) => {
      const calls: Promise<number>[] = [];
      // Two callbacks of one round (immediates queued together run in the same check phase; two
      // timers could fall in two rounds when the clock ticks between them, as it did under load).
      setImmediate(() => calls.push(batch.run('double', 1, runMany)));
      setImmediate(() => {
        calls.push(batch.run('double', 2, runMany));
        resolve(Promise.all(calls));
      });
    });
    expect(results).toEqual([2, 4]);
    expect(runs).toEqual([[1, 2]]);
  });

  it('runs calls of later ticks, and of other queries, on their own', async () => {
    const batch = statementBatch();
    const a = doubler();
    const b = doubler();
    const first = await Promise.all([batch.run('a', 1, a.runMany), batch.run('b', 10, b.runMany)]);
    const second = await batch.run('a', 2, a.runMany);
    expect([first, second]).toEqual([[2, 20], 4]);
    expect(a.runs).toEqual([[1], [2]]);
    expect(b.runs).toEqual([[10]]);
  });

  it(`runs at most ${MAX_BATCH} calls in one, in order`, async () => {
    const batch = statementBatch();
    const { runs, runMany } = doubler();
    const args = Array.from({ length: MAX_BATCH * 2 + 1 }, (_, i) => i);
    expect(await Promise.all(args.map((n) => batch.run('double', n, runMany)))).toEqual(args.map((n) => n * 2));
    expect(runs.map((r) => r.length)).toEqual([MAX_BATCH, MAX_BATCH, 1]);
    expect(runs.flat()).toEqual(args);
  });

  it('fails every caller of a failed run, and only those', async () => {
    const batch = statementBatch();
    const { runMany } = doubler();
    const failing = async (): Promise<number[]> => {
      throw new Error('constraint failed');
    };
    const settled = await Promise.allSettled([batch.run('bad', 1, failing), batch.run('bad', 2, failing), batch.run('good', 3, runMany)]);
    expect(settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message))).toEqual(['constraint failed', 'constraint failed', 6]);
  });

  it('fails every caller when a run answers a result count other than its calls', async () => {
    const batch = statementBatch();
    const short = async (args: number[]) => args.slice(1);
    const settled = await Promise.allSettled([batch.run('short', 1, short), batch.run('short', 2, short)]);
    expect(settled.every((s) => s.status === 'rejected' && /2 calls/.test((s.reason as Error).message))).toBe(true);
  });
});

describe('findByKey', () => {
  it('fetches the distinct keys of the calls made together once, and answers each its own row, undefined where none', async () => {
    const batch = statementBatch();
    const fetched: string[][] = [];
    const rows = [
      { id: 'b', n: 2 },
      { id: 'a', n: 1 },
    ];
    const fetch = async (keys: string[]) => {
      fetched.push(keys);
      return rows.filter((row) => keys.includes(row.id));
    };
    const found = await Promise.all(['a', 'c', 'b', 'a'].map((key) => findByKey(batch, 'byId', key, 'id', fetch)));
    expect(found).toEqual([{ id: 'a', n: 1 }, undefined, { id: 'b', n: 2 }, { id: 'a', n: 1 }]);
    expect(fetched).toEqual([['a', 'c', 'b']]);
  });
});
