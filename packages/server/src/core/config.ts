/**
 * Configuration: one TypeBox schema, read from an optional JSON file (TESSERA_CONFIG) and the
 * environment (which wins). Every problem is listed before startup fails.
 */

import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { type Static, type TSchema, Type } from 'typebox'
import { Value } from 'typebox/value'
import { isLoopback } from './urls.ts'

const Seconds = (description: string, defaultValue: number) =>
  Type.Integer({ minimum: 1, default: defaultValue, description })

/** An https:// URL (a host, then no spaces or quotes) or a path on this server (not `//host`). */
const LOGO_URL_PATTERN = String.raw`^(?:https://[A-Za-z0-9.-]+(?::[0-9]+)?(?:[/?#][^\s"'<>\\]*)?|/(?![/\\])[^\s"'<>\\]*)$`

export const ConfigSchema = Type.Object(
  {
    /** TCP port the server listens on. */
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 3000, description: 'TCP port' }),
    /** Interface to bind; 0.0.0.0 to accept connections from other hosts. */
    host: Type.String({ default: '127.0.0.1', description: 'interface to bind' }),
    /** Public base URL: the token issuer and the base of every link Tessera builds. */
    publicUrl: Type.String({ format: 'uri', description: 'public base URL (token issuer)' }),
    /** Product name shown to users (authenticator apps, mail, pages). */
    productName: Type.String({ default: 'Tessera', minLength: 1, maxLength: 60 }),
    /** Logo at the top of every page (alt text: productName): an https:// URL or a path here. */
    logoUrl: Type.Optional(
      Type.String({
        pattern: LOGO_URL_PATTERN,
        errorMessage: 'must be an https:// URL or a path on this server such as /assets/tessera-logo.svg',
        description: 'logo shown on the pages',
      }),
    ),
    /** Accent color of the pages: buttons, links, focus rings. */
    accentColor: Type.String({
      pattern: '^#(?:[0-9a-fA-F]{3}){1,2}$',
      default: '#1d4ed8',
      errorMessage: 'must be a color written #rgb or #rrggbb',
      description: 'page accent color',
    }),
    /** Directory for the embedded database, development master key and outbox. */
    dataDir: Type.String({ default: './data', description: 'data directory' }),
    /** postgres://… to use PostgreSQL; unset means SQLite in dataDir. */
    databaseUrl: Type.Optional(Type.String({ description: 'PostgreSQL URL' })),
    /** redis://… for shared rate limits and revocation fan-out across instances. */
    redisUrl: Type.Optional(Type.String({ description: 'Redis URL' })),
    /** 32 bytes, base64url: encrypts signing keys and other secrets at rest. */
    masterKey: Type.Optional(Type.String({ description: 'master key (base64url, 32 bytes)' })),
    /** Browser origins allowed by CORS. */
    corsOrigins: Type.Array(Type.String(), { default: [], description: 'CORS allowlist' }),
    /** Audience of first-party access tokens; defaults to `<publicUrl>/v1`. */
    apiAudience: Type.Optional(Type.String({ description: 'first-party token audience' })),
    /** JWS algorithm for new signing keys. */
    signingAlg: Type.Union([Type.Literal('EdDSA'), Type.Literal('ES256'), Type.Literal('RS256')], {
      default: 'EdDSA',
    }),
    accessTokenTtl: Seconds('access token lifetime', 900),
    refreshTokenIdleTtl: Seconds('refresh token idle lifetime', 14 * 24 * 3600),
    sessionMaxTtl: Seconds('absolute session lifetime', 30 * 24 * 3600),
    /** How long a live-session check may be answered from memory (revocations purge it at once). */
    sessionCacheTtl: Seconds('session liveness cache', 30),
    /** How often a running server re-reads signing keys (picks up `tessera keys rotate`). */
    keyReloadInterval: Seconds('signing key reload interval', 60),
    /** Requests per minute per IP on register, login and refresh. */
    authRateLimitPerMinute: Type.Integer({ minimum: 1, default: 60 }),
    /** argon2id hashes computed at once (19 MiB each); unset: one per core, at most libuv's threads − 1. */
    passwordHashConcurrency: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 1024, description: 'password hashes computed at once' }),
    ),
    /** Wrong passwords for one account before it is locked. */
    loginMaxFailures: Type.Integer({ minimum: 1, default: 5 }),
    /** First lock duration; each further lock within a day doubles it. */
    lockoutSeconds: Seconds('first lockout duration', 60),
    lockoutMaxSeconds: Seconds('longest lockout', 3600),
    /** Trust X-Forwarded-* from a proxy in front (true, hop count, or an address list). */
    trustProxy: Type.Union([Type.Boolean(), Type.Integer({ minimum: 1 }), Type.String()], { default: false }),
    logLevel: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
      { default: 'info' },
    ),
    production: Type.Boolean({ default: false }),
    /** smtp://user:pass@host:587 or smtps://…:465; unset means mail is written to `<dataDir>/outbox/`. */
    smtpUrl: Type.Optional(
      Type.String({ pattern: '^smtps?://[^\\s]+$', description: 'SMTP URL (smtp:// or smtps://)' }),
    ),
    /** Sender of every mail Tessera sends. */
    mailFrom: Type.String({ default: 'Tessera <no-reply@localhost>', description: 'mail sender' }),
    /** Refuse sign-in (403 email_not_verified) until the account's email address is verified. */
    requireVerifiedEmail: Type.Boolean({
      default: false,
      description: 'require a verified email to sign in',
    }),
    /** WebAuthn relying party id (a domain); defaults to the hostname of publicUrl. */
    webauthnRpId: Type.Optional(Type.String({ minLength: 1, description: 'WebAuthn RP ID' })),
    /** Origins passkey ceremonies may come from; defaults to the origin of publicUrl. */
    webauthnOrigins: Type.Array(Type.String(), { default: [], description: 'WebAuthn allowed origins' }),
    /** The bearer token Prometheus must send for /metrics (a secret: redacted in logs). */
    metricsToken: Type.Optional(
      Type.String({ minLength: 16, maxLength: 256, description: 'bearer token for /metrics' }),
    ),
    /** Twilio Account SID (AC…); SMS codes are on only when the SID, token and sender are all set. */
    twilioAccountSid: Type.Optional(Type.String({ minLength: 1, description: 'Twilio Account SID' })),
    /** Twilio Auth Token (a secret: redacted in logs). */
    twilioAuthToken: Type.Optional(Type.String({ minLength: 1, description: 'Twilio Auth Token' })),
    /** Sender of SMS codes: an E.164 number, or a Messaging Service SID (MG…). */
    twilioFrom: Type.Optional(
      Type.String({ minLength: 1, description: 'SMS sender or Messaging Service SID' }),
    ),
    /** Base URL of Twilio's REST API (a regional edge, or a test double). */
    twilioBaseUrl: Type.String({
      format: 'uri',
      default: 'https://api.twilio.com',
      description: 'Twilio API base URL',
    }),
    /** Texts one client IP may trigger per hour, across all accounts (against SMS pumping). */
    smsSendsPerIpPerHour: Type.Integer({ minimum: 1, default: 10, description: 'SMS sends per IP per hour' }),
  },
  { additionalProperties: false },
)

