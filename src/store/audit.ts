import type { AuditEntry, AuditLog } from './types.js';

/** A row of the audit_messages table. */
export interface AuditRow {
  direction: AuditEntry['direction'];
  api: string;
  payment_request_id: string | null;
  payment_id: string | null;
  request_headers: string;
  request_body: string;
  http_status: number | null;
  response_headers: string;
  response_body: string | null;
  result_status: string | null;
  result_code: string | null;
  latency_ms: number;
  created_at: string;
}

/**
 * Rows per insert statement. Postgres takes each row count for a statement of its own, parsed and
 * planned anew on its first runs on every connection: audit writes of ~150–230 rows, each count new,
 * cost it ~50 µs a row against ~24 µs for a count it has planned (a 180-row insert plans for ~4 ms).
 * So under load the audit writes whole statements of this many rows (store/index.ts splits a write).
 */
export const AUDIT_ROWS_PER_STATEMENT = 50;
/** Rows per write (one transaction): a multiple of AUDIT_ROWS_PER_STATEMENT. */
const BATCH = 4 * AUDIT_ROWS_PER_STATEMENT;
const MAX_QUEUED = 10_000;

/**
 * Audit trail of every Alipay+ message in and out. Entries are queued and written in batches shortly
 * after the response, so the audit never serialises the request path; `flush` runs at shutdown.
 * If the database is down, entries wait in memory (bounded) and are written when it is back.
 * `insert` writes one batch of rows in a transaction (store/index.ts: in statements of
 * AUDIT_ROWS_PER_STATEMENT rows).
 */
export function auditLog(insert: (rows: AuditRow[]) => Promise<unknown>, onError: (error: unknown) => void, delayMs = 100): AuditLog {
  let queue: AuditEntry[] = [];
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();

  const toRow = (e: AuditEntry): AuditRow => ({
    direction: e.direction,
    api: e.api,
    payment_request_id: e.paymentRequestId ?? null,
    payment_id: e.paymentId ?? null,
    request_headers: JSON.stringify(e.requestHeaders),
    request_body: e.requestBody,
    http_status: e.httpStatus,
    response_headers: JSON.stringify(e.responseHeaders),
    response_body: e.responseBody,
    result_status: e.resultStatus,
    result_code: e.resultCode,
    latency_ms: e.latencyMs,
    created_at: e.createdAt,
  });

  const armTimer = () => {
    timer = setTimeout(() => void write(false), delayMs);
    timer.unref();
  };

  /**
   * Writes the entries queued when it starts, not those recorded meanwhile: under steady load those
   * wait for their own timer, so the audit costs one write per `delayMs` rather than a stream of
   * small writes holding SQLite's one writer connection between payment transactions. Unless
   * `everything`, it writes whole statements (AUDIT_ROWS_PER_STATEMENT) when there are enough entries
   * for one, and the rest waits for the next write (one delay more at most); fewer go as they are.
   */
  async function writeQueued(everything: boolean): Promise<void> {
    let due = queue.length;
    if (!everything && due >= AUDIT_ROWS_PER_STATEMENT) due -= due % AUDIT_ROWS_PER_STATEMENT;
    while (due > 0) {
      const batch = queue.slice(0, Math.min(BATCH, due));
      try {
        await insert(batch.map(toRow));
      } catch (error) {
        onError(error);
        return; // keep the entries; the next record() or flush() retries
      }
      // record() drops the oldest entries when the queue is full, maybe some of this batch meanwhile.
      const written = queue.indexOf(batch[batch.length - 1]!) + 1;
      queue = queue.slice(written);
      due -= batch.length;
    }
    if (queue.length > 0 && !timer) armTimer(); // what waits for the next write
  }

  function write(everything: boolean): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = undefined;
    writing = writing.then(() => writeQueued(everything));
    return writing;
  }

  return {
    record(entry) {
      if (queue.length >= MAX_QUEUED) queue.shift();
      queue.push(entry);
      if (!timer) armTimer();
    },
    /** Writes everything queued now (at shutdown). */
    flush: () => write(true),
  };
}
