/**
 * The one table of Alipay+ result codes the gateway emits: status (S/F/U) and the documented message
 * (seeds 000 and 002), plus how the merchant API reports the same refusal. Domain code throws
 * `PaymentRefused(code)`; the Alipay+ pipeline turns it into a `result` envelope and the merchant API
 * into problem+json, both from this table.
 */
export const RESULT_CODES = {
  SUCCESS: { status: 'S', message: 'success' },
  ACCESS_DENIED: { status: 'F', message: 'Access is denied.' },
  BUSINESS_NOT_SUPPORT: { status: 'F', message: 'The payment business is not supported.' },
  CURRENCY_NOT_SUPPORT: { status: 'F', message: 'The currency is not supported.' },
  EXPIRED_CODE: { status: 'F', message: 'The code is expired.' },
  INVALID_CLIENT: { status: 'F', message: 'The client is invalid.' },
  INVALID_CODE: { status: 'F', message: 'The code is invalid.' },
  INVALID_CONTRACT: { status: 'F', message: 'The contract is invalid.' },
  INVALID_MERCHANT_STATUS: { status: 'F', message: 'The merchant status is abnormal due to restrictions.' },
  INVALID_SIGNATURE: { status: 'F', message: 'The signature is invalid.' },
  KEY_NOT_FOUND: { status: 'F', message: 'The key is not found.' },
  MEDIA_TYPE_NOT_ACCEPTABLE: { status: 'F', message: 'The server does not implement the media type that is acceptable to the client.' },
  MERCHANT_KYB_NOT_QUALIFIED: { status: 'F', message: "The merchant's KYB failed or KYB level is not high enough." },
  MERCHANT_NOT_REGISTERED: { status: 'F', message: 'The merchant is not registered.' },
  METHOD_NOT_SUPPORTED: { status: 'F', message: 'The server does not implement the requested HTTPS method.' },
  NO_INTERFACE_DEF: { status: 'F', message: 'API is not defined.' },
  ORDER_IS_CLOSED: { status: 'F', message: 'The order is closed.' },
  ORDER_NOT_EXIST: { status: 'F', message: 'The order does not exist.' },
  PARAM_ILLEGAL: { status: 'F', message: 'Illegal parameters.' },
  PAYMENT_AMOUNT_EXCEED_LIMIT: { status: 'F', message: 'The payment amount exceeds the limit that is specified by the ACQP.' },
  PAYMENT_AMOUNT_INVALID: { status: 'F', message: 'Payment amount is invalid.' },
  PAYMENT_COUNT_EXCEED_LIMIT: { status: 'F', message: 'The number of payments exceeds the limit.' },
  PROCESS_FAIL: { status: 'F', message: 'A general business failure occurred. Do not retry.' },
  REPEAT_REQ_INCONSISTENT: { status: 'F', message: 'Repeated requests are inconsistent.' },
  RISK_REJECT: { status: 'F', message: 'The request is rejected because of the risk control.' },
  PAYMENT_IN_PROCESS: { status: 'U', message: 'The payment is being processed.' },
  REQUEST_TRAFFIC_EXCEED_LIMIT: { status: 'U', message: 'The request traffic exceeds the limit.' },
  UNKNOWN_EXCEPTION: { status: 'U', message: 'An API call failed, which is caused by unknown reasons.' },
} as const satisfies Record<string, { status: 'S' | 'F' | 'U'; message: string }>;

export type ResultCode = keyof typeof RESULT_CODES;
export type ResultStatus = 'S' | 'F' | 'U';

export interface Result {
  resultCode: string;
  resultStatus: ResultStatus;
  resultMessage?: string;
}

export function result(code: ResultCode, message?: string): Result {
  const entry = RESULT_CODES[code];
  return { resultCode: code, resultStatus: entry.status, resultMessage: message ?? entry.message };
}

/** A business rule refused the request. `message` names the rule (it reaches resultMessage / detail). */
export class PaymentRefused extends Error {
  constructor(
    readonly code: ResultCode,
    message?: string,
  ) {
    super(message ?? RESULT_CODES[code].message);
    this.name = 'PaymentRefused';
  }
}

/** How the merchant API reports a business refusal: HTTP status and problem type. */
export function merchantProblemFor(code: ResultCode): { status: number; type: string; title: string } {
  switch (code) {
    case 'INVALID_MERCHANT_STATUS':
    case 'MERCHANT_KYB_NOT_QUALIFIED':
      return { status: 403, type: '/problems/merchant-not-eligible', title: 'Merchant not eligible' };
    case 'ORDER_NOT_EXIST':
      return { status: 404, type: '/problems/not-found', title: 'Not found' };
    case 'ORDER_IS_CLOSED':
    case 'REPEAT_REQ_INCONSISTENT':
      return { status: 409, type: '/problems/conflict', title: 'Conflict' };
    case 'UNKNOWN_EXCEPTION':
      return { status: 503, type: '/problems/unavailable', title: 'Service unavailable' };
    default:
      return { status: 422, type: '/problems/payment-refused', title: 'Payment refused' };
  }
}
