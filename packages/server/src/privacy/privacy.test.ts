import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { assertSignedOut, bearer, enrolTotp, login, register } from '../../test/factories.ts'
import { buildTestApp, type TestApp } from '../../test/harness.ts'
import {
  browser,
  createRelyingParty,
  type OidcTestServer,
  signInThroughPages,
  startOidcServer,
} from '../../test/oidc.ts'
import type { AccountExport } from './schemas.ts'

/** The re-authentication window (sudo mode) and a moment more. */
const PAST_RECENT_AUTH_MS = 5 * 60_000 + 1

describe('my data: export and deletion', () => {
  let t: TestApp
  before(async () => {
    t = await buildTestApp()
  })
  after(() => t.close())

  const exportOf = (accessToken: string) =>
    t.app.inject({ method: 'GET', url: '/v1/me/export', headers: bearer(accessToken) })
  const deleteMe = (accessToken: string) =>
    t.app.inject({ method: 'DELETE', url: '/v1/me', headers: bearer(accessToken) })

  test('the export holds my profile, sessions, factors and history, and no secret', async () => {
    const me = await register(t.app, { name: 'Ada' })
    const other = await register(t.app)
    const { secret } = await enrolTotp(t, me.accessToken)
    const phone = await login(t.app, me.email, me.password)
    assert.equal(phone.statusCode, 200)
    assert.equal(phone.json().mfaRequired, true, 'a second sign-in now stops at the second step')

    const res = await exportOf(me.accessToken)
    assert.equal(res.statusCode, 200, res.body)
    const data = res.json() as AccountExport
    assert.equal(data.user.email, me.email)
    assert.equal(data.user.name, 'Ada')
    assert.deepEqual(
      data.sessions.map((s) => s.current),
      [true],
    )
    assert.equal(data.mfa.enabled, true)
    assert.deepEqual(
      data.mfa.methods.map((m) => m.type),
      ['totp'],
    )
    assert.deepEqual(data.passkeys, [])
    assert.deepEqual(data.grants, [])
    const types = data.auditEvents.map((e) => e.type)
    for (const type of ['account.registered', 'email.verification_sent', 'mfa.factor_added'])
      assert.ok(types.includes(type), `${type} in ${types.join(', ')}`)
    assert.ok(data.auditEvents.every((e) => !Number.isNaN(Date.parse(e.occurredAt))))

    for (const secretValue of [secret, me.password, me.refreshToken, me.accessToken, '$argon2'])
      assert.ok(!res.body.includes(secretValue), 'no secret in the export')
    assert.ok(!res.body.includes(other.email) && !res.body.includes(other.user.id), 'nothing of another user')
  })

  test('a token alone, without a recent sign-in, can neither export nor delete', async () => {
    const me = await register(t.app)
    t.clock.advance(PAST_RECENT_AUTH_MS)
    for (const res of [await exportOf(me.accessToken), await deleteMe(me.accessToken)]) {
      assert.equal(res.statusCode, 403, res.body)
      assert.equal(res.json().code, 'reauthentication_required')
    }
    const profile = await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(me.accessToken) })
    assert.equal(profile.statusCode, 200, 'the account is still there')
  })

  test('deleting my account ends every session and sign-in at once; its history stays', async () => {
    const me = await register(t.app)
    const other = await register(t.app)
    const second = (await login(t.app, me.email, me.password)).json()

    const res = await deleteMe(me.accessToken)
    assert.equal(res.statusCode, 204, res.body)

    await assertSignedOut(t.app, [me.accessToken, second.accessToken], second.refreshToken)
    assert.equal((await login(t.app, me.email, me.password)).json().code, 'invalid_credentials')
    const otherProfile = await t.app.inject({
      method: 'GET',
      url: '/v1/me',
      headers: bearer(other.accessToken),
    })
    assert.equal(otherProfile.statusCode, 200, 'another account is untouched')

    const history = await t.database.db
      .selectFrom('audit_events')
      .select('type')
      .where('account_id', '=', me.user.id)
      .execute()
    assert.ok(history.some((e) => e.type === 'account.deleted'))
    assert.ok(
      history.some((e) => e.type === 'account.registered'),
      'older events stay',
    )
  })
})

describe('my data: what I allowed OpenID Connect clients', () => {
  let t: OidcTestServer
  before(async () => {
    t = await startOidcServer()
  })
  after(() => t.close())

  test('the export lists the grant a sign-in through the hosted pages gave the client', async () => {
    const rp = await createRelyingParty(t, {
      client_name: 'Portal',
      redirect_uris: ['http://127.0.0.1:8125/cb'],
    })
    const me = await register(t.app)
    await signInThroughPages(
      browser(t.issuer),
      rp,
      { email: me.email, password: me.password },
      { scope: 'openid email' },
    )

    const res = await t.app.inject({ method: 'GET', url: '/v1/me/export', headers: bearer(me.accessToken) })
    assert.equal(res.statusCode, 200, res.body)
    const { grants } = res.json() as AccountExport
    assert.equal(grants.length, 1)
    assert.equal(grants[0]!.clientId, rp.clientId)
    assert.deepEqual(grants[0]!.scope.split(' ').sort(), ['email', 'openid'])
  })
})
