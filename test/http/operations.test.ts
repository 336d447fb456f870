/** Operations endpoints: health, readiness, metrics, the raw specs, and request ids. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway('sqlite');
});
afterAll(() => gw?.close());

describe('operations endpoints', () => {
  it('GET /healthz answers while the process is up', async () => {
    const answer = await gw.merchantApi('GET', '/healthz');
    expect(answer).toMatchObject({ status: 200, body: { status: 'ok' } });
  });

  it('GET /readyz answers 200 with the database reachable and migrated', async () => {
    expect((await gw.merchantApi('GET', '/readyz')).status).toBe(200);
  });

  it('GET /metrics exposes the contract metrics with their labels', async () => {
    await gw.alipayplus('userInitiatedPay', { codeValue: 'https://nowhere.example/o/x' });
    await gw.merchantApi('GET', '/v1/payments', { token: 'nope' });
    const text = (await gw.merchantApi('GET', '/metrics')).body as string;
    expect(text).toContain('acqp_alipayplus_requests_total{api="userInitiatedPay",resultCode="INVALID_CODE"} 1');
    expect(text).toMatch(/acqp_request_duration_seconds_bucket\{le="0\.005",surface="alipayplus",route="userInitiatedPay",status="200"\}/);
    expect(text).toMatch(/acqp_request_duration_seconds_count\{surface="merchant",route="unmatched",status="401"\} 1/);
    expect(text).toContain('acqp_pending_payments 0');
    expect(text).toContain('acqp_overdue_steps 0');
    expect(text).toContain('# TYPE acqp_outbound_calls_total counter');
  });

  it('serves the raw specs as application/yaml', async () => {
    const answer = await fetch(`${gw.url}/openapi/acqp.yaml`);
    expect(answer.headers.get('content-type')).toMatch(/^application\/yaml/);
    expect(await answer.text()).toMatch(/^openapi: 3\.1\.0/);
    expect((await fetch(`${gw.url}/openapi/secrets.yaml`)).status).toBe(404);
  });

  it('echoes the caller’s X-Request-Id, or gives one', async () => {
    expect((await gw.merchantApi('GET', '/healthz', { headers: { 'X-Request-Id': 'pos-42' } })).headers.get('x-request-id')).toBe('pos-42');
    expect((await gw.merchantApi('GET', '/healthz')).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('GET /readyz answers 503 when the database is gone, /healthz still 200', async () => {
    const broken = await startGateway('sqlite');
    await broken.gateway.db.knex.destroy();
    expect((await broken.merchantApi('GET', '/readyz')).status).toBe(503);
    expect((await broken.merchantApi('GET', '/healthz')).status).toBe(200);
    await broken.close().catch(() => undefined);
  });
});

describe('API reference', () => {
  it('serves the Redoc reference at /docs/ (redirected from /docs) with a page per spec', async () => {
    const redirect = await fetch(`${gw.url}/docs`, { redirect: 'manual' });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get('location')).toBe('/docs/');
    const index = await (await fetch(`${gw.url}/docs/`)).text();
    for (const name of ['acqp', 'merchant']) expect(index).toContain(`href="${name}.html"`);
    const page = await (await fetch(`${gw.url}/docs/acqp.html`)).text();
    expect(page).toContain('Redoc.init(');
    expect(page).toContain('userInitiatedPay');
    const script = await fetch(`${gw.url}/docs/redoc.standalone.js`);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
  });
});
