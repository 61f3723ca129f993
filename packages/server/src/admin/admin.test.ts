import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { decodeJwt } from 'jose'
import {
  type Admin,
  assertSignedOut,
  bearer,
  buildAdminTestApp,
  enrolTotp,
  login,
  register,
  uniqueEmail,
} from '../../test/factories.ts'
import type { TestApp } from '../../test/harness.ts'
import { createAuditLog } from '../audit/service.ts'

interface AdminUserBody {
  id: string
  email: string
  name: string | null
  disabled: boolean
  disabledAt: string | null
  roles: string[]
  mfaEnabled?: boolean
  lastLoginAt?: string | null
}

describe('admin API: users', () => {
  let t: TestApp
  let admin: Admin
  before(async () => ({ t, admin } = await buildAdminTestApp()))
  after(() => t.close())

  const get = (url: string) => t.app.inject({ method: 'GET', url, headers: bearer(admin.accessToken) })
  const post = (url: string) => t.app.inject({ method: 'POST', url, headers: bearer(admin.accessToken) })
  const auditOf = (accountId: string) =>
    createAuditLog({ db: t.database.db, clock: t.clock }).listForAccount(accountId)

  test("an administrator's access token carries roles: ['admin']; a user's carries none", async () => {
    assert.deepEqual(decodeJwt(admin.accessToken).roles, ['admin'])
    const user = await register(t.app)
    assert.equal(decodeJwt(user.accessToken).roles, undefined)
    const refreshed = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/refresh',
      payload: { refreshToken: admin.refreshToken },
    })
    assert.equal(refreshed.statusCode, 200, refreshed.body)
    assert.deepEqual(decodeJwt(refreshed.json().accessToken).roles, ['admin'], 'a refresh keeps the role')
  })

  test('lists users newest first in keyset pages, and searches email and name case-insensitively', async () => {
    const marker = `Pager${Date.now()}`
    const created = []
    for (let i = 0; i < 5; i++) {
      created.push(await register(t.app, { email: uniqueEmail(`p${i}`), name: `${marker} number ${i}` }))
      t.clock.advance(1) // distinct creation times (ids are time-ordered either way)
    }
    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const qs: string = `query=${marker.toLowerCase()}&limit=2${cursor ? `&cursor=${cursor}` : ''}`
      const res = await get(`/v1/admin/users?${qs}`)
      assert.equal(res.statusCode, 200, res.body)
      const body = res.json() as { users: AdminUserBody[]; nextCursor: string | null }
      assert.ok(body.users.length <= 2)
      seen.push(...body.users.map((u) => u.id))
      cursor = body.nextCursor
      pages++
    } while (cursor && pages < 10)
    assert.equal(pages, 3)
    assert.deepEqual(seen, created.map((u) => u.user.id).reverse(), 'every user once, newest first')

    const byEmail = await get(`/v1/admin/users?query=${encodeURIComponent(created[2]!.email.toUpperCase())}`)
    assert.deepEqual(
      (byEmail.json().users as AdminUserBody[]).map((u) => u.id),
      [created[2]!.user.id],
    )
    const all = await get('/v1/admin/users?limit=100')
    assert.equal(all.statusCode, 200)
    assert.ok(
      (all.json().users as AdminUserBody[]).some((u) => u.id === admin.user.id && u.roles.includes('admin')),
    )
  })

  test('limit and cursor are validated', async () => {
    for (const qs of [
      'limit=0',
      'limit=101',
      'limit=abc',
      'limit=-1',
      'limit=1.5',
      'cursor=nope',
      'extra=1',
    ]) {
      const res = await get(`/v1/admin/users?${qs}`)
      assert.equal(res.statusCode, 400, qs)
      assert.equal(res.json().code, 'validation_failed', qs)
    }
    for (const qs of ['limit=1', 'limit=100', 'query='])
      assert.equal((await get(`/v1/admin/users?${qs}`)).statusCode, 200, qs)
  })

  test('GET /v1/admin/users/:id shows status, roles, MFA and the last sign-in', async () => {
    const user = await register(t.app, { name: 'Detail Person' })
    const before = await get(`/v1/admin/users/${user.user.id}`)
    assert.equal(before.statusCode, 200, before.body)
    const body = before.json() as AdminUserBody
    assert.equal(body.email, user.email)
    assert.equal(body.name, 'Detail Person')
    assert.equal(body.disabled, false)
    assert.equal(body.disabledAt, null)
    assert.deepEqual(body.roles, [])
    assert.equal(body.mfaEnabled, false)
    assert.equal(body.lastLoginAt, new Date(t.clock.now()).toISOString(), 'registering started a session')

    await enrolTotp(t, user.accessToken)
    t.clock.advance(60_000)
    // With a factor, login stops at the MFA step: no new session, so lastLoginAt stays.
    assert.equal((await login(t.app, user.email, user.password)).json().mfaRequired, true)
    const afterMfa = (await get(`/v1/admin/users/${user.user.id}`)).json() as AdminUserBody
    assert.equal(afterMfa.mfaEnabled, true)
    assert.equal(afterMfa.lastLoginAt, body.lastLoginAt)

    const unknown = await get('/v1/admin/users/01890a5d-ac96-774b-bcce-b302099a8057')
    assert.equal(unknown.statusCode, 404)
    assert.equal(unknown.json().code, 'user_not_found')
    assert.equal((await get('/v1/admin/users/not-a-uuid')).statusCode, 400)
  })

  test('disable ends every session at once and refuses sign-in; enable lets the user back in', async () => {
    const user = await register(t.app)
    const second = await login(t.app, user.email, user.password)
    assert.equal(second.statusCode, 200)

    const disabled = await post(`/v1/admin/users/${user.user.id}/disable`)
    assert.equal(disabled.statusCode, 200, disabled.body)
    assert.equal(disabled.json().disabled, true)
    assert.equal(disabled.json().disabledAt, new Date(t.clock.now()).toISOString())

    await assertSignedOut(t.app, [user.accessToken, second.json().accessToken], user.refreshToken)
    const denied = await login(t.app, user.email, user.password)
    assert.equal(denied.statusCode, 403)
    assert.equal(denied.json().code, 'account_disabled')

    const again = await post(`/v1/admin/users/${user.user.id}/disable`)
    assert.equal(again.statusCode, 200, 'disabling twice is harmless')

    const events = await auditOf(user.user.id)
    const event = events.find((e) => e.type === 'admin.user_disabled')
    assert.deepEqual(event?.data, { adminId: admin.user.id, endedSessions: 2 })
    assert.equal(events.filter((e) => e.type === 'admin.user_disabled').length, 1, 'a no-op is not audited')

    const enabled = await post(`/v1/admin/users/${user.user.id}/enable`)
    assert.equal(enabled.statusCode, 200, enabled.body)
    assert.equal(enabled.json().disabled, false)
    assert.equal(enabled.json().disabledAt, null)
    assert.equal((await login(t.app, user.email, user.password)).statusCode, 200)
    assert.ok((await auditOf(user.user.id)).some((e) => e.type === 'admin.user_enabled'))

    assert.equal((await post('/v1/admin/users/01890a5d-ac96-774b-bcce-b302099a8057/disable')).statusCode, 404)
    assert.equal((await post('/v1/admin/users/01890a5d-ac96-774b-bcce-b302099a8057/enable')).statusCode, 404)
  })

  test('delete removes the account and everything it owns; the audit trail stays', async () => {
    const user = await register(t.app)
    await enrolTotp(t, user.accessToken)
    const { db } = t.database
    const owned = async () => ({
      sessions: (
        await db.selectFrom('sessions').select('id').where('account_id', '=', user.user.id).execute()
      ).length,
      refreshTokens: (
        await db
          .selectFrom('refresh_tokens')
          .innerJoin('sessions', 'sessions.id', 'refresh_tokens.session_id')
          .select('refresh_tokens.id')
          .where('sessions.account_id', '=', user.user.id)
          .execute()
      ).length,
      factors: (
        await db.selectFrom('mfa_factors').select('id').where('account_id', '=', user.user.id).execute()
      ).length,
      backupCodes: (
        await db.selectFrom('backup_codes').select('id').where('account_id', '=', user.user.id).execute()
      ).length,
      links: (
        await db.selectFrom('one_time_tokens').select('id').where('account_id', '=', user.user.id).execute()
      ).length,
    })
    const before = await owned()
    assert.ok(before.sessions > 0 && before.refreshTokens > 0 && before.factors > 0 && before.backupCodes > 0)
    assert.ok(before.links > 0, 'the verification link mailed at registration')

    const res = await t.app.inject({
      method: 'DELETE',
      url: `/v1/admin/users/${user.user.id}`,
      headers: bearer(admin.accessToken),
    })
    assert.equal(res.statusCode, 204, res.body)
    assert.deepEqual(await owned(), { sessions: 0, refreshTokens: 0, factors: 0, backupCodes: 0, links: 0 })
    assert.equal((await get(`/v1/admin/users/${user.user.id}`)).statusCode, 404)
    assert.equal(
      (await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(user.accessToken) })).statusCode,
      401,
    )
    const relogin = await login(t.app, user.email, user.password)
    assert.equal(relogin.statusCode, 401)
    assert.equal(relogin.json().code, 'invalid_credentials')

    const events = await auditOf(user.user.id)
    assert.ok(
      events.some((e) => e.type === 'account.registered'),
      'earlier events keep the id',
    )
    const deleted = events.find((e) => e.type === 'admin.user_deleted')
    assert.equal(deleted?.data.adminId, admin.user.id)

    const again = await t.app.inject({
      method: 'DELETE',
      url: `/v1/admin/users/${user.user.id}`,
      headers: bearer(admin.accessToken),
    })
    assert.equal(again.statusCode, 404)
    assert.equal(again.json().code, 'user_not_found')
    // The address is free again.
    assert.equal((await register(t.app, { email: user.email })).user.email, user.email)
  })

  test('the routes are in the OpenAPI document, with bearer security', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json()
    for (const [path, method] of [
      ['/v1/admin/users', 'get'],
      ['/v1/admin/users/{id}', 'get'],
      ['/v1/admin/users/{id}', 'delete'],
      ['/v1/admin/users/{id}/disable', 'post'],
      ['/v1/admin/users/{id}/enable', 'post'],
    ] as const) {
      const operation = doc.paths[path]?.[method]
      assert.ok(operation, `${method} ${path}`)
      assert.deepEqual(operation.security, [{ bearer: [] }])
      assert.ok(operation.responses['403'], 'documents admin_required')
    }
  })
})
