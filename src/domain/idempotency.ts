/** Merchant API idempotency (Idempotency-Key), shared by every call that creates a payment. */
import { createHash } from 'node:crypto';
import type { Repositories } from '../store/types.js';

export class Conflict extends Error {
  constructor(
    message: string,
    readonly type: 'idempotency-key-reused' | 'payment-final',
  ) {
    super(message);
    this.name = 'Conflict';
  }
}

export interface IdempotencyScope {
  key: string;
  /** Canonical request, hashed: the same key with another request is a conflict. */
  request: unknown;
}

/**
 * Runs `work` once per (merchant, operation, Idempotency-Key) inside the caller's transaction: the key
 * is claimed first (a concurrent duplicate waits on the unique key), a repeat with the same request
 * replays the stored answer, and a repeat with another request is a Conflict. Refusals roll the claim
 * back with everything else, so a retry is evaluated afresh.
 */
export async function idempotent<T>(
  tx: Repositories,
  merchantId: string,
  operation: string,
  scope: IdempotencyScope | undefined,
  now: string,
  work: () => Promise<T>,
): Promise<{ value: T; replayed: boolean }> {
  if (!scope) return { value: await work(), replayed: false };
  const requestHash = createHash('sha256').update(JSON.stringify(scope.request)).digest('hex');
  const prior = await tx.idempotency.claim(merchantId, operation, scope.key, requestHash, now);
  if (prior) {
    if (prior.requestHash !== requestHash) throw new Conflict('This Idempotency-Key was used with a different request.', 'idempotency-key-reused');
    return { value: prior.body as T, replayed: true };
  }
  const value = await work();
  await tx.idempotency.complete(merchantId, operation, scope.key, 201, value);
  return { value, replayed: false };
}
