/** Merchants and their stores: onboarding, API keys, and the eligibility rules every payment passes. */
import { createHash } from 'node:crypto';
import type { Database, Repositories } from '../store/types.js';
import { assertPayableAmount, isKnownCurrency, type Amount } from './amount.js';
import { newApiKey, newCodeToken, newId } from './codes.js';
import type { Address, KybStatus, Merchant, MerchantStatus, MerchantStore } from './model.js';
import { PaymentRefused } from './result-codes.js';

/** Thrown for input that is well-formed but not acceptable (merchant API: 400 / 404). */
export class InvalidInput extends Error {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'InvalidInput';
  }
}

export class NotFound extends Error {
  constructor(what: string) {
    super(`${what} not found`);
    this.name = 'NotFound';
  }
}

/** SUSPENDED wins over KYB: INVALID_MERCHANT_STATUS before MERCHANT_KYB_NOT_QUALIFIED. */
export function assertEligible(merchant: Merchant): void {
  if (merchant.status !== 'ACTIVE') throw new PaymentRefused('INVALID_MERCHANT_STATUS', `Merchant ${merchant.referenceMerchantId} is ${merchant.status}.`);
  if (merchant.kybStatus !== 'APPROVED') {
    throw new PaymentRefused('MERCHANT_KYB_NOT_QUALIFIED', `Merchant ${merchant.referenceMerchantId} KYB is ${merchant.kybStatus}.`);
  }
}

/** Currency accepted and amount within the merchant's per-payment limit (inclusive, same currency). */
export function assertAcceptsAmount(merchant: Merchant, amount: Amount, field: string): void {
  const value = assertPayableAmount(amount, field);
  if (merchant.acceptedCurrencies && !merchant.acceptedCurrencies.includes(amount.currency)) {
    throw new PaymentRefused('CURRENCY_NOT_SUPPORT', `The merchant does not accept ${amount.currency}.`);
  }
  const limit = merchant.perPaymentLimit;
  if (limit && limit.currency === amount.currency && value > BigInt(limit.value)) {
    throw new PaymentRefused('PAYMENT_AMOUNT_EXCEED_LIMIT', `${field} exceeds the merchant's per-payment limit of ${limit.value} ${limit.currency}.`);
  }
}

/**
 * The merchant's daily payment count (PENDING and SUCCEEDED payments of every scenario created this
 * UTC day) must stay within dailyPaymentCountLimit. Call inside the transaction that creates the
 * payment, after `findForAdmission` (which locks a limited merchant's row), so two concurrent payments
 * cannot both take the last slot.
 */
export async function assertDailyCountAvailable(tx: Repositories, merchant: Merchant, now: Date): Promise<void> {
  if (merchant.dailyPaymentCountLimit === null) return;
  const dayStart = `${now.toISOString().slice(0, 10)}T00:00:00.000Z`;
  const count = await tx.payments.countCounted(merchant.merchantId, dayStart, now.toISOString());
  if (count >= merchant.dailyPaymentCountLimit) {
    throw new PaymentRefused('PAYMENT_COUNT_EXCEED_LIMIT', `The merchant reached its limit of ${merchant.dailyPaymentCountLimit} payments today (UTC).`);
  }
}

export function hashApiKey(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex');
}

export interface MerchantInput {
  referenceMerchantId: string;
  merchantName: string;
  merchantMCC: string;
  merchantAddress: Address;
  settlementCurrency?: string | null;
  status?: MerchantStatus;
  kybStatus?: KybStatus;
  perPaymentLimit?: Amount | null;
  dailyPaymentCountLimit?: number | null;
  acceptedCurrencies?: string[] | null;
}

export type MerchantChanges = Partial<
  Pick<Merchant, 'merchantName' | 'settlementCurrency' | 'status' | 'kybStatus' | 'perPaymentLimit' | 'dailyPaymentCountLimit' | 'acceptedCurrencies'>
>;

export interface StoreInput {
  referenceStoreId: string;
  storeName: string;
  storeMCC: string;
  address: Address;
}

function checkCurrencies(m: Pick<Merchant, 'settlementCurrency' | 'perPaymentLimit' | 'acceptedCurrencies'>): void {
  for (const [field, currency] of [
    ['settlementCurrency', m.settlementCurrency],
    ['perPaymentLimit.currency', m.perPaymentLimit?.currency],
    ...(m.acceptedCurrencies ?? []).map((c, i) => [`acceptedCurrencies[${i}]`, c] as const),
  ] as const) {
    if (currency && !isKnownCurrency(currency)) throw new InvalidInput(`${field}: ${currency} is not an ISO 4217 currency`, field);
  }
  if (m.perPaymentLimit) {
    try {
      assertPayableAmount(m.perPaymentLimit, 'perPaymentLimit');
    } catch (error) {
      throw new InvalidInput((error as Error).message, 'perPaymentLimit');
    }
  }
}

export function merchantService(db: Database, clock: () => Date) {
  return {
    async onboard(input: MerchantInput): Promise<{ merchant: Merchant; apiKey: string }> {
      const now = clock().toISOString();
      const merchant: Merchant = {
        merchantId: newId('mch'),
        referenceMerchantId: input.referenceMerchantId,
        merchantName: input.merchantName,
        merchantMCC: input.merchantMCC,
        merchantAddress: input.merchantAddress,
        settlementCurrency: input.settlementCurrency ?? null,
        status: input.status ?? 'ACTIVE',
        kybStatus: input.kybStatus ?? 'APPROVED',
        perPaymentLimit: input.perPaymentLimit ?? null,
        dailyPaymentCountLimit: input.dailyPaymentCountLimit ?? null,
        acceptedCurrencies: input.acceptedCurrencies ?? null,
        createdAt: now,
        updatedAt: now,
      };
      checkCurrencies(merchant);
      const apiKey = newApiKey();
      await db.transaction((tx) => tx.merchants.insert(merchant, hashApiKey(apiKey)));
      return { merchant, apiKey };
    },

    async get(merchantId: string): Promise<Merchant> {
      const merchant = await db.merchants.findById(merchantId);
      if (!merchant) throw new NotFound('merchant');
      return merchant;
    },

    async update(merchantId: string, changes: MerchantChanges): Promise<Merchant> {
      return db.transaction(async (tx) => {
        const current = await tx.merchants.findForUpdate(merchantId);
        if (!current) throw new NotFound('merchant');
        const updated: Merchant = { ...current, ...changes, updatedAt: clock().toISOString() };
        checkCurrencies(updated);
        await tx.merchants.update(updated);
        return updated;
      });
    },

    /** The merchant holding this API key (looked up by its hash), or undefined. */
    async authenticate(apiKey: string): Promise<Merchant | undefined> {
      return db.merchants.findByApiKeyHash(hashApiKey(apiKey));
    },

    async addStore(merchant: Merchant, input: StoreInput): Promise<MerchantStore> {
      const store: MerchantStore = {
        storeId: newId('sto'),
        merchantId: merchant.merchantId,
        ...input,
        entryCodeToken: newCodeToken(),
        createdAt: clock().toISOString(),
      };
      await db.transaction((tx) => tx.stores.insert(store));
      return store;
    },

    /** A store of this merchant; another merchant's store is not found. */
    async getStore(merchant: Merchant, storeId: string): Promise<MerchantStore> {
      const store = await db.stores.findById(storeId);
      if (!store || store.merchantId !== merchant.merchantId) throw new NotFound('store');
      return store;
    },
  };
}

export type MerchantService = ReturnType<typeof merchantService>;
