/**
 * Attacks on the admin API: privilege escalation (a user, a stale token, a forged token), a
 * disabled user keeping access, data leaking through listings, an administrator locking
 * themselves out, and LIKE wildcards in search.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { decodeJwt, decodeProtectedHeader, generateKeyPair, SignJWT } from 'jose'
import {
  type Admin,
  bearer,
  buildAdminTestApp,
  grantAdmin,
  login,
  register,
  registerAdmin,
  uniqueEmail,
} from '../../test/factories.ts'
import { buildTestApp, TEST_REDIS_URL, type TestApp } from '../../test/harness.ts'
import { createSharedDatabase } from '../../test/shared-database.ts'

const UNKNOWN_ID = '01890a5d-ac96-774b-bcce-b302099a8057'

/** Every admin route, aimed at `id`. */
function adminRoutes(id: string) {
  return [
    { method: 'GET', url: '/v1/admin/users' },
    { method: 'GET', url: '/v1/admin/users?query=a&limit=5' },
    { method: 'GET', url: `/v1/admin/users/${id}` },
    { method: 'POST', url: `/v1/admin/users/${id}/disable` },
    { method: 'POST', url: `/v1/admin/users/${id}/enable` },
    { method: 'DELETE', url: `/v1/admin/users/${id}` },
  ] as const
}

