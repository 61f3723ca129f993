import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { decodeJwt } from 'jose'
import {
  bearer,
  login,
  register,
  STRONG_PASSWORD,
  type TokenBody,
  uniqueEmail,
} from '../../test/factories.ts'
import { buildTestApp, type TestApp } from '../../test/harness.ts'

const NEW_PASSWORD = 'a brand new passphrase for me'

function me(app: FastifyInstance, accessToken: string) {
  return app.inject({ method: 'GET', url: '/v1/me', headers: bearer(accessToken) })
}

function refresh(app: FastifyInstance, refreshToken: string) {
  return app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken } })
}

function sid(accessToken: string): string {
  return String(decodeJwt(accessToken).sid)
}

async function loginOk(app: FastifyInstance, email: string, password = STRONG_PASSWORD): Promise<TokenBody> {
  const res = await login(app, email, password)
  assert.equal(res.statusCode, 200, res.body)
  return res.json() as TokenBody
}

async function assertAccessDead(app: FastifyInstance, accessToken: string) {
  const res = await me(app, accessToken)
  assert.equal(res.statusCode, 401, res.body)
  assert.equal(res.json().code, 'session_ended')
  assert.equal(res.headers['www-authenticate'], 'Bearer error="invalid_token"')
}

async function assertRefreshDead(app: FastifyInstance, refreshToken: string) {
  const res = await refresh(app, refreshToken)
  assert.equal(res.statusCode, 401, res.body)
  assert.equal(res.json().code, 'invalid_refresh_token')
}

