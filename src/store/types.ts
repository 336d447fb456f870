/**
 * The store's small interface. Domain services see only these; src/store/*.ts implement them on Knex.
 * Every repository exists bound to the pool and, inside `transaction`, bound to that transaction.
 */
import type { Amount } from '../domain/amount.js';
import type { Merchant, MerchantStore, Payment, PaymentStatus } from '../domain/model.js';
import type { AuditRow } from './audit.js';
import type { TransactionOptions } from './group-commit.js';

export class DuplicateKey extends Error {
  constructor(readonly entity: string) {
    super(`duplicate ${entity}`);
    this.name = 'DuplicateKey';
  }
}

export interface MerchantRepository {
  /** @throws DuplicateKey when referenceMerchantId is taken */
  insert(merchant: Merchant, apiKeyHash: string): Promise<void>;
  findById(merchantId: string): Promise<Merchant | undefined>;
  findByApiKeyHash(apiKeyHash: string): Promise<Merchant | undefined>;
  /** Reads the merchant and locks its row until the transaction ends (Postgres: FOR UPDATE; in a group also the group's row lock). */
  findForUpdate(merchantId: string): Promise<Merchant | undefined>;
  /**
   * Reads the merchant to admit a payment. Its row is locked until the transaction ends (Postgres: FOR
   * UPDATE; both: the row lock of a group, group-commit.ts) only when it has a daily payment count
   * limit, the one rule decided on committed state: payments of a merchant without one then do not
   * queue behind each other.
   */
  findForAdmission(merchantId: string): Promise<Merchant | undefined>;
  update(merchant: Merchant): Promise<void>;
}

export interface StoreRepository {
  /** @throws DuplicateKey when the merchant already has this referenceStoreId */
  insert(store: MerchantStore): Promise<void>;
  findById(storeId: string): Promise<MerchantStore | undefined>;
  /** The store and its merchant in one query (decode and placeOrder on an entry code). */
  findByEntryCodeTokenWithMerchant(token: string): Promise<{ store: MerchantStore; merchant: Merchant } | undefined>;
}

export interface PaymentListFilter {
  merchantId: string;
  status?: PaymentStatus | undefined;
  createdFrom?: string | undefined;
  createdTo?: string | undefined;
  limit: number;
  after?: { createdAt: string; paymentRequestId: string } | undefined;
  now: string;
}

export interface PaymentRepository {
  insert(payment: Payment): Promise<void>;
  /** `forUpdate` locks the row until the transaction ends (Postgres: FOR UPDATE; in a group also the group's row lock). */
  findByRequestId(paymentRequestId: string, options?: { forUpdate?: boolean }): Promise<Payment | undefined>;
  findByCodeToken(token: string, options?: { forUpdate?: boolean }): Promise<Payment | undefined>;
  /** The order of a code with its store and merchant, in one query (the decode read path). */
  /** `forUpdate` locks the payment row only (Postgres), not its store's nor its merchant's. */
  findByCodeTokenWithMerchant(token: string, options?: { forUpdate?: boolean }): Promise<{ payment: Payment; store: MerchantStore; merchant: Merchant } | undefined>;
  /** Writes every mutable field of the payment. */
  update(payment: Payment): Promise<void>;
  /** PENDING (not expired) and SUCCEEDED payments of the merchant created at or after `since`. */
  countCounted(merchantId: string, since: string, now: string): Promise<number>;
  /** Payments not final yet: PENDING, except order codes past their expiry. */
  countPending(now: string): Promise<number>;
  /** Newest first, ties by paymentRequestId; returns at most `limit` rows. */
  list(filter: PaymentListFilter): Promise<Payment[]>;
}

/** Alipay+ placeOrder idempotency record, keyed by Alipay+'s paymentId. */
export interface PlaceOrderRecord {
  paymentId: string;
  requestPaymentRequestId: string | null;
  paymentAmount: Amount;
  settlementAmount: Amount;
  codeValue: string;
  paymentRequestId: string | null;
  /** The answer we gave (`result`, `paymentRequestId`), stored with the claim. */
  responseBody: Record<string, unknown>;
  resultCode: string;
  createdAt: string;
}

export interface PlaceOrderRepository {
  /**
   * Inserts the claim with its answer; false when the paymentId is already claimed (on Postgres after
   * waiting for the transaction that claimed it).
   */
  claim(record: PlaceOrderRecord): Promise<boolean>;
  find(paymentId: string): Promise<PlaceOrderRecord | undefined>;
}

