/** The gateway's own records, in the domain's words. Nothing here knows HTTP or SQL. */
import type { Amount } from './amount.js';

export type MerchantStatus = 'ACTIVE' | 'SUSPENDED';
export type KybStatus = 'APPROVED' | 'PENDING' | 'REJECTED';

export interface Address {
  region: string;
  state?: string | null;
  city?: string | null;
  address1?: string | null;
  address2?: string | null;
  zipCode?: string | null;
}

export interface Merchant {
  merchantId: string;
  referenceMerchantId: string;
  merchantName: string;
  merchantMCC: string;
  merchantAddress: Address;
  settlementCurrency: string | null;
  status: MerchantStatus;
  kybStatus: KybStatus;
  perPaymentLimit: Amount | null;
  dailyPaymentCountLimit: number | null;
  acceptedCurrencies: string[] | null;
  createdAt: string;
  updatedAt: string;
}

/** A merchant's shop (Alipay+ calls it a store). */
export interface MerchantStore {
  storeId: string;
  merchantId: string;
  referenceStoreId: string;
  storeName: string;
  storeMCC: string;
  address: Address;
  entryCodeToken: string;
  createdAt: string;
}

export type Scenario = 'ORDER_CODE' | 'ENTRY_CODE' | 'PAYMENT_CODE';
export type PaymentStatus = 'PENDING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'EXPIRED';

/** One payment of any flow; for an order code it is created with the code, as PENDING. */
export interface Payment {
  paymentRequestId: string;
  merchantId: string;
  storeId: string;
  scenario: Scenario;
  /** As stored. An order code past expiresAt reads as EXPIRED: see effectiveStatus. */
  status: PaymentStatus;
  amount: Amount;
  settlementCurrency: string;
  referenceOrderId: string;
  orderDescription: string | null;
  terminalId: string | null;
  codeToken: string | null;
  expiresAt: string | null;
  paymentId: string | null;
  pspId: string | null;
  customerId: string | null;
  walletBrandName: string | null;
  paymentTime: string | null;
  settlementAmount: Amount | null;
  failureCode: string | null;
  failureMessage: string | null;
  createdAt: string;
  updatedAt: string;
}

export const FINAL_STATUSES: ReadonlySet<PaymentStatus> = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED', 'EXPIRED']);

/** Status as the outside world sees it: an unpaid order code past its expiry is EXPIRED. */
export function effectiveStatus(payment: Pick<Payment, 'scenario' | 'status' | 'expiresAt'>, now: Date): PaymentStatus {
  if (payment.scenario === 'ORDER_CODE' && payment.status === 'PENDING' && payment.expiresAt !== null && payment.expiresAt <= now.toISOString()) {
    return 'EXPIRED';
  }
  return payment.status;
}
