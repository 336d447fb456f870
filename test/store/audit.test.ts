/**
 * The audit trail's write pattern: entries are written in batches after a delay, and a write takes
 * only what was queued when it started, so steady traffic costs one write per delay, not a stream of
 * small writes on SQLite's one writer connection; under load, only whole statements' worth of rows.
 * The insert is a stand-in that records each batch.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AUDIT_ROWS_PER_STATEMENT, auditLog, type AuditRow } from '../../src/store/audit.js';
import type { AuditEntry } from '../../src/store/types.js';

const DELAY_MS = 100;

function entry(api: string): AuditEntry {
  return {
    direction: 'IN',
    api,
    paymentRequestId: null,
    paymentId: null,
    requestHeaders: {},
    requestBody: '{}',
    httpStatus: 200,
    responseHeaders: {},
    responseBody: '{}',
    resultStatus: 'S',
    resultCode: 'SUCCESS',
    latencyMs: 1,
    createdAt: '2026-12-02T00:00:00.000Z',
  };
}

/** An insert that waits until `finish()` when `hold` is set, and fails while `failing` is set. */
function recordingDatabase() {
  const inserts: string[][] = [];
  let hold = false;
  let failing = false;
  let finish: () => void = () => {};
  const insert = async (rows: AuditRow[]) => {
    if (failing) throw new Error('database is down');
    inserts.push(rows.map((r) => r.api));
    if (hold) await new Promise<void>((resolve) => (finish = resolve));
  };
  return {
    insert,
    inserts,
    holdWrites: (on: boolean) => (hold = on),
    fail: (on: boolean) => (failing = on),
    finishWrite: () => finish(),
  };
}

describe('audit log', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('writes the entries of one delay in one insert', async () => {
    const store = recordingDatabase();
    const audit = auditLog(store.insert, () => {}, DELAY_MS);
    audit.record(entry('a'));
    audit.record(entry('b'));
    expect(store.inserts).toEqual([]);
    await vi.advanceTimersByTimeAsync(DELAY_MS);
    expect(store.inserts).toEqual([['a', 'b']]);
  });

  it('entries recorded while a write runs wait for their own delay, not for the write to end', async () => {
    const store = recordingDatabase();
    const audit = auditLog(store.insert, () => {}, DELAY_MS);
    store.holdWrites(true);
    audit.record(entry('a'));
    await vi.advanceTimersByTimeAsync(DELAY_MS);
    expect(store.inserts).toEqual([['a']]);
    audit.record(entry('b'));
    audit.record(entry('c'));
    store.finishWrite();
    await vi.advanceTimersByTimeAsync(DELAY_MS / 2);
    expect(store.inserts).toEqual([['a']]);
    store.holdWrites(false);
    await vi.advanceTimersByTimeAsync(DELAY_MS / 2);
    expect(store.inserts).toEqual([['a'], ['b', 'c']]);
  });

  it('more than one batch queued: flush writes all of them in batches of 200', async () => {
    const store = recordingDatabase();
    const audit = auditLog(store.insert, () => {}, DELAY_MS);
    for (let i = 0; i < 450; i++) audit.record(entry(`e${i}`));
    await audit.flush();
    expect(store.inserts.map((rows) => rows.length)).toEqual([200, 200, 50]);
    expect(store.inserts.flat()).toEqual(Array.from({ length: 450 }, (_, i) => `e${i}`));
  });

  it('under load, a timed write takes whole statements of rows; the rest waits one delay more, then goes as it is', async () => {
    const store = recordingDatabase();
    const audit = auditLog(store.insert, () => {}, DELAY_MS);
    for (let i = 0; i < 2 * AUDIT_ROWS_PER_STATEMENT + 30; i++) audit.record(entry(`e${i}`));
    await vi.advanceTimersByTimeAsync(DELAY_MS);
    expect(store.inserts.map((rows) => rows.length)).toEqual([2 * AUDIT_ROWS_PER_STATEMENT]);
    await vi.advanceTimersByTimeAsync(DELAY_MS); // nothing recorded meanwhile: the rest still goes
    expect(store.inserts.map((rows) => rows.length)).toEqual([2 * AUDIT_ROWS_PER_STATEMENT, 30]);
    expect(store.inserts.flat()).toEqual(Array.from({ length: 2 * AUDIT_ROWS_PER_STATEMENT + 30 }, (_, i) => `e${i}`));
  });

  it('a failed write keeps its entries and reports the error; the next write has them', async () => {
    const store = recordingDatabase();
    const errors: unknown[] = [];
    const audit = auditLog(store.insert, (e) => errors.push(e), DELAY_MS);
    store.fail(true);
    audit.record(entry('a'));
    await vi.advanceTimersByTimeAsync(DELAY_MS);
    expect(errors).toHaveLength(1);
    expect(store.inserts).toEqual([]);
    store.fail(false);
    audit.record(entry('b'));
    await vi.advanceTimersByTimeAsync(DELAY_MS);
    expect(store.inserts).toEqual([['a', 'b']]);
  });

  it('a full queue drops its oldest entries, also those of a write under way, and keeps the rest', async () => {
    const store = recordingDatabase();
    const audit = auditLog(store.insert, () => {}, DELAY_MS);
    store.holdWrites(true);
    audit.record(entry('first'));
    await vi.advanceTimersByTimeAsync(DELAY_MS);
    for (let i = 0; i < 10_000; i++) audit.record(entry(`e${i}`)); // 'first' is dropped from the queue: 10,000 is the bound
    store.holdWrites(false);
    store.finishWrite();
    await audit.flush();
    expect(store.inserts[0]).toEqual(['first']);
    expect(store.inserts.slice(1).flat()).toEqual(Array.from({ length: 10_000 }, (_, i) => `e${i}`));
  });
});
