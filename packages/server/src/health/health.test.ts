import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { bearer, login, register } from '../../test/factories.ts'
import { buildTestApp, TEST_DATABASE_URL, TEST_REDIS_URL, type TestApp } from '../../test/harness.ts'
import { createSharedDatabase, type SharedDatabase } from '../../test/shared-database.ts'
import { startTcpProxy, type TcpProxy } from '../../test/tcp-proxy.ts'

describe('operations endpoints', () => {
  let t: TestApp
  before(async () => {
    t = await buildTestApp()
  })
  after(() => t.close())

  test('/healthz answers 200 without touching backing services', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/healthz' })
    assert.equal(res.statusCode, 200)
    assert.deepEqual(res.json(), { status: 'ok' })
  })

  test('/readyz answers 200 when the database (and Redis) answer', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/readyz' })
    assert.equal(res.statusCode, 200, res.body)
    const body = res.json()
    assert.equal(body.status, 'ready')
    assert.deepEqual(body.checks.database, { ok: true })
    if (TEST_REDIS_URL) assert.deepEqual(body.checks.redis, { ok: true })
    else assert.equal(body.checks.redis, undefined, 'no Redis configured, none checked')
  })

  test('/metrics exposes request durations, logins and issued tokens', async () => {
    const { email, password } = await register(t.app)
    assert.equal((await login(t.app, email, password)).statusCode, 200)
    assert.equal((await login(t.app, email, 'wrong password entirely')).statusCode, 401)

    const res = await t.app.inject({ method: 'GET', url: '/metrics' })
    assert.equal(res.statusCode, 200)
    assert.match(String(res.headers['content-type']), /^text\/plain/)
    const text = res.body
    // Labelled by the route pattern, never the raw URL (bounded cardinality).
    assert.match(
      text,
      /^tessera_http_request_duration_seconds_count\{method="POST",route="\/v1\/auth\/login",status="200"\} 1$/m,
    )
    assert.match(
      text,
      /^tessera_http_request_duration_seconds_count\{method="POST",route="\/v1\/auth\/login",status="401"\} 1$/m,
    )
    assert.match(
      text,
      /^tessera_http_request_duration_seconds_bucket\{le="\+Inf",method="GET",route="\/healthz"/m,
    )
    assert.match(text, /^tessera_login_total\{outcome="succeeded"\} 1$/m)
    assert.match(text, /^tessera_login_total\{outcome="failed"\} 1$/m)
    assert.match(text, /^tessera_tokens_issued_total\{grant="[a-z_]+"\} \d+$/m)
    const issued = [...text.matchAll(/^tessera_tokens_issued_total\{[^}]*\} (\d+)$/gm)]
    assert.equal(
      issued.reduce((sum, m) => sum + Number(m[1]), 0),
      2,
      'one token pair at registration, one at login',
    )

    await t.app.inject({ method: 'GET', url: '/v1/me/sessions/0199aaaa-0000-7000-8000-000000000000' })
    const after = await t.app.inject({ method: 'GET', url: '/metrics' })
    assert.doesNotMatch(after.body, /0199aaaa/, 'ids in URLs never become label values')
  })

  test('GET /openapi.json is OpenAPI 3.1 and documents every API route', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/openapi.json' })
    assert.equal(res.statusCode, 200)
    const doc = res.json()
    assert.match(doc.openapi, /^3\.1\.\d+$/)
    assert.equal(doc.servers[0].url, 'http://localhost:3000')

    const documented = new Set<string>()
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
      for (const method of Object.keys(item)) documented.add(`${method.toUpperCase()} ${path}`)
    }
    const served = routesOf(t).filter(
      (r) => /^[A-Z]+ \/(v1|\.well-known)\//.test(r) && !r.startsWith('HEAD '),
    )
    assert.ok(served.length >= 10, `found the app's routes: ${served.join(', ')}`)
    const toOpenApi = (route: string) => route.replace(/:(\w+)/g, '{$1}')
    const undocumented = served.map(toOpenApi).filter((r) => !documented.has(r))
    assert.deepEqual(undocumented, [], 'every /v1 and /.well-known route is in the OpenAPI document')

    // Errors are documented as problem+json through the shared schema.
    const loginResponses = doc.paths['/v1/auth/login'].post.responses
    assert.ok(loginResponses['401'].content['application/problem+json'])
  })

  test('/docs serves the HTML API reference', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/docs' })
    assert.equal(res.statusCode, 200)
    assert.match(String(res.headers['content-type']), /^text\/html/)
    assert.match(res.body, /<html/i)
  })
})

