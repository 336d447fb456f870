/**
 * The floor: the least a signed Alipay+ endpoint must do, on bare node:http, as its own process.
 *
 * Per request: read the body, verify the RSA-2048 signature over `POST <path>\n<Client-Id>.<Request-Time>.<body>`,
 * parse the JSON, build and serialise an answer the size of a userInitiatedPay answer, sign it, send
 * it. Keys are parsed once into KeyObjects. No framework, no validation, no database: whatever the
 * gateway adds on top of this is its own cost. Started by scripts/bench.ts with its keys in the
 * environment; never used otherwise.
 */
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { createServer } from 'node:http';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const port = Number(env('FLOOR_PORT'));
const clientId = env('FLOOR_CLIENT_ID');
const peerPublicKey = createPublicKey(env('FLOOR_ALIPAYPLUS_PUBLIC_PEM'));
const privateKey = createPrivateKey(env('FLOOR_ACQP_PRIVATE_PEM'));

function contentToSign(path: string, time: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`POST ${path}\n${clientId}.${time}.`), body]);
}

function signatureOf(header: string | undefined): Buffer | null {
  const match = /(?:^|,)\s*signature=([^,]+)/.exec(header ?? '');
  return match ? Buffer.from(decodeURIComponent(match[1]!.trim()), 'base64') : null;
}

const server = createServer((req, res) => {
  if (req.method === 'GET') {
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const raw = Buffer.concat(chunks);
    const path = req.url ?? '/';
    const requestTime = String(req.headers['request-time'] ?? '');
    const signature = signatureOf(req.headers.signature as string | undefined);
    const authentic = req.headers['client-id'] === clientId && signature !== null && verify('sha256', contentToSign(path, requestTime, raw), peerPublicKey, signature);
    let request: { codeValue?: string } = {};
    try {
      request = JSON.parse(raw.toString('utf8'));
    } catch {
      // answered below as a failure
    }
    const answer = authentic
      ? {
          result: { resultCode: 'SUCCESS', resultStatus: 'S', resultMessage: 'success' },
          codeType: 'ORDER_CODE',
          paymentRequestId: 'pr_018f2c3a9b1c_4kq7t9x2m3n5p8r1w6y0',
          paymentFactor: { isInStorePayment: 'true', isCashierPayment: 'true', inStorePaymentScenario: 'OrderCode' },
          order: {
            referenceOrderId: String(request.codeValue ?? '').slice(-22),
            orderDescription: 'Matcha latte',
            orderAmount: { currency: 'JPY', value: '680' },
            merchant: {
              referenceMerchantId: 'M0001',
              merchantName: 'Tea House',
              merchantMCC: '5812',
              merchantAddress: { region: 'JP', city: 'Tokyo' },
              store: { referenceStoreId: 'GINZA-1', storeName: 'Tea House Ginza', storeMCC: '5812' },
            },
            env: { storeTerminalId: 'POS-1', storeTerminalRequestTime: requestTime },
          },
          paymentAmount: { currency: 'JPY', value: '680' },
          paymentExpiryTime: new Date(Date.now() + 120_000).toISOString(),
          settlementStrategy: { settlementCurrency: 'JPY' },
        }
      : { result: { resultCode: 'INVALID_SIGNATURE', resultStatus: 'F', resultMessage: 'The signature is invalid.' } };
    const json = JSON.stringify(answer);
    const responseTime = new Date().toISOString();
    const answerSignature = encodeURIComponent(sign('sha256', contentToSign(path, responseTime, Buffer.from(json)), privateKey).toString('base64'));
    res
      .writeHead(200, {
        'Content-Type': 'application/json; charset=UTF-8',
        'Client-Id': clientId,
        'Response-Time': responseTime,
        Signature: `algorithm=RSA256,keyVersion=1,signature=${answerSignature}`,
      })
      .end(json);
  });
});

server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
