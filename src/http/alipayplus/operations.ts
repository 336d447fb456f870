/** The Alipay+ → gateway APIs of openapi/acqp.yaml, each a line from path to domain service. */
import type { InquiryPushPaymentRequest, PlaceOrderRequest, PushPaymentService } from '../../domain/push-payments.js';
import { result } from '../../domain/result-codes.js';
import type { UserPresentedService } from '../../domain/user-presented-payments.js';
import type { AlipayplusOperation } from './pipeline.js';

const PREFIX = '/aps/api/v1/payments/';

export function acqpOperations(push: PushPaymentService, userPresented: UserPresentedService): Record<string, AlipayplusOperation> {
  const operations: AlipayplusOperation[] = [
    { api: 'userInitiatedPay', handle: (body) => push.decode((body as { codeValue: string }).codeValue) },
    { api: 'placeOrder', handle: (body, decided) => push.placeOrder(body as PlaceOrderRequest, decided) },
    { api: 'inquiryPushPayment', handle: (body) => push.inquire(body as InquiryPushPaymentRequest) },
    // Acknowledged S once authentic and stored, whatever it says about the payment (reference §3.4).
    { api: 'notifyPayment', handle: async (body) => (await userPresented.notify(body as Record<string, any>), { result: result('SUCCESS') }) },
  ];
  return Object.fromEntries(operations.map((op) => [`${PREFIX}${op.api}`, op]));
}
