import type { Knex } from 'knex';
import type { RowLock } from './group-commit.js';
import { insertRow, isPostgres } from './knex.js';
import type { StatementBatch } from './statement-batch.js';
import type { NotificationRepository, ScheduleRecord, ScheduleRepository } from './types.js';

interface ScheduleRow {
  payment_request_id: string;
  phase: ScheduleRecord['phase'];
  next_step: ScheduleRecord['nextStep'];
  next_step_at: string | null;
  attempts: number;
  inquiries: number;
  pay_request_body: string;
  lease_owner: string | null;
  lease_until: string | null;
  updated_at: string;
}

const toRow = (r: ScheduleRecord): ScheduleRow => ({
  payment_request_id: r.paymentRequestId,
  phase: r.phase,
  next_step: r.nextStep,
  next_step_at: r.nextStepAt,
  attempts: r.attempts,
  inquiries: r.inquiries,
  pay_request_body: r.payRequestBody,
  lease_owner: r.leaseOwner,
  lease_until: r.leaseUntil,
  updated_at: r.updatedAt,
});

const fromRow = (r: ScheduleRow): ScheduleRecord => ({
  paymentRequestId: r.payment_request_id,
  phase: r.phase,
  nextStep: r.next_step,
  nextStepAt: r.next_step_at,
  attempts: Number(r.attempts),
  inquiries: Number(r.inquiries),
  payRequestBody: r.pay_request_body,
  leaseOwner: r.lease_owner,
  leaseUntil: r.lease_until,
  updatedAt: r.updated_at,
});

export function scheduleRepository(db: Knex | Knex.Transaction, lock: RowLock): ScheduleRepository {
  const table = () => db<ScheduleRow>('payment_schedule');
  return {
    async insert(record) {
      await table().insert(toRow(record));
    },
    async find(paymentRequestId, options) {
      if (options?.forUpdate) lock(`payment_schedule:${paymentRequestId}`);
      const query = table().where({ payment_request_id: paymentRequestId }).first();
      const row = await (options?.forUpdate && isPostgres(db) ? query.forUpdate() : query);
      return row && fromRow(row);
    },
    async update(record) {
      const { payment_request_id, ...rest } = toRow(record);
      await table().where({ payment_request_id }).update(rest);
    },
    async claimDue(owner, now, leaseUntil, limit) {
      const due = db('payment_schedule')
        .select('payment_request_id')
        .whereNotNull('next_step')
        .andWhere('next_step_at', '<=', now)
        .andWhere((q) => q.whereNull('lease_until').orWhere('lease_until', '<', now))
        .orderBy('next_step_at')
        .limit(limit);
      if (isPostgres(db)) due.forUpdate().skipLocked();
      // One UPDATE … RETURNING: the lease is taken atomically, re-checking that nobody holds it.
      const rows = (await table()
        .whereIn('payment_request_id', due)
        .andWhere((q) => q.whereNull('lease_until').orWhere('lease_until', '<', now))
        .update({ lease_owner: owner, lease_until: leaseUntil })
        .returning('*')) as unknown as ScheduleRow[];
      return rows.map(fromRow);
    },
    async releaseAll(owner) {
      await table().where({ lease_owner: owner }).update({ lease_owner: null, lease_until: null });
    },
    async countOverdue(now) {
      const [row] = await table()
        .whereNotNull('next_step')
        .andWhere('next_step_at', '<', now)
        .andWhere((q) => q.whereNull('lease_until').orWhere('lease_until', '<', now))
        .count({ n: '*' });
      return Number(row?.n ?? 0);
    },
  };
}

export function notificationRepository(db: Knex | Knex.Transaction, batch: StatementBatch): NotificationRepository {
  return {
    async insert(r) {
      const row = {
        payment_request_id: r.paymentRequestId,
        payment_id: r.paymentId,
        result_status: r.resultStatus,
        result_code: r.resultCode,
        body: r.body,
        applied: r.applied,
        flag: r.flag,
        created_at: r.createdAt,
      };
      await insertRow(batch, db, 'notifications', row);
    },
    async listFor(paymentRequestId) {
      const rows = await db('notifications').where({ payment_request_id: paymentRequestId }).orderBy('id');
      return rows.map((r) => ({
        paymentRequestId: r.payment_request_id,
        paymentId: r.payment_id,
        resultStatus: r.result_status,
        resultCode: r.result_code,
        body: r.body,
        applied: Boolean(r.applied),
        flag: r.flag,
        createdAt: r.created_at,
      }));
    },
  };
}