describe('sessions', () => {
  let t: TestApp
  before(async () => {
    t = await buildTestApp({ config: { authRateLimitPerMinute: 10_000 } })
  })
  after(() => t.close())

  test('login returns the token body, and every login starts a new session', async () => {
    const { email, user, refreshToken: registeredRefresh } = await register(t.app, { name: 'Ada' })
    const first = await loginOk(t.app, email)
    assert.equal(first.tokenType, 'Bearer')
    assert.equal(first.expiresIn, 900)
    assert.deepEqual(first.user, user)
    assert.equal((first.user as Record<string, unknown>).passwordHash, undefined)
    assert.equal((await me(t.app, first.accessToken)).json().email, email)

    const second = await loginOk(t.app, email)
    const sessionIds = new Set([sid(first.accessToken), sid(second.accessToken)])
    assert.equal(sessionIds.size, 2, 'each login creates its own session')
    assert.notEqual(first.refreshToken, second.refreshToken)
    assert.notEqual(first.refreshToken, registeredRefresh)
    const listed = await t.app.inject({
      method: 'GET',
      url: '/v1/me/sessions',
      headers: bearer(second.accessToken),
    })
    assert.equal(listed.json().sessions.length, 3, 'register + two logins')
  })

  test('login with a wrong password is 401 invalid_credentials', async () => {
    const { email } = await register(t.app)
    const res = await login(t.app, email, 'not the password at all')
    assert.equal(res.statusCode, 401)
    assert.equal(res.json().code, 'invalid_credentials')
    assert.equal(res.json().accessToken, undefined)
  })

  test('logout with the bearer token ends the session at once: access and refresh tokens die', async () => {
    const { accessToken, refreshToken } = await register(t.app)
    assert.equal((await me(t.app, accessToken)).statusCode, 200) // warms the liveness cache
    const out = await t.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: bearer(accessToken) })
    assert.equal(out.statusCode, 204, out.body)
    assert.equal(out.body, '')
    await assertAccessDead(t.app, accessToken)
    await assertRefreshDead(t.app, refreshToken)
  })

  test('logout with a refresh token in the body ends that session', async () => {
    const { email } = await register(t.app)
    const keep = await loginOk(t.app, email)
    const end = await loginOk(t.app, email)
    assert.equal((await me(t.app, end.accessToken)).statusCode, 200)
    const out = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/logout',
      payload: { refreshToken: end.refreshToken },
    })
    assert.equal(out.statusCode, 204, out.body)
    await assertAccessDead(t.app, end.accessToken)
    await assertRefreshDead(t.app, end.refreshToken)
    assert.equal((await me(t.app, keep.accessToken)).statusCode, 200, 'other sessions are untouched')
  })

  test('logout without a bearer token or a refresh token is 401', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/auth/logout', payload: {} })
    assert.equal(res.statusCode, 401)
    assert.equal(res.json().code, 'unauthorized')
  })

  test('GET /v1/me/sessions lists my live sessions and marks the current one', async () => {
    const { email, accessToken } = await register(t.app)
    const other = await loginOk(t.app, email)
    const ended = await loginOk(t.app, email)
    await t.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: bearer(ended.accessToken) })

    const res = await t.app.inject({
      method: 'GET',
      url: '/v1/me/sessions',
      headers: bearer(other.accessToken),
    })
    assert.equal(res.statusCode, 200, res.body)
    const sessions = res.json().sessions as Array<{ id: string; current: boolean; amr: string[] }>
    assert.deepEqual(sessions.map((s) => s.id).sort(), [sid(accessToken), sid(other.accessToken)].sort())
    assert.deepEqual(
      sessions.filter((s) => s.current).map((s) => s.id),
      [sid(other.accessToken)],
    )
    for (const s of sessions) assert.deepEqual(s.amr, ['pwd'])
  })

  test('a session is last seen at its latest refresh', async () => {
    const user = await register(t.app)
    t.clock.advance(10 * 60_000)
    const refreshed = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/refresh',
      payload: { refreshToken: user.refreshToken },
    })
    const list = await t.app.inject({
      method: 'GET',
      url: '/v1/me/sessions',
      headers: bearer(refreshed.json().accessToken),
    })
    const [session] = list.json().sessions
    assert.equal(session.lastSeenAt, new Date(t.clock.now()).toISOString())
    assert.ok(session.createdAt < session.lastSeenAt)
  })

  test('DELETE /v1/me/sessions/:id ends another session of mine', async () => {
    const { email, accessToken } = await register(t.app)
    const victim = await loginOk(t.app, email)
    assert.equal((await me(t.app, victim.accessToken)).statusCode, 200)
    const res = await t.app.inject({
      method: 'DELETE',
      url: `/v1/me/sessions/${sid(victim.accessToken)}`,
      headers: bearer(accessToken),
    })
    assert.equal(res.statusCode, 204, res.body)
    await assertAccessDead(t.app, victim.accessToken)
    await assertRefreshDead(t.app, victim.refreshToken)
    assert.equal((await me(t.app, accessToken)).statusCode, 200, 'the calling session lives on')

    const again = await t.app.inject({
      method: 'DELETE',
      url: `/v1/me/sessions/${sid(victim.accessToken)}`,
      headers: bearer(accessToken),
    })
    assert.equal(again.statusCode, 404, 'an ended session cannot be ended twice')
  })

  test("DELETE /v1/me/sessions/:id with another user's session id is 404 and leaves it alive", async () => {
    const mallory = await register(t.app)
    const alice = await register(t.app)
    const res = await t.app.inject({
      method: 'DELETE',
      url: `/v1/me/sessions/${sid(alice.accessToken)}`,
      headers: bearer(mallory.accessToken),
    })
    assert.equal(res.statusCode, 404, res.body)
    assert.equal(res.json().code, 'not_found')
    assert.equal((await me(t.app, alice.accessToken)).statusCode, 200)
    const rotated = await refresh(t.app, alice.refreshToken)
    assert.equal(rotated.statusCode, 200, rotated.body)

    const listed = await t.app.inject({
      method: 'GET',
      url: '/v1/me/sessions',
      headers: bearer(mallory.accessToken),
    })
    assert.deepEqual(
      listed.json().sessions.map((s: { id: string }) => s.id),
      [sid(mallory.accessToken)],
      "another user's sessions are never listed",
    )
  })

  describe('POST /v1/me/password', () => {
    test('requires the right current password', async () => {
      const { accessToken, email } = await register(t.app)
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/me/password',
        headers: bearer(accessToken),
        payload: { currentPassword: 'this is not it at all', newPassword: NEW_PASSWORD },
      })
      assert.equal(res.statusCode, 403, res.body)
      assert.equal(res.json().code, 'invalid_current_password')
      assert.equal((await login(t.app, email, STRONG_PASSWORD)).statusCode, 200, 'the password is unchanged')
      assert.equal((await login(t.app, email, NEW_PASSWORD)).statusCode, 401)
    })

    test('applies the password policy', async () => {
      const { accessToken, email } = await register(t.app)
      for (const newPassword of ['password1', email]) {
        const res = await t.app.inject({
          method: 'POST',
          url: '/v1/me/password',
          headers: bearer(accessToken),
          payload: { currentPassword: STRONG_PASSWORD, newPassword },
        })
        assert.equal(res.statusCode, 400, newPassword)
        assert.equal(res.json().code, 'weak_password')
        assert.deepEqual(
          res.json().errors.map((e: { pointer: string }) => e.pointer),
          ['/body/newPassword'],
        )
      }
      assert.equal((await login(t.app, email, STRONG_PASSWORD)).statusCode, 200)
    })

    test('ends every other session, keeps the current one, and swaps the password', async () => {
      const { accessToken, refreshToken, email } = await register(t.app)
      const others = [await loginOk(t.app, email), await loginOk(t.app, email)]
      for (const o of others) assert.equal((await me(t.app, o.accessToken)).statusCode, 200)

      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/me/password',
        headers: bearer(accessToken),
        payload: { currentPassword: STRONG_PASSWORD, newPassword: NEW_PASSWORD },
      })
      assert.equal(res.statusCode, 204, res.body)

      for (const o of others) {
        await assertAccessDead(t.app, o.accessToken)
        await assertRefreshDead(t.app, o.refreshToken)
      }
      assert.equal((await me(t.app, accessToken)).statusCode, 200, 'the current session keeps working')
      const rotated = await refresh(t.app, refreshToken)
      assert.equal(rotated.statusCode, 200, rotated.body)

      const old = await login(t.app, email, STRONG_PASSWORD)
      assert.equal(old.statusCode, 401)
      assert.equal(old.json().code, 'invalid_credentials')
      assert.equal((await login(t.app, email, NEW_PASSWORD)).statusCode, 200)
    })
  })

  test('access tokens expire after accessTokenTtl with 401 token_expired', async () => {
    const { accessToken } = await register(t.app)
    t.clock.advance(899_000)
    assert.equal((await me(t.app, accessToken)).statusCode, 200, 'still valid just before expiry')
    t.clock.advance(60_000)
    const res = await me(t.app, accessToken)
    assert.equal(res.statusCode, 401)
    assert.equal(res.json().code, 'token_expired')
  })

  test('audit rows are written for register, login, failed login, logout and password change', async () => {
    const { email, user, accessToken } = await register(t.app, {}, '198.51.100.7')
    assert.equal((await login(t.app, email, 'definitely the wrong one')).statusCode, 401)
    const session = await loginOk(t.app, email)
    await t.app.inject({
      method: 'POST',
      url: '/v1/me/password',
      headers: bearer(accessToken),
      payload: { currentPassword: STRONG_PASSWORD, newPassword: NEW_PASSWORD },
    })
    // The password change ended `session`; end the registering one with a logout.
    await t.app.inject({ method: 'POST', url: '/v1/auth/logout', headers: bearer(accessToken) })

    const rows = await t.database.db
      .selectFrom('audit_events')
      .selectAll()
      .where('account_id', '=', user.id)
      .orderBy('occurred_at')
      .orderBy('id')
      .execute()
    const expected = ['account.registered', 'login.failed', 'login.succeeded', 'password.changed', 'logout']
    // Other features (e.g. email verification) add their own events; these must all be there, in order.
    assert.deepEqual(
      rows.map((r) => r.type).filter((type) => expected.includes(type)),
      expected,
    )
    const byType = Object.fromEntries(rows.map((r) => [r.type, r]))
    assert.equal(byType['account.registered']!.ip, '198.51.100.7')
    assert.equal(byType['account.registered']!.session_id, sid(accessToken))
    assert.equal(byType['login.succeeded']!.session_id, sid(session.accessToken))
    assert.equal(byType.logout!.session_id, sid(accessToken))
    assert.deepEqual(JSON.parse(byType['password.changed']!.data), { endedSessions: 1 })
    for (const r of rows)
      assert.doesNotMatch(r.data, /horse|passphrase|wrong one/, 'no secrets in the audit log')
  })
})

