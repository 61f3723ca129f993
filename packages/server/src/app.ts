/**
 * The composition root and the route table: builds infrastructure once, creates each service,
 * and registers each feature with the services it needs. Tests call the same function.
 */
import { randomUUID } from 'node:crypto'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import { emailRoutes } from './accounts/email-routes.ts'
import { createEmailVerification } from './accounts/email-verification.ts'
import { accountRoutes } from './accounts/routes.ts'
import { createAccountService } from './accounts/service.ts'
import { adminRoutes } from './admin/routes.ts'
import { type AdminService, createAdminService } from './admin/service.ts'
import { apiResourceRoutes } from './api-resources/routes.ts'
import { createApiResourceService } from './api-resources/service.ts'
import { createAuditLog } from './audit/service.ts'
import { clientRoutes } from './clients/routes.ts'
import { type ClientService, createClientService } from './clients/service.ts'
import { type Clock, systemClock } from './core/clock.ts'
import type { Config } from './core/config.ts'
import { createCodeHasher, createSecretBox } from './core/crypto.ts'
import { type Database, migrate, openDatabase, sqliteFileIn } from './core/db.ts'
import { installErrorHandling } from './core/errors.ts'
import { BODY_LIMIT_BYTES, closeGracefully, installEdge } from './core/http.ts'
import { createMemoryKv, createRedisKv, type Kv } from './core/kv.ts'
import { lazySchemaCompilers } from './core/lazy-schemas.ts'
import { createMailer, type Mailer, type MailLogger } from './core/mailer.ts'
import { createMetrics, installRequestMetrics } from './core/metrics.ts'
import { installOpenApi } from './core/openapi.ts'
import { createLimiterFactory } from './core/rate-limit.ts'
import { healthRoutes } from './health/routes.ts'
import { createNotifier } from './mail/service.ts'
import { createBackupCodes } from './mfa/backup-codes.ts'
import { createMfaNotifications } from './mfa/notifications.ts'
import { passkeyRoutes } from './mfa/passkey-routes.ts'
import { createPasskeyService } from './mfa/passkeys.ts'
import { mfaRoutes } from './mfa/routes.ts'
import { createMfaService } from './mfa/service.ts'
import { createSmsService } from './mfa/sms.ts'
import { createTwilioSmsProvider } from './mfa/sms-provider.ts'
import { smsRoutes } from './mfa/sms-routes.ts'
import { createOidc, installOidc } from './oidc/install.ts'
import { listAccountGrants } from './oidc/models-store.ts'
import { pageAssetRoutes } from './pages/assets/routes.ts'
import { createBrand } from './pages/brand.ts'
import { forgotPasswordPageRoutes } from './pages/forgot-password/routes.ts'
import { passkeyPageRoutes } from './pages/passkeys/routes.ts'
import { installPageViews } from './pages/render.ts'
import { resetPasswordPageRoutes } from './pages/reset-password/routes.ts'
import { verifyEmailPageRoutes } from './pages/verify-email/routes.ts'
import { createPasswordChecker } from './passwords/checker.ts'
import { createPasswordHasher, OWASP_ARGON2ID, type PasswordHasher } from './passwords/hasher.ts'
import { createLockout } from './passwords/lockout.ts'
import { passwordRoutes } from './passwords/routes.ts'
import { createPasswordService } from './passwords/service.ts'
import { privacyRoutes } from './privacy/routes.ts'
import { createPrivacyService } from './privacy/service.ts'
import { createSessionLiveness } from './sessions/liveness.ts'
import { createRequireAdmin } from './sessions/require-admin.ts'
import { createRequireRecentAuth } from './sessions/require-recent-auth.ts'
import { createRequireUser } from './sessions/require-user.ts'
import { sessionRoutes } from './sessions/routes.ts'
import { createSessionService } from './sessions/service.ts'
import { createAccessTokens } from './tokens/access-tokens.ts'
import { createKeyRing } from './tokens/keys.ts'

export const VERSION = '0.1.0'

export interface AppOverrides {
  clock?: Clock
  hasher?: PasswordHasher
  database?: Database
  kv?: Kv
  /** Namespace for Redis keys (tests isolate runs with it). */
  kvPrefix?: string
  logger?: boolean
  /** Where the JSON log goes instead of stdout (tests read it). */
  logStream?: NodeJS.WritableStream
  defaultMetrics?: boolean
  /** Replaces the SMTP / outbox mailer (tests: other retry delays, a capturing logger). */
  mailer?: Mailer
}

