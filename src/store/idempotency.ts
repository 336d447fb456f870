import type { Knex } from 'knex';
import type { RowLock } from './group-commit.js';
import type { IdempotencyRepository } from './types.js';

interface IdempotencyRow {
  merchant_id: string;
  operation: string;
  idempotency_key: string;
  request_hash: string;
  response_status: number | null;
  response_body: string | null;
  created_at: string;
}

export function idempotencyRepository(db: Knex | Knex.Transaction, lock: RowLock): IdempotencyRepository {
  const table = () => db<IdempotencyRow>('idempotency_keys');
  const keyRow = (merchantId: string, operation: string, key: string) => `idempotency_keys:${merchantId}:${operation}:${key}`;
  return {
    async claim(merchantId, operation, key, requestHash, now) {
      lock(keyRow(merchantId, operation, key));
      const inserted = await table()
        .insert({ merchant_id: merchantId, operation, idempotency_key: key, request_hash: requestHash, created_at: now })
        .onConflict(['merchant_id', 'operation', 'idempotency_key'])
        .ignore()
        .returning('idempotency_key');
      if (inserted.length === 1) return undefined;
      const row = await table().where({ merchant_id: merchantId, operation, idempotency_key: key }).first();
      if (!row) throw new Error('idempotency key vanished');
      return {
        requestHash: row.request_hash,
        status: row.response_status === null ? null : Number(row.response_status),
        body: row.response_body ? JSON.parse(row.response_body) : null,
      };
    },
    async complete(merchantId, operation, key, status, body) {
      lock(keyRow(merchantId, operation, key));
      await table()
        .where({ merchant_id: merchantId, operation, idempotency_key: key })
        .update({ response_status: status, response_body: JSON.stringify(body) });
    },
  };
}
