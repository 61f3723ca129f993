/**
 * What the phases need before they run, made through the server's own interfaces: accounts
 * (`POST /v1/auth/register`), and for the OIDC phases an administrator (`tessera admin create`
 * on the bench database), an API resource and three clients (the admin API), and opaque access
 * tokens to introspect (the client credentials grant).
 */
import { randomBytes } from 'node:crypto'
import { type BenchClient, basicAuth } from './protocol.ts'
import type { RunningServer } from './server.ts'

export const BENCH_PASSWORD = 'tessera-bench-correct-horse-battery'
/** The API the client credentials tokens are for: a resource indicator (RFC 8707), so JWTs. */
export const BENCH_API = { audience: 'https://api.bench.example/', scope: 'bench:read' }
/** The web app's callback: registered and sent, never fetched (the flow stops at the redirect). */
export const BENCH_REDIRECT_URI = 'http://127.0.0.1:9/bench/callback'
/** What the code flow asks for: an ID token with profile claims. */
export const BENCH_CODE_FLOW_SCOPE = 'openid profile email'

const TIMEOUT_MS = 30_000

async function call(
  baseUrl: string,
  method: string,
  path: string,
  init: { headers?: Record<string, string>; json?: unknown; form?: Record<string, string> },
  expected: number,
): Promise<Record<string, unknown>> {
  const headers = { ...init.headers }
  let body: string | undefined
  if (init.json !== undefined) {
    headers['content-type'] = 'application/json'
    body = JSON.stringify(init.json)
  } else if (init.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded'
    body = new URLSearchParams(init.form).toString()
  }
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    body,
    signal: AbortSignal.timeout(TIMEOUT_MS),
  })
  const text = await res.text()
  if (res.status !== expected) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 500)}`)
  return JSON.parse(text) as Record<string, unknown>
}

export interface Seeded {
  emails: string[]
  refreshTokens: string[]
  accessToken: string
}

/** Registers `count` accounts through the API, `concurrency` at a time; returns their tokens. */
export async function seedAccounts(baseUrl: string, count: number, concurrency: number): Promise<Seeded> {
  const runId = randomBytes(4).toString('hex')
  const bodies: { email: string; refreshToken: string; accessToken: string }[] = []
  let next = 0
  const worker = async () => {
    while (next < count) {
      const email = `bench-${runId}-${next++}@example.com`
      const json = { email, password: BENCH_PASSWORD, name: 'Bench User' }
      const body = await call(baseUrl, 'POST', '/v1/auth/register', { json }, 201)
      if (typeof body.refreshToken !== 'string' || typeof body.accessToken !== 'string')
        throw new Error(`register ${email}: no tokens in ${JSON.stringify(body)}`)
      bodies.push({ email, refreshToken: body.refreshToken, accessToken: body.accessToken })
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  // The first account's session serves GET /v1/me and is never refreshed, so it cannot be revoked.
  const [me, ...rest] = bodies
  return {
    emails: bodies.map((b) => b.email),
    refreshTokens: rest.map((b) => b.refreshToken),
    accessToken: me!.accessToken,
  }
}

export interface OidcFixtures {
  /** client_credentials only: asks for tokens for BENCH_API. */
  service: BenchClient
  /** A resource server's client: introspects tokens. */
  resourceServer: BenchClient
  /** A web app with a backend: authorization code (+ PKCE), client_secret_basic. */
  webApp: BenchClient
  /** `count` fresh opaque access tokens (client credentials without `resource`). */
  opaqueTokens(count: number): Promise<string[]>
}

/**
 * An administrator made with the CLI on the bench database (as an operator would), signed in
 * through the API; then the API resource and the clients through the admin API.
 */
export async function seedOidc(server: RunningServer): Promise<OidcFixtures> {
  const { baseUrl } = server
  const email = `bench-admin-${randomBytes(4).toString('hex')}@example.com`
  const password = randomBytes(24).toString('base64url')
  await server.cli(['admin', 'create', '--email', email, '--password-stdin'], password)
  const login = await call(baseUrl, 'POST', '/v1/auth/login', { json: { email, password } }, 200)
  const admin = { authorization: `Bearer ${login.accessToken}` }

  await call(
    baseUrl,
    'POST',
    '/v1/admin/api-resources',
    {
      headers: admin,
      json: { audience: BENCH_API.audience, name: 'Bench API', scopes: ['bench:read', 'bench:write'] },
    },
    201,
  )
  const client = async (metadata: Record<string, unknown>): Promise<BenchClient> => {
    const body = await call(baseUrl, 'POST', '/v1/admin/clients', { headers: admin, json: metadata }, 201)
    if (typeof body.client_id !== 'string' || typeof body.client_secret !== 'string')
      throw new Error(`client ${metadata.client_name}: no client_id or client_secret`)
    return { clientId: body.client_id, clientSecret: body.client_secret }
  }
  const service = await client({ client_name: 'Bench service', grant_types: ['client_credentials'] })
  const resourceServer = await client({
    client_name: 'Bench resource server',
    grant_types: ['client_credentials'],
  })
  const webApp = await client({
    client_name: 'Bench web app',
    redirect_uris: [BENCH_REDIRECT_URI],
    grant_types: ['authorization_code'],
  })

  const opaqueToken = async () => {
    const body = await call(
      baseUrl,
      'POST',
      '/oidc/token',
      { headers: { authorization: basicAuth(service) }, form: { grant_type: 'client_credentials' } },
      200,
    )
    const token = body.access_token
    if (typeof token !== 'string' || token.includes('.'))
      throw new Error(`expected an opaque token, got ${token}`)
    return token
  }
  return {
    service,
    resourceServer,
    webApp,
    opaqueTokens: (count) => Promise.all(Array.from({ length: count }, opaqueToken)),
  }
}