describe('/metrics with TESSERA_METRICS_TOKEN', () => {
  const token = 'prometheus-scrape-token-0123'
  let t: TestApp
  before(async () => {
    t = await buildTestApp({ config: { metricsToken: token } })
  })
  after(() => t.close())

  test('answers only the bearer of the metrics token', async () => {
    const scrape = (authorization?: string) =>
      t.app.inject({ method: 'GET', url: '/metrics', headers: authorization ? { authorization } : {} })
    for (const refused of [undefined, 'Bearer wrong-token', `Basic ${token}`, `Bearer ${token}x`]) {
      const res = await scrape(refused)
      assert.equal(res.statusCode, 401, String(refused))
      assert.equal(res.json().code, 'unauthorized')
      assert.doesNotMatch(res.body, /http_request_duration/)
    }
    const res = await scrape(`Bearer ${token}`)
    assert.equal(res.statusCode, 200)
    assert.match(res.body, /http_request_duration_seconds/)
  })
})

/**
 * Every "METHOD /path" the app serves, read from Fastify's route tree so a route added later
 * is checked without editing this test.
 */
function routesOf(t: TestApp): string[] {
  const stack: string[] = []
  const routes: string[] = []
  for (const line of t.app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^([│ ]*)[├└]── (\S+) \(([^)]+)\)$/.exec(line)
    if (!match) continue
    const depth = match[1]!.length / 4
    const path = (stack[depth - 1] ?? '') + match[2]!
    stack[depth] = path
    stack.length = depth + 1
    for (const method of match[3]!.split(', ')) routes.push(`${method} ${path}`)
  }
  return routes
}

describe('database unreachable', {
  skip: !TEST_DATABASE_URL && 'needs TEST_DATABASE_URL (PostgreSQL)',
}, () => {
  let shared: SharedDatabase
  let proxy: TcpProxy
  let t: TestApp
  let user: Awaited<ReturnType<typeof register>>

  before(async () => {
    const target = new URL(TEST_DATABASE_URL!)
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) })
    shared = await createSharedDatabase()
    const throughProxy = new URL(TEST_DATABASE_URL!)
    throughProxy.hostname = '127.0.0.1'
    throughProxy.port = String(proxy.port)
    t = await buildTestApp({
      testDatabase: shared.open({ databaseUrl: throughProxy.href }),
      dataDir: shared.dataDir,
    })
    user = await register(t.app)
    // /v1/me once, so the session is also in the liveness cache.
    assert.equal(
      (await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(user.accessToken) })).statusCode,
      200,
    )
  })
  after(async () => {
    await proxy?.restore().catch(() => {})
    await t?.close()
    await proxy?.close()
    await shared?.drop()
  })

  test('requests answer 503 service_unavailable, readiness fails, and it recovers', async () => {
    await proxy.cut()

    for (const res of [
      await login(t.app, user.email, user.password),
      await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(user.accessToken) }),
    ]) {
      assert.equal(res.statusCode, 503, res.body)
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/)
      assert.equal(res.json().code, 'service_unavailable')
      assert.ok(Number(res.headers['retry-after']) > 0, 'clients are told when to retry')
      assert.doesNotMatch(res.body, /ECONN|127\.0\.0\.1|postgres|terminated|\bat /i)
    }
    const notReady = await t.app.inject({ method: 'GET', url: '/readyz' })
    assert.equal(notReady.statusCode, 503)
    assert.equal(notReady.json().status, 'unavailable')
    assert.equal(notReady.json().checks.database.ok, false)
    const alive = await t.app.inject({ method: 'GET', url: '/healthz' })
    assert.equal(alive.statusCode, 200, 'liveness stays up: a restart would not bring the database back')

    await proxy.restore()

    const ready = await t.app.inject({ method: 'GET', url: '/readyz' })
    assert.equal(ready.statusCode, 200, ready.body)
    const again = await login(t.app, user.email, user.password)
    assert.equal(again.statusCode, 200, again.body)
    const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(user.accessToken) })
    assert.equal(me.statusCode, 200)
  })
})
