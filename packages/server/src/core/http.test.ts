import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { LightMyRequestResponse } from 'fastify'
import { sql } from 'kysely'
import { bearer, register, uniqueEmail } from '../../test/factories.ts'
import { buildTestApp, type TestApp } from '../../test/harness.ts'
import { BODY_LIMIT_BYTES } from './http.ts'

/** Words that only appear in a body when internals (stack traces, driver errors) leak. */
const INTERNALS = /\bat .+:\d+|stack|Error:|SQL|sqlite|postgres|audit_events|node_modules|FST_/i

function assertProblem(res: LightMyRequestResponse, status: number, code: string) {
  assert.equal(res.statusCode, status, res.body)
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/)
  const body = res.json()
  assert.equal(body.status, status)
  assert.equal(body.code, code)
  assert.equal(body.type, `urn:tessera:problem:${code}`)
  assert.equal(typeof body.title, 'string')
  assert.doesNotMatch(res.body, INTERNALS)
  return body
}

describe('HTTP edge: bad input is a problem+json, never a crash', () => {
  let t: TestApp
  before(async () => {
    t = await buildTestApp()
  })
  after(() => t.close())

  test('a body over 64 KiB is 413 payload_too_large', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/register',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ email: uniqueEmail(), password: 'x'.repeat(BODY_LIMIT_BYTES) }),
    })
    assertProblem(res, 413, 'payload_too_large')
  })

  test('a body just under the limit is parsed (and then validated)', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ email: 'a@example.com', password: 'x'.repeat(BODY_LIMIT_BYTES - 100) }),
    })
    assert.notEqual(res.statusCode, 413)
    assert.match(String(res.headers['content-type']), /^application\/problem\+json/)
  })

  test('malformed and empty JSON are 400 malformed_json', async () => {
    for (const payload of ['{"email": "a@example.com", ', '']) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/auth/login',
        headers: { 'content-type': 'application/json' },
        payload,
      })
      assertProblem(res, 400, 'malformed_json')
    }
  })

  test('text/plain, form and multipart bodies are 415 unsupported_media_type', async () => {
    const bodies: Array<[string, string]> = [
      ['text/plain', '{"email":"a@example.com","password":"correct horse battery staple"}'],
      ['application/x-www-form-urlencoded', 'email=a%40example.com&password=secret'],
      [
        'multipart/form-data; boundary=x',
        '--x\r\nContent-Disposition: form-data; name="email"\r\n\r\na\r\n--x--',
      ],
    ]
    for (const [contentType, payload] of bodies) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/auth/login',
        headers: { 'content-type': contentType },
        payload,
      })
      const body = assertProblem(res, 415, 'unsupported_media_type')
      assert.match(body.detail, /application\/json/, contentType)
    }
  })

  test('a missing required field is 400 validation_failed pointing at the field', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { email: 'a@example.com' },
    })
    const body = assertProblem(res, 400, 'validation_failed')
    assert.deepEqual(body.errors, [{ pointer: '/body/password', detail: 'required' }])
  })

  test('every invalid field is listed at once, unknown fields included', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { email: 42, isAdmin: true },
    })
    const body = assertProblem(res, 400, 'validation_failed')
    const pointers = body.errors.map((e: { pointer: string }) => e.pointer).sort()
    assert.deepEqual(pointers, ['/body/email', '/body/isAdmin', '/body/password'])
    for (const e of body.errors) assert.equal(typeof e.detail, 'string')
  })

  test('an unknown route is 404 problem+json', async () => {
    for (const [method, url] of [
      ['GET', '/v1/nope'],
      ['POST', '/v1/me'],
      ['GET', '/../../etc/passwd'],
    ] as const) {
      const res = await t.app.inject({ method, url })
      assertProblem(res, 404, 'not_found')
    }
  })
})

describe('HTTP edge: an unexpected failure is a generic 500', () => {
  let t: TestApp
  before(async () => {
    t = await buildTestApp()
  })
  after(() => t.close())

  test('a broken database table answers 500 internal_error without the cause', async () => {
    // A real internal failure: the audit log table the register transaction writes to is gone.
    await sql`drop table audit_events`.execute(t.database.db)
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/register',
      payload: { email: uniqueEmail(), password: 'a perfectly fine password' },
    })
    const body = assertProblem(res, 500, 'internal_error')
    assert.deepEqual(Object.keys(body).sort(), ['code', 'detail', 'status', 'title', 'type'])
    assert.equal(body.detail, 'something went wrong on our side')
    assert.ok(res.headers['x-request-id'], 'the request id lets an operator find the logged cause')
  })
})

