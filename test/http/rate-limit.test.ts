/** Rate limiting per client: Alipay+ gets a signed U/REQUEST_TRAFFIC_EXCEED_LIMIT, a merchant 429. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rateLimiter } from '../../src/http/rate-limit.js';
import { startGateway, type TestGateway } from '../support/gateway.js';

describe('rateLimiter', () => {
  it('allows a burst of twice the rate, then the rate', () => {
    let t = 0;
    const limiter = rateLimiter(5, () => t);
    expect(Array.from({ length: 12 }, () => limiter.take('a')).filter(Boolean)).toHaveLength(10);
    expect(limiter.take('b')).toBe(true);
    t = 1000;
    expect(Array.from({ length: 6 }, () => limiter.take('a')).filter(Boolean)).toHaveLength(5);
  });

  it('is off at rate 0', () => {
    const limiter = rateLimiter(0);
    expect(Array.from({ length: 1000 }, () => limiter.take('a')).every(Boolean)).toBe(true);
  });
});

describe('rate limits through the app', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway('sqlite', { RATE_LIMIT_ALIPAYPLUS_PER_SECOND: '2', RATE_LIMIT_MERCHANT_PER_SECOND: '2' });
  });
  afterAll(() => gw?.close());

  it('answers Alipay+ over its rate with a signed U/REQUEST_TRAFFIC_EXCEED_LIMIT', async () => {
    const answers = await Promise.all(Array.from({ length: 8 }, () => gw.alipayplus('userInitiatedPay', { codeValue: 'https://x.example/o/y' })));
    const limited = answers.filter((a) => a.body.result.resultCode === 'REQUEST_TRAFFIC_EXCEED_LIMIT');
    expect(limited.length).toBeGreaterThanOrEqual(4);
    expect(limited.every((a) => a.body.result.resultStatus === 'U' && a.signatureValid)).toBe(true);
  });

  it('answers a merchant over its rate with 429 problem+json and Retry-After', async () => {
    const answers = await Promise.all(Array.from({ length: 8 }, () => gw.merchantApi('GET', '/v1/merchants/mch_x', { token: 'test_admin_token_0123456789abcdefghijklmnop' })));
    const limited = answers.filter((a) => a.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(4);
    expect(limited[0]!.headers.get('retry-after')).toBe('1');
    expect(limited[0]!.body.type).toBe('/problems/too-many-requests');
  });
});