export interface IdempotentResponse {
  requestHash: string;
  status: number | null;
  body: unknown;
}

export interface IdempotencyRepository {
  /** Claims the key; returns the earlier record when the key was used before. */
  claim(merchantId: string, operation: string, key: string, requestHash: string, now: string): Promise<IdempotentResponse | undefined>;
  complete(merchantId: string, operation: string, key: string, status: number, body: unknown): Promise<void>;
}

export interface AuditEntry {
  direction: 'IN' | 'OUT';
  api: string;
  paymentRequestId?: string | null | undefined;
  paymentId?: string | null | undefined;
  requestHeaders: Record<string, string>;
  requestBody: string;
  httpStatus: number | null;
  responseHeaders: Record<string, string>;
  responseBody: string | null;
  resultStatus: string | null;
  resultCode: string | null;
  latencyMs: number;
  createdAt: string;
}

export interface AuditLog {
  /** Queues the entry; it is written in a batch off the request path. */
  record(entry: AuditEntry): void;
  /** Writes everything queued so far. */
  flush(): Promise<void>;
}

/** The audit trail's table: rows batched by the audit log (store/audit.ts), written like every write, in a transaction. */
export interface AuditTrailRepository {
  append(rows: readonly AuditRow[]): Promise<void>;
}

export interface Repositories {
  merchants: MerchantRepository;
  stores: StoreRepository;
  payments: PaymentRepository;
  placeOrders: PlaceOrderRepository;
  idempotency: IdempotencyRepository;
  schedule: ScheduleRepository;
  notifications: NotificationRepository;
  auditTrail: AuditTrailRepository;
}

/**
 * The repositories bound to the pool are for reads (on SQLite they use a pool of reader connections,
 * which WAL lets run beside the writer); every write goes through `transaction`.
 */
export interface Database extends Repositories {
  /**
   * Runs `work` in one transaction; repositories given to it are bound to that transaction.
   * `sideBySide` lets it run beside others so marked (src/store/group-commit.ts): only for work whose
   * every read of rows that such others may write is a locking one (`forUpdate`, the placeOrder claim).
   */
  transaction<T>(work: (tx: Repositories) => Promise<T>, options?: TransactionOptions<T>): Promise<T>;
  audit: AuditLog;
  /** Database reachable and migrations applied. */
  ready(): Promise<boolean>;
  close(): Promise<void>;
}

/** The schedule row of a user-presented payment (see domain/user-presented.ts). */
export interface ScheduleRecord {
  paymentRequestId: string;
  phase: 'PAYING' | 'INQUIRING' | 'CANCELLING' | null;
  nextStep: 'PAY' | 'INQUIRE' | 'CANCEL' | null;
  nextStepAt: string | null;
  attempts: number;
  inquiries: number;
  payRequestBody: string;
  leaseOwner: string | null;
  leaseUntil: string | null;
  updatedAt: string;
}

export interface ScheduleRepository {
  insert(record: ScheduleRecord): Promise<void>;
  /** `forUpdate` locks the row until the transaction ends (Postgres: FOR UPDATE; in a group also the group's row lock). */
  find(paymentRequestId: string, options?: { forUpdate?: boolean }): Promise<ScheduleRecord | undefined>;
  update(record: ScheduleRecord): Promise<void>;
  /**
   * Leases up to `limit` due steps to `owner` until `leaseUntil`, atomically: two processes never
   * hold the same step (Postgres: FOR UPDATE SKIP LOCKED; SQLite: one writer at a time).
   */
  claimDue(owner: string, now: string, leaseUntil: string, limit: number): Promise<ScheduleRecord[]>;
  /** Gives back every lease `owner` holds (graceful shutdown). */
  releaseAll(owner: string): Promise<void>;
  /** Count of steps due before `now` and not leased: work the workers are late on. */
  countOverdue(now: string): Promise<number>;
}

export interface NotificationRecord {
  paymentRequestId: string;
  paymentId: string | null;
  resultStatus: string;
  resultCode: string;
  body: string;
  applied: boolean;
  flag: 'AMOUNT_MISMATCH' | 'CONTRADICTS_FINAL' | 'AFTER_CANCEL' | 'UNKNOWN_PAYMENT' | null;
  createdAt: string;
}

export interface NotificationRepository {
  insert(record: NotificationRecord): Promise<void>;
  listFor(paymentRequestId: string): Promise<NotificationRecord[]>;
}