describe('HTTP edge: security headers', () => {
  let t: TestApp
  let https: TestApp
  before(async () => {
    t = await buildTestApp()
    https = await buildTestApp({ config: { publicUrl: 'https://id.example.com' } })
  })
  after(async () => {
    await t.close()
    await https.close()
  })

  function assertSecurityHeaders(res: LightMyRequestResponse, what: string) {
    const h = res.headers
    assert.equal(h['x-content-type-options'], 'nosniff', what)
    assert.match(String(h['content-security-policy']), /frame-ancestors 'none'/, what)
    assert.equal(h['x-frame-options'], 'DENY', what)
    assert.equal(h['referrer-policy'], 'no-referrer', what)
    assert.equal(h['x-powered-by'], undefined, what)
    assert.match(String(h['x-request-id']), /^[0-9a-f-]{36}$/, what)
  }

  test('every kind of response carries them', async () => {
    const { accessToken } = await register(t.app)
    const responses: Array<[string, Promise<LightMyRequestResponse>]> = [
      ['200 health', t.app.inject({ method: 'GET', url: '/healthz' })],
      ['200 json', t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(accessToken) })],
      ['200 jwks', t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })],
      ['401', t.app.inject({ method: 'GET', url: '/v1/me' })],
      ['400', t.app.inject({ method: 'POST', url: '/v1/auth/login', payload: {} })],
      [
        '413',
        t.app.inject({
          method: 'POST',
          url: '/v1/auth/login',
          headers: { 'content-type': 'application/json' },
          payload: 'x'.repeat(BODY_LIMIT_BYTES + 1),
        }),
      ],
      ['404', t.app.inject({ method: 'GET', url: '/nowhere' })],
    ]
    for (const [what, pending] of responses) assertSecurityHeaders(await pending, what)
  })

  test('each response gets its own request id', async () => {
    const a = await t.app.inject({ method: 'GET', url: '/healthz' })
    const b = await t.app.inject({ method: 'GET', url: '/healthz' })
    assert.notEqual(a.headers['x-request-id'], b.headers['x-request-id'])
  })

  test('HSTS is sent only when the public URL is https', async () => {
    const plain = await t.app.inject({ method: 'GET', url: '/healthz' })
    assert.equal(plain.headers['strict-transport-security'], undefined)
    for (const url of ['/healthz', '/nowhere']) {
      const res = await https.app.inject({ method: 'GET', url })
      assert.match(String(res.headers['strict-transport-security']), /max-age=31536000; includeSubDomains/)
    }
  })
})

describe('HTTP edge: CORS allowlist', () => {
  const allowed = 'https://app.example.com'
  let t: TestApp
  let closed: TestApp
  before(async () => {
    t = await buildTestApp({ config: { corsOrigins: [allowed] } })
    closed = await buildTestApp()
  })
  after(async () => {
    await t.close()
    await closed.close()
  })

  const preflight = (app: TestApp, origin: string) =>
    app.app.inject({
      method: 'OPTIONS',
      url: '/v1/auth/login',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    })

  test('a listed origin passes the preflight', async () => {
    const res = await preflight(t, allowed)
    assert.ok(res.statusCode === 204 || res.statusCode === 200, String(res.statusCode))
    assert.equal(res.headers['access-control-allow-origin'], allowed)
    assert.equal(res.headers['access-control-allow-credentials'], 'true')
    assert.match(String(res.headers['access-control-allow-methods']), /POST/)
    assert.match(String(res.headers['access-control-allow-headers']), /content-type/)
  })

  test('a listed origin may read real responses, errors included', async () => {
    const { accessToken } = await register(t.app)
    for (const res of [
      await t.app.inject({
        method: 'GET',
        url: '/v1/me',
        headers: { origin: allowed, ...bearer(accessToken) },
      }),
      await t.app.inject({ method: 'GET', url: '/v1/me', headers: { origin: allowed } }),
    ]) {
      assert.equal(res.headers['access-control-allow-origin'], allowed)
      assert.match(String(res.headers.vary), /origin/i, 'caches must key on Origin')
    }
  })

  test('an unlisted origin gets no CORS grant', async () => {
    for (const origin of ['https://evil.example.com', 'https://app.example.com.evil.test', 'null']) {
      const pre = await preflight(t, origin)
      assert.equal(pre.headers['access-control-allow-origin'], undefined, origin)
      const real = await t.app.inject({ method: 'GET', url: '/healthz', headers: { origin } })
      assert.equal(real.headers['access-control-allow-origin'], undefined, origin)
    }
  })

  test('with no allowlist configured, no origin is granted', async () => {
    const pre = await preflight(closed, allowed)
    assert.equal(pre.headers['access-control-allow-origin'], undefined)
    const real = await closed.app.inject({ method: 'GET', url: '/healthz', headers: { origin: allowed } })
    assert.equal(real.headers['access-control-allow-origin'], undefined)
  })
})
