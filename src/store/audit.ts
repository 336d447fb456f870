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

const BATCH = 200;
const MAX_QUEUED = 10_000;

/**
 * Audit trail of every Alipay+ message in and out. Entries are queued and written in batches shortly
 * after the response, so the audit never serialises the request path; `flush` runs at shutdown.
 * If the database is down, entries wait in memory (bounded) and are written when it is back.
 * `insert` writes one batch of rows (store/index.ts: one multi-row insert, in a transaction).
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

  /**
   * Writes the entries queued when it starts, not those recorded meanwhile: under steady load those
   * wait for their own timer, so the audit costs one write per `delayMs` rather than a stream of
   * small writes holding SQLite's one writer connection between payment transactions.
   */
  async function writeQueued(): Promise<void> {
    let due = queue.length;
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
  }

  /** Writes what is queued now (at shutdown: everything). */
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    writing = writing.then(writeQueued);
    return writing;
  };

  return {
    record(entry) {
      if (queue.length >= MAX_QUEUED) queue.shift();
      queue.push(entry);
      if (!timer) {
        timer = setTimeout(() => void flush(), delayMs);
        timer.unref();
      }
    },
    flush,
  };
}
