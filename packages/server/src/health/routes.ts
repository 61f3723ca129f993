import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Kysely } from 'kysely'
import { Type } from 'typebox'
import { constantTimeEqual } from '../core/crypto.ts'
import { pingDatabase } from '../core/db.ts'
import type { DB } from '../core/db-schema.ts'
import { commonErrors } from '../core/errors.ts'
import type { Kv } from '../core/kv.ts'
import type { Metrics } from '../core/metrics.ts'

const Check = Type.Object({ ok: Type.Boolean(), error: Type.Optional(Type.String()) })
const Readiness = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('unavailable')]),
  checks: Type.Record(Type.String(), Check),
})

const CHECK_TIMEOUT_MS = 2000

async function check(probe: () => Promise<unknown>): Promise<{ ok: boolean; error?: string }> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), CHECK_TIMEOUT_MS)
  })
  try {
    await Promise.race([probe(), timeout])
    return { ok: true }
  } catch (err) {
    const e = err as { code?: string; message?: string }
    return { ok: false, error: e.code ?? e.message ?? 'unreachable' }
  } finally {
    clearTimeout(timer)
  }
}

export interface HealthDeps {
  db: Kysely<DB>
  kv: Kv
  metrics: Metrics
  /** When set, /metrics answers only `Authorization: Bearer <metricsToken>`. */
  metricsToken?: string | undefined
}

export const healthRoutes: FastifyPluginAsyncTypebox<HealthDeps> = async (
  app,
  { db, kv, metrics, metricsToken },
) => {
  const expected = metricsToken ? `Bearer ${metricsToken}` : undefined

  app.get(
    '/healthz',
    {
      schema: {
        tags: ['operations'],
        summary: 'Liveness',
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  )

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['operations'],
        summary: 'Readiness: the database (and Redis when configured) answer',
        response: { 200: Readiness, 503: Readiness },
      },
    },
    async (_req, reply) => {
      const checks: Record<string, { ok: boolean; error?: string }> = {
        database: await check(() => pingDatabase(db)),
      }
      if (kv.redis) checks.redis = await check(() => kv.ping())
      const ready = Object.values(checks).every((c) => c.ok)
      return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', checks })
    },
  )

  app.get(
    '/metrics',
    { schema: { tags: ['operations'], summary: 'Prometheus metrics', hide: true } },
    async (req, reply) => {
      if (expected && !constantTimeEqual(req.headers.authorization ?? '', expected))
        throw commonErrors.unauthorized('the metrics token is required')
      return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics())
    },
  )
}
