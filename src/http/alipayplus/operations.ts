/** The Alipay+ → gateway APIs of openapi/acqp.yaml, each a line from path to domain service. */
import type { PushPaymentService, InquiryPushPaymentRequest, PlaceOrderRequest } from '../../domain/push-payments.js';
import type { AlipayplusOperation } from './pipeline.js';

const PREFIX = '/aps/api/v1/payments/';

export function acqpOperations(push: PushPaymentService): Record<string, AlipayplusOperation> {
  const operations: AlipayplusOperation[] = [
    { api: 'userInitiatedPay', handle: (body) => push.decode((body as { codeValue: string }).codeValue) },
    { api: 'placeOrder', handle: (body) => push.placeOrder(body as PlaceOrderRequest) },
    { api: 'inquiryPushPayment', handle: (body) => push.inquire(body as InquiryPushPaymentRequest) },
  ];
  return Object.fromEntries(operations.map((op) => [`${PREFIX}${op.api}`, op]));
}
