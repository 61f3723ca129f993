/**
 * Prometheus metrics. One registry per app instance (tests build many apps in one process).
 */
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client'

export function createMetrics(options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry()
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'tessera_' })
  return {
    registry,
    httpDuration: new Histogram({
      name: 'tessera_http_request_duration_seconds',
      help: 'HTTP request duration by route and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    loginOutcomes: new Counter({
      name: 'tessera_login_total',
      help: 'Login attempts by outcome',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    tokensIssued: new Counter({
      name: 'tessera_tokens_issued_total',
      help: 'Access and refresh tokens issued, by grant',
      labelNames: ['grant'] as const,
      registers: [registry],
    }),
    refreshReuse: new Counter({
      name: 'tessera_refresh_token_reuse_total',
      help: 'Rotated refresh tokens presented again (family revoked)',
      registers: [registry],
    }),
  }
}

export type Metrics = ReturnType<typeof createMetrics>

/** Observes every response in the request-duration histogram, labelled by route pattern. */
export function installRequestMetrics(app: import('fastify').FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', async (request, reply) => {
    metrics.httpDuration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    )
  })
}