export type Config = Static<typeof ConfigSchema> & {
  apiAudience: string
  masterKey: string
  webauthnRpId: string
}

/** Environment variable → config key; the README's configuration table mirrors this list. */
export const ENV_VARS: Record<string, keyof Static<typeof ConfigSchema>> = {
  TESSERA_PORT: 'port',
  TESSERA_HOST: 'host',
  TESSERA_PUBLIC_URL: 'publicUrl',
  TESSERA_DATA_DIR: 'dataDir',
  TESSERA_PRODUCT_NAME: 'productName',
  TESSERA_LOGO_URL: 'logoUrl',
  TESSERA_ACCENT_COLOR: 'accentColor',
  DATABASE_URL: 'databaseUrl',
  REDIS_URL: 'redisUrl',
  TESSERA_MASTER_KEY: 'masterKey',
  TESSERA_CORS_ORIGINS: 'corsOrigins',
  TESSERA_API_AUDIENCE: 'apiAudience',
  TESSERA_SIGNING_ALG: 'signingAlg',
  TESSERA_ACCESS_TOKEN_TTL: 'accessTokenTtl',
  TESSERA_REFRESH_TOKEN_IDLE_TTL: 'refreshTokenIdleTtl',
  TESSERA_SESSION_MAX_TTL: 'sessionMaxTtl',
  TESSERA_SESSION_CACHE_TTL: 'sessionCacheTtl',
  TESSERA_KEY_RELOAD_INTERVAL: 'keyReloadInterval',
  TESSERA_AUTH_RATE_LIMIT: 'authRateLimitPerMinute',
  TESSERA_PASSWORD_HASH_CONCURRENCY: 'passwordHashConcurrency',
  TESSERA_LOGIN_MAX_FAILURES: 'loginMaxFailures',
  TESSERA_LOCKOUT_SECONDS: 'lockoutSeconds',
  TESSERA_LOCKOUT_MAX_SECONDS: 'lockoutMaxSeconds',
  TESSERA_TRUST_PROXY: 'trustProxy',
  TESSERA_LOG_LEVEL: 'logLevel',
  TESSERA_SMTP_URL: 'smtpUrl',
  TESSERA_MAIL_FROM: 'mailFrom',
  TESSERA_REQUIRE_VERIFIED_EMAIL: 'requireVerifiedEmail',
  TESSERA_WEBAUTHN_RP_ID: 'webauthnRpId',
  TESSERA_WEBAUTHN_ORIGINS: 'webauthnOrigins',
  TESSERA_METRICS_TOKEN: 'metricsToken',
  TESSERA_TWILIO_ACCOUNT_SID: 'twilioAccountSid',
  TESSERA_TWILIO_AUTH_TOKEN: 'twilioAuthToken',
  TESSERA_TWILIO_FROM: 'twilioFrom',
  TESSERA_TWILIO_BASE_URL: 'twilioBaseUrl',
  TESSERA_SMS_SENDS_PER_IP: 'smsSendsPerIpPerHour',
}

