import type { Knex } from 'knex';
import type { Merchant, MerchantStore } from '../domain/model.js';
import type { RowLock } from './group-commit.js';
import { compiledQuery, isPostgres, isUniqueViolation, joinColumns } from './knex.js';
import { findByKey, type StatementBatch } from './statement-batch.js';
import { DuplicateKey, type MerchantRepository, type StoreRepository } from './types.js';

export interface MerchantRow {
  merchant_id: string;
  reference_merchant_id: string;
  merchant_name: string;
  merchant_mcc: string;
  merchant_address: string;
  settlement_currency: string | null;
  status: Merchant['status'];
  kyb_status: Merchant['kybStatus'];
  per_payment_limit_currency: string | null;
  per_payment_limit_value: string | null;
  daily_payment_count_limit: number | null;
  accepted_currencies: string | null;
  created_at: string;
  updated_at: string;
}

function toRow(m: Merchant): Omit<MerchantRow, 'merchant_id' | 'created_at'> {
  return {
    reference_merchant_id: m.referenceMerchantId,
    merchant_name: m.merchantName,
    merchant_mcc: m.merchantMCC,
    merchant_address: JSON.stringify(m.merchantAddress),
    settlement_currency: m.settlementCurrency,
    status: m.status,
    kyb_status: m.kybStatus,
    per_payment_limit_currency: m.perPaymentLimit?.currency ?? null,
    per_payment_limit_value: m.perPaymentLimit?.value ?? null,
    daily_payment_count_limit: m.dailyPaymentCountLimit,
    accepted_currencies: m.acceptedCurrencies ? JSON.stringify(m.acceptedCurrencies) : null,
    updated_at: m.updatedAt,
  };
}

export function merchantFromRow(r: MerchantRow): Merchant {
  return {
    merchantId: r.merchant_id,
    referenceMerchantId: r.reference_merchant_id,
    merchantName: r.merchant_name,
    merchantMCC: r.merchant_mcc,
    merchantAddress: JSON.parse(r.merchant_address),
    settlementCurrency: r.settlement_currency,
    status: r.status,
    kybStatus: r.kyb_status,
    perPaymentLimit:
      r.per_payment_limit_currency && r.per_payment_limit_value
        ? { currency: r.per_payment_limit_currency, value: r.per_payment_limit_value }
        : null,
    dailyPaymentCountLimit: r.daily_payment_count_limit === null ? null : Number(r.daily_payment_count_limit),
    acceptedCurrencies: r.accepted_currencies ? JSON.parse(r.accepted_currencies) : null,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function merchantRepository(db: Knex | Knex.Transaction, lock: RowLock, batch: StatementBatch): MerchantRepository {
  /** `forUpdate` locks the row on Postgres; in a group the caller takes the group's row lock too. */
  const byId = (merchantId: string, forUpdate = false) =>
    findByKey<MerchantRow>(batch, forUpdate ? 'merchants.byIdForUpdate' : 'merchants.byId', merchantId, 'merchant_id', (ids) => {
      const query = db<MerchantRow>('merchants').whereIn('merchant_id', ids);
      return forUpdate && isPostgres(db) ? query.forUpdate() : query;
    });
  return {
    async insert(merchant, apiKeyHash) {
      try {
        await db('merchants').insert({ ...toRow(merchant), merchant_id: merchant.merchantId, created_at: merchant.createdAt, api_key_hash: apiKeyHash });
      } catch (error) {
        if (isUniqueViolation(error)) throw new DuplicateKey('referenceMerchantId');
        throw error;
      }
    },
    async findById(merchantId) {
      const row = await byId(merchantId);
      return row && merchantFromRow(row);
    },
    async findByApiKeyHash(apiKeyHash) {
      const row = await findByKey<MerchantRow & { api_key_hash: string }>(batch, 'merchants.byApiKeyHash', apiKeyHash, 'api_key_hash', (hashes) =>
        db('merchants').whereIn('api_key_hash', hashes),
      );
      return row && merchantFromRow(row);
    },
    async findForUpdate(merchantId) {
      lock(`merchants:${merchantId}`);
      const row = await byId(merchantId, true);
      return row && merchantFromRow(row);
    },
    async findForAdmission(merchantId) {
      const row = await byId(merchantId);
      if (!row || row.daily_payment_count_limit === null) return row && merchantFromRow(row);
      if (isPostgres(db)) return this.findForUpdate(merchantId);
      lock(`merchants:${merchantId}`); // SQLite: read on the writer, inside its transaction already: no FOR UPDATE
      return merchantFromRow(row);
    },
    async update(merchant) {
      await db('merchants').where({ merchant_id: merchant.merchantId }).update(toRow(merchant));
    },
  };
}

interface StoreRow {
  store_id: string;
  merchant_id: string;
  reference_store_id: string;
  store_name: string;
  store_mcc: string;
  address: string;
  entry_code_token: string;
  created_at: string;
}

/** A store's columns in a compiled join (decode and placeOrder on an entry code, an order code's store). */
export const storeColumns = joinColumns<StoreRow>({
  store_id: true,
  merchant_id: true,
  reference_store_id: true,
  store_name: true,
  store_mcc: true,
  address: true,
  entry_code_token: true,
  created_at: true,
});

export function storeFromRow(r: StoreRow): MerchantStore {
  return {
    storeId: r.store_id,
    merchantId: r.merchant_id,
    referenceStoreId: r.reference_store_id,
    storeName: r.store_name,
    storeMCC: r.store_mcc,
    address: JSON.parse(r.address),
    entryCodeToken: r.entry_code_token,
    createdAt: r.created_at,
  };
}

/** A merchant's columns in a compiled join. */
export const merchantColumns = joinColumns<MerchantRow>({
  merchant_id: true,
  reference_merchant_id: true,
  merchant_name: true,
  merchant_mcc: true,
  merchant_address: true,
  settlement_currency: true,
  status: true,
  kyb_status: true,
  per_payment_limit_currency: true,
  per_payment_limit_value: true,
  daily_payment_count_limit: true,
  accepted_currencies: true,
  created_at: true,
  updated_at: true,
});

const storesWithMerchant = compiledQuery((db, tokens: readonly string[]) =>
  db('stores as s').join('merchants as m', 'm.merchant_id', 's.merchant_id').whereIn('s.entry_code_token', tokens).select([...storeColumns.as('s'), ...merchantColumns.as('m')]),
);

export function storeRepository(db: Knex | Knex.Transaction, batch: StatementBatch): StoreRepository {
  return {
    async insert(s) {
      try {
        await db('stores').insert({
          store_id: s.storeId,
          merchant_id: s.merchantId,
          reference_store_id: s.referenceStoreId,
          store_name: s.storeName,
          store_mcc: s.storeMCC,
          address: JSON.stringify(s.address),
          entry_code_token: s.entryCodeToken,
          created_at: s.createdAt,
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw new DuplicateKey('referenceStoreId');
        throw error;
      }
    },
    async findById(storeId) {
      const row = await findByKey<StoreRow>(batch, 'stores.byId', storeId, 'store_id', (ids) => db<StoreRow>('stores').whereIn('store_id', ids));
      return row && storeFromRow(row);
    },
    async findByEntryCodeTokenWithMerchant(token) {
      const row = await findByKey(batch, 'stores.withMerchantByEntryCodeToken', token, 's_entry_code_token', (tokens) => storesWithMerchant<Record<string, unknown>>(db, tokens));
      return row && { store: storeFromRow(storeColumns.from(row, 's')), merchant: merchantFromRow(merchantColumns.from(row, 'm')) };
    },
  };
}
