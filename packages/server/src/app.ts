/**
 * The composition root and the route table: builds infrastructure once, creates each service,
 * and registers each feature with the services it needs. Tests call the same function.
 */
import { randomUUID } from 'node:crypto'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyInstance } from 'fastify'
import { accountRoutes } from './accounts/routes.ts'
import { createAccountService } from './accounts/service.ts'
import { createAuditLog } from './audit/service.ts'
import { type Clock, systemClock } from './core/clock.ts'
import type { Config } from './core/config.ts'
import { createSecretBox } from './core/crypto.ts'
import { type Database, migrate, openDatabase, sqliteFileIn } from './core/db.ts'
import { installErrorHandling } from './core/errors.ts'
import { BODY_LIMIT_BYTES, installEdge } from './core/http.ts'
import { createMemoryKv, createRedisKv, type Kv } from './core/kv.ts'
import { createMetrics, installRequestMetrics } from './core/metrics.ts'
import { installOpenApi } from './core/openapi.ts'
import { createLimiterFactory } from './core/rate-limit.ts'
import { healthRoutes } from './health/routes.ts'
import { createPasswordHasher, type PasswordHasher } from './passwords/hasher.ts'
import { passwordRoutes } from './passwords/routes.ts'
import { createPasswordService } from './passwords/service.ts'
import { createSessionLiveness } from './sessions/liveness.ts'
import { createLockout } from './sessions/lockout.ts'
import { createRequireUser } from './sessions/require-user.ts'
import { sessionRoutes } from './sessions/routes.ts'
import { createSessionService } from './sessions/service.ts'
import { createAccessTokens } from './tokens/access-tokens.ts'
import { createKeyRing } from './tokens/keys.ts'
import { discoveryRoutes } from './tokens/routes.ts'

export const VERSION = '0.1.0'

export interface AppOverrides {
  clock?: Clock
  hasher?: PasswordHasher
  database?: Database
  kv?: Kv
  /** Namespace for Redis keys (tests isolate runs with it). */
  kvPrefix?: string
  logger?: boolean
  defaultMetrics?: boolean
}

export interface Tessera {
  app: FastifyInstance
  database: Database
  kv: Kv
  close(): Promise<void>
}

export async function buildApp(config: Config, overrides: AppOverrides = {}): Promise<Tessera> {
  const clock = overrides.clock ?? systemClock
  const database =
    overrides.database ??
    openDatabase({ databaseUrl: config.databaseUrl, sqliteFile: sqliteFileIn(config.dataDir) })
  await migrate(database.db)
  const kv =
    overrides.kv ?? (config.redisUrl ? createRedisKv(config.redisUrl, overrides.kvPrefix) : createMemoryKv())
  const { db } = database

  // Infrastructure
  const metrics = createMetrics({ defaultMetrics: overrides.defaultMetrics ?? true })
  const box = createSecretBox(config.masterKey)
  const limiters = createLimiterFactory(kv, overrides.kvPrefix ? `tessera:${overrides.kvPrefix}` : 'tessera')
  const hasher = overrides.hasher ?? createPasswordHasher()
  const audit = createAuditLog({ db, clock })
  const keys = createKeyRing({
    db,
    box,
    clock,
    alg: config.signingAlg,
    accessTokenTtl: config.accessTokenTtl,
    keyReloadInterval: config.keyReloadInterval,
  })
  await keys.start()
  const accessTokens = createAccessTokens({
    keys,
    clock,
    issuer: config.publicUrl,
    audience: config.apiAudience,
    ttlSeconds: config.accessTokenTtl,
  })
  const liveness = createSessionLiveness({ db, kv, clock, ttlSeconds: config.sessionCacheTtl })
  await liveness.start()

  // Services
  const accounts = createAccountService({ db, clock })
  const sessions = createSessionService({
    db,
    clock,
    accounts,
    hasher,
    accessTokens,
    audit,
    liveness,
    metrics,
    limiters,
    lockout: createLockout(limiters, {
      maxFailures: config.loginMaxFailures,
      lockSeconds: config.lockoutSeconds,
      maxLockSeconds: config.lockoutMaxSeconds,
    }),
    refreshIdleTtl: config.refreshTokenIdleTtl,
    sessionMaxTtl: config.sessionMaxTtl,
    authRateLimitPerMinute: config.authRateLimitPerMinute,
  })
  const passwords = createPasswordService({ db, accounts, sessions, hasher, audit })
  const requireUser = createRequireUser({ accessTokens, liveness })

  // HTTP
  const app = Fastify({
    logger:
      overrides.logger === false
        ? false
        : { level: config.logLevel, redact: ['req.headers.authorization', 'req.headers.cookie'] },
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: config.trustProxy as boolean | string, // a hop count is valid too
    genReqId: () => randomUUID(),
    forceCloseConnections: 'idle',
    // Unknown fields are rejected, never silently dropped; types are never coerced.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: true } },
  }).withTypeProvider<TypeBoxTypeProvider>()
  app.decorateRequest('auth', null)
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id)
  })
  installErrorHandling(app)
  installRequestMetrics(app, metrics)
  await installEdge(app, { corsOrigins: config.corsOrigins, https: config.publicUrl.startsWith('https://') })
  await installOpenApi(app, { publicUrl: config.publicUrl, version: VERSION })

  // Routes
  await app.register(healthRoutes, { db, kv, metrics })
  await app.register(discoveryRoutes, { keys, issuer: config.publicUrl })
  await app.register(sessionRoutes, { sessions, requireUser })
  await app.register(accountRoutes, { accounts, requireUser })
  await app.register(passwordRoutes, { passwords, requireUser })

  app.addHook('onClose', async () => {
    keys.stop()
    await kv.close()
    await database.close()
  })
  await app.ready()
  return { app, database, kv, close: () => app.close() }
}