export class ConfigError extends Error {
  readonly problems: string[]
  constructor(problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`)
    this.problems = problems
  }
}

const MASTER_KEY_BYTES = 32
const DEV_MASTER_KEY_FILE = 'dev-master-key'

/** What was insecure about the loaded configuration; main.ts prints it loudly. */
export interface LoadedConfig {
  config: Config
  warnings: string[]
}

function fromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [name, key] of Object.entries(ENV_VARS)) {
    const raw = env[name]
    if (raw === undefined || raw === '') continue
    out[key] =
      key === 'corsOrigins' || key === 'webauthnOrigins'
        ? raw
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : raw
  }
  return out
}

function readConfigFile(path: string | undefined, problems: string[]): Record<string, unknown> {
  if (!path) return {}
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'))
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
      return parsed as Record<string, unknown>
    problems.push(`${path}: must hold a JSON object`)
  } catch (err) {
    problems.push(`${path}: ${(err as Error).message}`)
  }
  return {}
}

/**
 * Reads and validates configuration. Throws ConfigError listing every problem.
 * `overrides` (used by tests and the CLI) win over the file and the environment.
 */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  overrides: Record<string, unknown> = {},
): LoadedConfig {
  const problems: string[] = []
  const warnings: string[] = []
  const raw: Record<string, unknown> = {
    ...readConfigFile(env.TESSERA_CONFIG, problems),
    ...fromEnv(env),
    production: env.NODE_ENV === 'production',
    ...overrides,
  }
  const port = Number(raw.port ?? 3000)
  raw.publicUrl ??= `http://localhost:${port}`
  if (raw.trustProxy === 'true' || raw.trustProxy === 'false') raw.trustProxy = raw.trustProxy === 'true'
  else if (typeof raw.trustProxy === 'string' && /^\d+$/.test(raw.trustProxy))
    raw.trustProxy = Number(raw.trustProxy)

  const converted = Value.Convert(ConfigSchema, raw)
  const withDefaults = Value.Default(ConfigSchema, converted) as Record<string, unknown>
  problems.push(...optionProblems(withDefaults))
  if (problems.length > 0) throw new ConfigError(problems)
  const config = withDefaults as Static<typeof ConfigSchema>

  const publicUrl = new URL(config.publicUrl)
  config.publicUrl = publicUrl.href.replace(/\/$/, '')
  if (publicUrl.protocol === 'http:' && !isLoopback(publicUrl)) {
    if (config.production)
      problems.push('publicUrl: must be https:// in production (http only for localhost)')
    else warnings.push(`publicUrl ${config.publicUrl} is plain http: tokens travel unencrypted`)
  }

  const webauthnRpId = config.webauthnRpId ?? publicUrl.hostname
  if (config.webauthnOrigins.length === 0) config.webauthnOrigins = [publicUrl.origin]
  problems.push(...webauthnProblems(webauthnRpId, config.webauthnOrigins))
  if (config.logoUrl?.startsWith('https://') && !URL.canParse(config.logoUrl))
    problems.push(`logoUrl: ${config.logoUrl} is not a valid URL`)

  let masterKey = config.masterKey
  if (masterKey) {
    if (Buffer.from(masterKey, 'base64url').length !== MASTER_KEY_BYTES) {
      problems.push(
        `masterKey: must be ${MASTER_KEY_BYTES} bytes, base64url-encoded (openssl rand -base64 32)`,
      )
    }
  } else if (config.production) {
    problems.push('masterKey: TESSERA_MASTER_KEY is required in production (the development key is refused)')
  } else {
    masterKey = developmentMasterKey(config.dataDir)
    warnings.push(
      `using a development master key from ${join(config.dataDir, DEV_MASTER_KEY_FILE)}; ` +
        'set TESSERA_MASTER_KEY (MUST change in production)',
    )
  }
  if (!config.redisUrl) {
    warnings.push(
      'no REDIS_URL: rate limits and revocation fan-out live in this process only (run one instance)',
    )
  }
  if (!config.smtpUrl) {
    warnings.push(
      `no TESSERA_SMTP_URL: mail is written to ${join(config.dataDir, 'outbox')} and its links are logged ` +
        '(MUST change in production)',
    )
  }
  if (!config.metricsToken) {
    warnings.push('no TESSERA_METRICS_TOKEN: /metrics answers anyone who can reach this port')
  }
  const twilio = [config.twilioAccountSid, config.twilioAuthToken, config.twilioFrom]
  if (twilio.some(Boolean) && !twilio.every(Boolean)) {
    warnings.push(
      'SMS codes are off: set all of TESSERA_TWILIO_ACCOUNT_SID, TESSERA_TWILIO_AUTH_TOKEN and TESSERA_TWILIO_FROM',
    )
  }
  if (problems.length > 0) throw new ConfigError(problems)

  return {
    config: {
      ...config,
      masterKey: masterKey!,
      apiAudience: config.apiAudience ?? `${config.publicUrl}/v1`,
      webauthnRpId,
    },
    warnings,
  }
}

/**
 * One line per bad option. Options are checked one by one: a single TypeBox pass stops after a
 * few errors (later mistakes would go unreported) and repeats itself for every union member.
 */
function optionProblems(value: Record<string, unknown>): string[] {
  const properties: Record<string, TSchema> = ConfigSchema.properties
  const required: readonly string[] = ConfigSchema.required
  const problems = Object.keys(value)
    .filter((key) => !(key in properties))
    .map((key) => `${key}: unknown option`)
  for (const [key, schema] of Object.entries(properties)) {
    if (value[key] === undefined) {
      if (required.includes(key)) problems.push(`${key}: required`)
      continue
    }
    const [error] = Value.Errors(schema, value[key])
    if (!error) continue
    const allowed = (schema as { anyOf?: { const?: unknown }[] }).anyOf?.map((member) => member.const)
    const oneOf = allowed?.every((c) => c !== undefined) ? `must be one of ${allowed.join(', ')}` : undefined
    const hint = (schema as { errorMessage?: string }).errorMessage // when a pattern alone says little
    problems.push(`${key}: ${hint ?? oneOf ?? error.message}`)
  }
  return problems
}

/**
 * Browsers only let an origin use an RP ID that is its host or a registrable suffix of it
 * (WebAuthn §5.1.3 step 8), and compare origins exactly: check both at startup, not at the
 * first passkey ceremony.
 */
function webauthnProblems(rpId: string, origins: string[]): string[] {
  const problems: string[] = []
  for (const origin of origins) {
    let url: URL
    try {
      url = new URL(origin)
    } catch {
      problems.push(`webauthnOrigins: ${origin} is not a URL`)
      continue
    }
    if (url.origin !== origin)
      problems.push(`webauthnOrigins: ${origin} must be an origin (write ${url.origin})`)
    else if (url.hostname !== rpId && !url.hostname.endsWith(`.${rpId}`))
      problems.push(`webauthnOrigins: ${origin} is not on the RP ID ${rpId} (webauthnRpId)`)
  }
  return problems
}

/** Generated once per data directory, so a fresh clone needs no setup and shares no secret. */
function developmentMasterKey(dataDir: string): string {
  const file = join(resolve(dataDir), DEV_MASTER_KEY_FILE)
  if (existsSync(file)) return readFileSync(file, 'utf8').trim()
  mkdirSync(dataDir, { recursive: true })
  const key = randomBytes(MASTER_KEY_BYTES).toString('base64url')
  writeFileSync(file, `${key}\n`, { mode: 0o600 })
  return key
}

/** Config as it may be logged: secrets and credentials blanked. */
export function redactConfig(config: Config): Record<string, unknown> {
  const redactUrl = (url?: string) => (url ? url.replace(/\/\/[^@/]*@/, '//***@') : url)
  return {
    ...config,
    masterKey: '***',
    databaseUrl: redactUrl(config.databaseUrl),
    redisUrl: redactUrl(config.redisUrl),
    smtpUrl: redactUrl(config.smtpUrl),
    ...(config.twilioAuthToken ? { twilioAuthToken: '***' } : {}),
    ...(config.metricsToken ? { metricsToken: '***' } : {}),
  }
}
