/**
 * Prometheus metrics (GET /metrics). Names are part of the contract (DESIGN §2); docs/operations.md
 * says what each means. One registry per gateway, so tests and several gateways in one process do not mix.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  /** Alipay+ → gateway requests by API and the resultCode answered. */
  alipayplusRequests: Counter<'api' | 'resultCode'>;
  /** Latency of every request the gateway answers, by surface (alipayplus, merchant, ops) and route. */
  requestDuration: Histogram<'surface' | 'route' | 'status'>;
  /** Gateway → Alipay+ calls by API and outcome (S, F, U, or NO_RESULT: timeout, 5xx, unsigned…). */
  outboundCalls: Counter<'api' | 'outcome'>;
}

export function createMetrics(gauges: { pendingPayments: () => Promise<number>; overdueSteps: () => Promise<number> }): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'acqp_process_' });
  new Gauge({
    name: 'acqp_pending_payments',
    help: 'Payments not yet final (order codes not paid nor expired, user-presented payments in progress).',
    registers: [registry],
    async collect() {
      this.set(await gauges.pendingPayments().catch(() => -1));
    },
  });
  new Gauge({
    name: 'acqp_overdue_steps',
    help: 'Scheduled payment steps (pay, inquiry, cancel) past due and not claimed by any worker.',
    registers: [registry],
    async collect() {
      this.set(await gauges.overdueSteps().catch(() => -1));
    },
  });
  return {
    registry,
    alipayplusRequests: new Counter({ name: 'acqp_alipayplus_requests_total', help: 'Alipay+ requests answered, by API and resultCode.', labelNames: ['api', 'resultCode'], registers: [registry] }),
    requestDuration: new Histogram({
      name: 'acqp_request_duration_seconds',
      help: 'Time to answer a request, by surface, route and HTTP status.',
      labelNames: ['surface', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    outboundCalls: new Counter({ name: 'acqp_outbound_calls_total', help: 'Calls to Alipay+, by API and outcome.', labelNames: ['api', 'outcome'], registers: [registry] }),
  };
}