export interface Tessera {
  app: FastifyInstance
  database: Database
  kv: Kv
  /** `await mailer.idle()` waits for every queued mail and deferred mail task. */
  mailer: Mailer
  /** The client registry the admin API uses, metadata checked by the provider (for the CLI). */
  clients: ClientService
  /** User administration as the admin API does it (for the CLI). */
  admin: AdminService
  close(): Promise<void>
}

export async function buildApp(config: Config, overrides: AppOverrides = {}): Promise<Tessera> {
  const database =
    overrides.database ??
    openDatabase({ databaseUrl: config.databaseUrl, sqliteFile: sqliteFileIn(config.dataDir) })
  const kv =
    overrides.kv ?? (config.redisUrl ? createRedisKv(config.redisUrl, overrides.kvPrefix) : createMemoryKv())
  try {
    await migrate(database.db)
    return await assemble(config, overrides, database, kv)
  } catch (err) {
    // A start that fails (schema too new, wrong master key) must not leave its pools open.
    await Promise.allSettled([overrides.kv ? null : kv.close(), overrides.database ? null : database.close()])
    throw err
  }
}

async function assemble(
  config: Config,
  overrides: AppOverrides,
  database: Database,
  kv: Kv,
): Promise<Tessera> {
  const clock = overrides.clock ?? systemClock
  const { db } = database

  // Infrastructure
  const metrics = createMetrics({ defaultMetrics: overrides.defaultMetrics ?? true })
  const box = createSecretBox(config.masterKey)
  const limiters = createLimiterFactory(kv, overrides.kvPrefix ? `tessera:${overrides.kvPrefix}` : 'tessera')
  const hasher = overrides.hasher ?? createPasswordHasher(OWASP_ARGON2ID, config.passwordHashConcurrency)
  const audit = createAuditLog({ db, clock })
  // Mail is sent only while serving requests, by when Fastify's logger (created below) exists.
  const mailLog: MailLogger = {
    info: (obj, msg) => app.log.info(obj, msg),
    warn: (obj, msg) => app.log.warn(obj, msg),
    error: (obj, msg) => app.log.error(obj, msg),
  }
  const mailer = overrides.mailer ?? createMailer(config, mailLog)
  const notifier = createNotifier({ mailer, publicUrl: config.publicUrl, productName: config.productName })
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
  const backupCodes = createBackupCodes({
    db,
    clock,
    hashCode: createCodeHasher(config.masterKey, 'backup-codes'),
  })
  const mfaNotifications = createMfaNotifications({ accounts, notifier })
  // SMS codes only when Twilio is fully configured; the verifier and the routes answer
  // `sms_not_configured` otherwise.
  const smsProvider =
    config.twilioAccountSid && config.twilioAuthToken && config.twilioFrom
      ? createTwilioSmsProvider({
          accountSid: config.twilioAccountSid,
          authToken: config.twilioAuthToken,
          from: config.twilioFrom,
          baseUrl: config.twilioBaseUrl,
        })
      : undefined
  const sms = createSmsService({
    db,
    clock,
    box,
    hashCode: createCodeHasher(config.masterKey, 'sms-codes'),
    audit,
    limiters,
    provider: smsProvider,
    sendsPerIpPerHour: config.smsSendsPerIpPerHour,
    productName: config.productName,
    publicUrl: config.publicUrl,
    backupCodes,
    notify: mfaNotifications,
  })
  const passkeys = createPasskeyService({
    db,
    clock,
    audit,
    limiters,
    rpId: config.webauthnRpId,
    origins: config.webauthnOrigins,
    rpName: config.productName,
    authRateLimitPerMinute: config.authRateLimitPerMinute,
    backupCodes,
    notify: mfaNotifications,
  })
  const mfa = createMfaService({
    db,
    clock,
    box,
    backupCodes,
    audit,
    limiters,
    issuer: config.productName,
    notify: mfaNotifications,
    verifiers: { sms: sms.verifySecondFactor, passkey: passkeys.verifySecondFactor },
    hasMethod: { sms: sms.hasActiveSms, passkey: passkeys.hasPasskey },
  })
  const checker = createPasswordChecker({
    hasher,
    audit,
    lockout: createLockout(limiters, {
      maxFailures: config.loginMaxFailures,
      lockSeconds: config.lockoutSeconds,
      maxLockSeconds: config.lockoutMaxSeconds,
    }),
  })
  const emailVerification = createEmailVerification({
    db,
    clock,
    accounts,
    checker,
    audit,
    notifier,
    mailer,
    limiters,
    requireVerifiedEmail: config.requireVerifiedEmail,
    ipRateLimitPerMinute: config.authRateLimitPerMinute,
  })
  const sessions = createSessionService({
    db,
    dialect: database.dialect,
    clock,
    accounts,
    hasher,
    accessTokens,
    audit,
    liveness,
    metrics,
    limiters,
    mfa,
    emailVerification,
    passwords: checker,
    refreshIdleTtl: config.refreshTokenIdleTtl,
    sessionMaxTtl: config.sessionMaxTtl,
    authRateLimitPerMinute: config.authRateLimitPerMinute,
  })
  const passwords = createPasswordService({
    db,
    clock,
    accounts,
    sessions,
    hasher,
    checker,
    audit,
    notifier,
    mailer,
    limiters,
    ipRateLimitPerMinute: config.authRateLimitPerMinute,
  })
  const privacy = createPrivacyService({
    db,
    clock,
    accounts,
    sessions,
    mfa,
    passkeys,
    audit,
    listGrants: (accountId) => listAccountGrants(db, accountId, clock.now()),
  })
  const admin = createAdminService({ db, accounts, sessions, mfa, audit, privacy })
  const oidcDeps = { config, db, clock, box, keys, accounts, sessions, passkeys, mfa, sms }
  const oidc = createOidc(oidcDeps, () => app)
  const clients = createClientService({
    db,
    box,
    clock,
    audit,
    // Whatever the provider would refuse to load is refused at registration.
    validateMetadata: async (metadata) => {
      await (await oidc.load()).current().Client.validate(metadata as never)
    },
  })
  const apiResources = createApiResourceService({
    db,
    clock,
    audit,
    apiAudience: config.apiAudience,
    allowLoopbackHttp: !config.production,
  })
  const requireUser = createRequireUser({ accessTokens, liveness })
  const requireAdmin = createRequireAdmin({ requireUser })
  const requireRecentAuth = createRequireRecentAuth({ requireUser, sessions })

  // HTTP
  const app = Fastify({
    logger:
      overrides.logger === false
        ? false
        : {
            level: config.logLevel,
            redact: ['req.headers.authorization', 'req.headers.cookie'],
            serializers: {
              // Never the query string: mailed one-time tokens travel in it (`/reset-password?token=…`).
              // Fastify passes its own request here, whatever the types say.
              req: (raw) => {
                const req = raw as unknown as FastifyRequest
                return { method: req.method, path: req.url.split('?', 1)[0], remoteAddress: req.ip }
              },
            },
            ...(overrides.logStream ? { stream: overrides.logStream } : {}),
          },
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: config.trustProxy as boolean | string, // a hop count is valid too
    genReqId: () => randomUUID(),
    forceCloseConnections: 'idle',
    // Unknown fields are rejected, never silently dropped; types are never coerced.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: true } },
    schemaController: lazySchemaCompilers,
  }).withTypeProvider<TypeBoxTypeProvider>()
  app.decorateRequest('auth', null)
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id)
  })
  installErrorHandling(app)
  installRequestMetrics(app, metrics)
  await installEdge(app, { corsOrigins: config.corsOrigins, https: config.publicUrl.startsWith('https://') })
  await installOpenApi(app, { publicUrl: config.publicUrl, version: VERSION })
  const brand = createBrand(config)
  await installPageViews(app, brand) // @fastify/view + Eta for every page plugin

  // Routes
  await app.register(healthRoutes, { db, kv, metrics, metricsToken: config.metricsToken })
  await app.register(sessionRoutes, { sessions, requireUser })
  await app.register(accountRoutes, { accounts, requireUser })
  await app.register(privacyRoutes, { privacy, requireRecentAuth })
  await app.register(emailRoutes, { emailVerification, requireUser })
  await app.register(passwordRoutes, { passwords, requireUser })
  await app.register(mfaRoutes, { mfa, accounts, requireUser, requireRecentAuth })
  await app.register(smsRoutes, { sms, mfa, requireUser, requireRecentAuth })
  await app.register(passkeyRoutes, { passkeys, mfa, accounts, sessions, requireUser, requireRecentAuth })
  await app.register(pageAssetRoutes, { brand })
  await app.register(passkeyPageRoutes)
  const pages = { publicUrl: config.publicUrl }
  await app.register(verifyEmailPageRoutes, { emailVerification, ...pages })
  await app.register(resetPasswordPageRoutes, { passwords, ...pages })
  await app.register(forgotPasswordPageRoutes, { passwords, ...pages })
  await app.register(adminRoutes, { admin, requireAdmin })
  await app.register(clientRoutes, { clients, requireAdmin })
  await app.register(apiResourceRoutes, { apiResources, requireAdmin })
  await installOidc(app, oidc, oidcDeps)

  app.addHook('onClose', async () => {
    await mailer.close() // first: deferred mail tasks still use the database
    keys.stop()
    await kv.close()
    await database.close()
  })
  await app.ready()
  return { app, database, kv, mailer, clients, admin, close: () => closeGracefully(app) }
}