describe('session lifetimes', () => {
  let t: TestApp
  before(async () => {
    t = await buildTestApp({ config: { refreshTokenIdleTtl: 60, sessionMaxTtl: 150 } })
  })
  after(() => t.close())

  test('a refresh token unused for longer than refreshTokenIdleTtl is 401 invalid_refresh_token', async () => {
    const { refreshToken } = await register(t.app, { email: uniqueEmail('idle') })
    t.clock.advance(50_000)
    const first = await refresh(t.app, refreshToken)
    assert.equal(first.statusCode, 200, first.body)
    t.clock.advance(50_000)
    const second = await refresh(t.app, first.json().refreshToken)
    assert.equal(second.statusCode, 200, 'each rotation restarts the idle timer')
    t.clock.advance(61_000)
    await assertRefreshDead(t.app, second.json().refreshToken)
  })

  test('no refresh extends a session past sessionMaxTtl', async () => {
    const { refreshToken, accessToken } = await register(t.app, { email: uniqueEmail('absolute') })
    let current = refreshToken
    for (let i = 0; i < 2; i += 1) {
      t.clock.advance(50_000)
      const res = await refresh(t.app, current)
      assert.equal(res.statusCode, 200, res.body)
      current = res.json().refreshToken
    }
    t.clock.advance(51_000) // 151 s after sign-in, 51 s after the last refresh
    await assertRefreshDead(t.app, current)
    await assertAccessDead(t.app, accessToken)
  })
})
