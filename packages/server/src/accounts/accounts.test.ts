import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { bearer, register, uniqueEmail } from '../../test/factories.ts'
import { buildTestApp, type TestApp } from '../../test/harness.ts'

describe('accounts', () => {
  let t: TestApp
  before(async () => {
    t = await buildTestApp()
  })
  after(() => t.close())

  test('register returns the user and a token body', async () => {
    const email = uniqueEmail('New.User')
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/register',
      payload: { email: `  ${email}  `, password: 'a perfectly fine password', name: 'Ada' },
    })
    assert.equal(res.statusCode, 201, res.body)
    const body = res.json()
    assert.equal(body.tokenType, 'Bearer')
    assert.equal(body.expiresIn, 900)
    assert.equal(body.user.email, email)
    assert.equal(body.user.name, 'Ada')
    assert.equal(body.user.emailVerified, false)
    assert.match(body.user.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/, 'ids are UUIDv7')
    assert.equal(body.user.passwordHash, undefined)
    assert.ok(body.refreshToken.length >= 43 + 37)
  })

  test('emails are unique case-insensitively and after Unicode normalisation', async () => {
    const { email } = await register(t.app, { email: uniqueEmail('Case') })
    for (const variant of [email.toUpperCase(), ` ${email} `]) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/auth/register',
        payload: { email: variant, password: 'another fine password' },
      })
      assert.equal(res.statusCode, 409)
      assert.equal(res.json().code, 'email_taken')
      assert.match(res.headers['content-type'] as string, /^application\/problem\+json/)
    }
    const composed = 'jos\u00e9@example.com'
    await register(t.app, { email: composed })
    const decomposed = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/register',
      payload: { email: 'jose\u0301@example.com', password: 'another fine password' },
    })
    assert.equal(decomposed.statusCode, 409)
  })

  test('GET /v1/me returns the profile and PATCH updates only profile fields', async () => {
    const { accessToken, email } = await register(t.app)
    const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(accessToken) })
    assert.equal(me.statusCode, 200)
    assert.equal(me.json().email, email)

    const patched = await t.app.inject({
      method: 'PATCH',
      url: '/v1/me',
      headers: bearer(accessToken),
      payload: { name: 'Grace Hopper', locale: 'en-US', timeZone: 'America/New_York' },
    })
    assert.equal(patched.statusCode, 200, patched.body)
    assert.equal(patched.json().name, 'Grace Hopper')
    assert.equal(patched.json().locale, 'en-US')
    assert.equal(patched.json().timeZone, 'America/New_York')

    const cleared = await t.app.inject({
      method: 'PATCH',
      url: '/v1/me',
      headers: bearer(accessToken),
      payload: { name: null },
    })
    assert.equal(cleared.json().name, null)
    assert.equal(cleared.json().locale, 'en-US')
  })

  test('GET /v1/me without a token is 401 problem+json', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/me' })
    assert.equal(res.statusCode, 401)
    assert.equal(res.json().code, 'unauthorized')
    assert.equal(res.headers['www-authenticate'], 'Bearer', 'RFC 6750 §3: the scheme is named')
  })

  test('weak and common passwords are refused with weak_password', async () => {
    for (const password of ['password1', 'iloveyou2', 'PASSWORD123']) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/auth/register',
        payload: { email: uniqueEmail(), password },
      })
      assert.equal(res.statusCode, 400, password)
      assert.equal(res.json().code, 'weak_password')
    }
    const short = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/register',
      payload: { email: uniqueEmail(), password: 'short' },
    })
    assert.equal(short.statusCode, 400)
    assert.equal(short.json().code, 'validation_failed')
    assert.deepEqual(
      short.json().errors.map((e: { pointer: string }) => e.pointer),
      ['/body/password'],
    )
    const long = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/register',
      payload: { email: uniqueEmail(), password: `${'x'.repeat(128)} still fine` },
    })
    assert.equal(long.statusCode, 201, 'passwords of 128+ characters are allowed')
  })
})