describe('admin API security', () => {
  let t: TestApp
  let admin: Admin
  before(async () => ({ t, admin } = await buildAdminTestApp()))
  after(() => t.close())

  test('privilege escalation: a signed-in user gets 403 admin_required on every admin route', async () => {
    const user = await register(t.app)
    const victim = await register(t.app)
    for (const route of adminRoutes(victim.user.id)) {
      const res = await t.app.inject({ ...route, headers: bearer(user.accessToken) })
      assert.equal(res.statusCode, 403, `${route.method} ${route.url}`)
      assert.equal(res.json().code, 'admin_required')
      const anonymous = await t.app.inject(route)
      assert.equal(anonymous.statusCode, 401, `${route.method} ${route.url} without a token`)
    }
    // Even invalid input is refused before it is looked at.
    const invalid = await t.app.inject({
      method: 'GET',
      url: '/v1/admin/users?limit=9999&bogus=1',
      headers: bearer(user.accessToken),
    })
    assert.equal(invalid.statusCode, 403)
    const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(victim.accessToken) })
    assert.equal(me.statusCode, 200, 'the victim was not touched')
  })

  test('privilege escalation: a token minted before promotion has no admin role; a refresh or sign-in does', async () => {
    const user = await register(t.app)
    await grantAdmin(t, user.user.id)
    const stale = await t.app.inject({
      method: 'GET',
      url: '/v1/admin/users',
      headers: bearer(user.accessToken),
    })
    assert.equal(stale.statusCode, 403)
    assert.equal(stale.json().code, 'admin_required')

    const refreshed = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/refresh',
      payload: { refreshToken: user.refreshToken },
    })
    assert.equal(refreshed.statusCode, 200, refreshed.body)
    assert.deepEqual(decodeJwt(refreshed.json().accessToken).roles, ['admin'])
    const fresh = await t.app.inject({
      method: 'GET',
      url: '/v1/admin/users',
      headers: bearer(refreshed.json().accessToken),
    })
    assert.equal(fresh.statusCode, 200, fresh.body)
  })

  test('privilege escalation: a self-made token claiming roles ["admin"] is rejected', async () => {
    const user = await register(t.app)
    const claims = decodeJwt(user.accessToken)
    const { kid, alg } = decodeProtectedHeader(user.accessToken)
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' })
    const forged = await new SignJWT({ ...claims, roles: ['admin'] })
      .setProtectedHeader({ alg: alg!, kid: kid!, typ: 'at+jwt' })
      .sign(privateKey)
    const res = await t.app.inject({ method: 'GET', url: '/v1/admin/users', headers: bearer(forged) })
    assert.equal(res.statusCode, 401)
    assert.equal(res.json().code, 'invalid_token')

    // An unsigned copy with the claim edited in fails the same way.
    const [header, , signature] = user.accessToken.split('.')
    const body = Buffer.from(JSON.stringify({ ...claims, roles: ['admin'] })).toString('base64url')
    const edited = await t.app.inject({
      method: 'GET',
      url: '/v1/admin/users',
      headers: bearer(`${header}.${body}.${signature}`),
    })
    assert.equal(edited.statusCode, 401)
  })

  test("a disabled user's access token fails at once and their refresh token is dead", async () => {
    const user = await register(t.app)
    // Warm the liveness cache: the revocation must purge it, not wait for it to expire.
    assert.equal(
      (await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(user.accessToken) })).statusCode,
      200,
    )
    const res = await t.app.inject({
      method: 'POST',
      url: `/v1/admin/users/${user.user.id}/disable`,
      headers: bearer(admin.accessToken),
    })
    assert.equal(res.statusCode, 200, res.body)
    const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(user.accessToken) })
    assert.equal(me.statusCode, 401)
    assert.equal(me.json().code, 'session_ended')
    const refresh = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/refresh',
      payload: { refreshToken: user.refreshToken },
    })
    assert.equal(refresh.statusCode, 401)
    const relogin = await login(t.app, user.email, user.password)
    assert.equal(relogin.json().code, 'account_disabled')
  })

  test('disabling an administrator ends their admin access at once', async () => {
    const other = await registerAdmin(t)
    const ok = await t.app.inject({
      method: 'GET',
      url: '/v1/admin/users',
      headers: bearer(other.accessToken),
    })
    assert.equal(ok.statusCode, 200)
    const res = await t.app.inject({
      method: 'POST',
      url: `/v1/admin/users/${other.user.id}/disable`,
      headers: bearer(admin.accessToken),
    })
    assert.equal(res.statusCode, 200, res.body)
    const denied = await t.app.inject({
      method: 'GET',
      url: '/v1/admin/users',
      headers: bearer(other.accessToken),
    })
    assert.equal(denied.statusCode, 401)
  })

  test('an administrator cannot disable or delete themselves (409 cannot_modify_self)', async () => {
    for (const route of [
      { method: 'POST', url: `/v1/admin/users/${admin.user.id}/disable` },
      { method: 'DELETE', url: `/v1/admin/users/${admin.user.id}` },
    ] as const) {
      const res = await t.app.inject({ ...route, headers: bearer(admin.accessToken) })
      assert.equal(res.statusCode, 409, route.url)
      assert.equal(res.json().code, 'cannot_modify_self')
    }
    const still = await t.app.inject({
      method: 'GET',
      url: `/v1/admin/users/${admin.user.id}`,
      headers: bearer(admin.accessToken),
    })
    assert.equal(still.statusCode, 200)
    assert.equal(still.json().disabled, false)
  })

  test('isolation: listings and details carry no password hash or secret; unknown ids are 404', async () => {
    const user = await register(t.app, { name: 'Isolated' })
    const list = await t.app.inject({
      method: 'GET',
      url: '/v1/admin/users?limit=100',
      headers: bearer(admin.accessToken),
    })
    const detail = await t.app.inject({
      method: 'GET',
      url: `/v1/admin/users/${user.user.id}`,
      headers: bearer(admin.accessToken),
    })
    const summaryKeys = [
      'createdAt',
      'disabled',
      'disabledAt',
      'email',
      'emailVerified',
      'id',
      'locale',
      'name',
    ]
      .concat(['roles', 'timeZone', 'updatedAt'])
      .sort()
    for (const u of list.json().users as Record<string, unknown>[])
      assert.deepEqual(Object.keys(u).sort(), summaryKeys)
    assert.deepEqual(Object.keys(detail.json()).sort(), [...summaryKeys, 'lastLoginAt', 'mfaEnabled'].sort())
    for (const body of [list.body, detail.body]) {
      assert.doesNotMatch(body, /argon2|password|secret|hash/i)
      assert.doesNotMatch(body, /email_key|password_hash/)
    }

    for (const route of adminRoutes(UNKNOWN_ID).slice(2)) {
      const res = await t.app.inject({ ...route, headers: bearer(admin.accessToken) })
      assert.equal(res.statusCode, 404, `${route.method} ${route.url}`)
      assert.equal(res.json().code, 'user_not_found')
    }
  })

  test('search: % and _ (and \\) match literally, never as wildcards', async () => {
    const marker = `w${randomBytes(4).toString('hex')}`
    const names = [
      `${marker} 100% sure`,
      `${marker} 100 sure`,
      `${marker} a_b`,
      `${marker} axb`,
      `${marker} c\\d`,
    ]
    const ids = new Map<string, string>()
    for (const name of names)
      ids.set(name, (await register(t.app, { email: uniqueEmail('wild'), name })).user.id)
    const search = async (query: string) => {
      const res = await t.app.inject({
        method: 'GET',
        url: `/v1/admin/users?query=${encodeURIComponent(query)}`,
        headers: bearer(admin.accessToken),
      })
      assert.equal(res.statusCode, 200, res.body)
      return (res.json().users as { name: string }[]).map((u) => u.name).sort()
    }
    assert.deepEqual(await search(`${marker} 100%`), [`${marker} 100% sure`])
    assert.deepEqual(await search(`${marker} a_b`), [`${marker} a_b`])
    assert.deepEqual(await search(`${marker} c\\d`), [`${marker} c\\d`])
    // No other user of this app has a `%` or `_` in their name or email.
    assert.deepEqual(await search('%'), [`${marker} 100% sure`])
    assert.deepEqual(await search('_'), [`${marker} a_b`])
    assert.deepEqual(await search(marker.toUpperCase()), [...names].sort(), 'case-insensitive')
  })

  test('disabling on one instance stops the token on another at once (Redis fan-out)', {
    skip: !TEST_REDIS_URL && 'revocation fan-out between instances needs Redis',
  }, async () => {
    const shared = await createSharedDatabase()
    const kvPrefix = `admin-${randomBytes(4).toString('hex')}:`
    const a = await buildTestApp({ testDatabase: shared.open(), dataDir: shared.dataDir, kvPrefix })
    const b = await buildTestApp({
      testDatabase: shared.open(),
      dataDir: shared.dataDir,
      kvPrefix,
      clock: a.clock,
    })
    try {
      const boss = await registerAdmin(a)
      const user = await register(a.app)
      const onB = () => b.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(user.accessToken) })
      assert.equal((await onB()).statusCode, 200, 'b has now cached the session as live')
      const res = await a.app.inject({
        method: 'POST',
        url: `/v1/admin/users/${user.user.id}/disable`,
        headers: bearer(boss.accessToken),
      })
      assert.equal(res.statusCode, 200, res.body)
      let status = 200
      for (let i = 0; i < 50 && status === 200; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20)) // pub/sub delivery
        status = (await onB()).statusCode
      }
      assert.equal(status, 401)
    } finally {
      await b.close()
      await a.close()
      await shared.drop()
    }
  })
})
