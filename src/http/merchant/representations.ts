/** Records → merchant API resources (openapi/merchant.yaml), and the list cursor. */
import type { Merchant, MerchantStore, Payment, PaymentStatus } from '../../domain/model.js';

export function merchantResource(m: Merchant) {
  return {
    merchantId: m.merchantId,
    referenceMerchantId: m.referenceMerchantId,
    merchantName: m.merchantName,
    merchantMCC: m.merchantMCC,
    merchantAddress: m.merchantAddress,
    settlementCurrency: m.settlementCurrency,
    status: m.status,
    kybStatus: m.kybStatus,
    perPaymentLimit: m.perPaymentLimit,
    dailyPaymentCountLimit: m.dailyPaymentCountLimit,
    acceptedCurrencies: m.acceptedCurrencies,
    createdAt: m.createdAt,
    updatedAt: m.updatedAt,
  };
}

export function storeResource(s: MerchantStore, entryCode: string) {
  return {
    storeId: s.storeId,
    merchantId: s.merchantId,
    referenceStoreId: s.referenceStoreId,
    storeName: s.storeName,
    storeMCC: s.storeMCC,
    address: s.address,
    entryCode,
    createdAt: s.createdAt,
  };
}

export function paymentResource(p: Payment, status: PaymentStatus, codeValue: string | null) {
  return {
    paymentRequestId: p.paymentRequestId,
    scenario: p.scenario,
    status,
    amount: p.amount,
    storeId: p.storeId,
    referenceOrderId: p.referenceOrderId,
    orderDescription: p.orderDescription,
    terminalId: p.terminalId,
    codeValue,
    expiresAt: p.expiresAt,
    paymentId: p.paymentId,
    pspId: p.pspId,
    customerId: p.customerId,
    walletBrandName: p.walletBrandName,
    paymentTime: p.paymentTime,
    settlementAmount: p.settlementAmount,
    failure: p.failureCode ? { resultCode: p.failureCode, resultMessage: p.failureMessage } : null,
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
  };
}

export function encodeCursor(p: Payment): string {
  return Buffer.from(JSON.stringify([p.createdAt, p.paymentRequestId])).toString('base64url');
}

export function decodeCursor(cursor: string): { createdAt: string; paymentRequestId: string } | undefined {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string') {
      return { createdAt: value[0] as string, paymentRequestId: value[1] as string };
    }
  } catch {
    // fall through: not a cursor we issued
  }
  return undefined;
}
