import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { decodeJwt } from 'jose'
import { bearer, totpCode as codeAt, enrolTotp, login, register } from '../../test/factories.ts'
import { buildTestApp, type TestApp } from '../../test/harness.ts'
import { mailTo } from '../../test/mail.ts'

const STEP_MS = 30_000

describe('MFA: TOTP enrolment, login with a second factor, backup codes', () => {
  let t: TestApp
  before(async () => {
    t = await buildTestApp()
  })
  after(() => t.close())

  test('enrolment returns a secret, an otpauth URI and a QR code, and activates with a code', async () => {
    const user = await register(t.app)
    const start = await t.app.inject({
      method: 'POST',
      url: '/v1/me/mfa/totp',
      headers: bearer(user.accessToken),
    })
    const body = start.json()
    assert.match(body.secret, /^[A-Z2-7]{32}$/)
    assert.match(body.uri, /^otpauth:\/\/totp\/Tessera:.+\?.*secret=/)
    assert.match(body.qrCode, /^data:image\/svg\+xml;base64,/)

    const wrong = await t.app.inject({
      method: 'POST',
      url: '/v1/me/mfa/totp/verify',
      headers: bearer(user.accessToken),
      payload: { code: codeAt(body.secret, t.clock.now() + 5 * STEP_MS) },
    })
    assert.equal(wrong.statusCode, 400)
    assert.equal(wrong.json().code, 'invalid_mfa_code')

    const ok = await t.app.inject({
      method: 'POST',
      url: '/v1/me/mfa/totp/verify',
      headers: bearer(user.accessToken),
      payload: { code: codeAt(body.secret, t.clock.now()) },
    })
    assert.equal(ok.statusCode, 200, ok.body)
    assert.equal(ok.json().backupCodes.length, 10)
    assert.equal(new Set(ok.json().backupCodes).size, 10)

    const status = await t.app.inject({ method: 'GET', url: '/v1/me/mfa', headers: bearer(user.accessToken) })
    assert.equal(status.json().enabled, true)
    assert.equal(status.json().methods[0].type, 'totp')
    assert.equal(status.json().backupCodesRemaining, 10)
  })

  test('login with an active factor issues no tokens until the second step; amr records both', async () => {
    const user = await register(t.app)
    const { secret } = await enrolTotp(t, user.accessToken)
    t.clock.advance(STEP_MS)

    const first = await login(t.app, user.email, user.password)
    assert.equal(first.statusCode, 200)
    const step = first.json()
    assert.equal(step.mfaRequired, true)
    assert.deepEqual(step.methods, ['totp', 'backup_code'])
    assert.equal(step.accessToken, undefined)
    assert.equal(step.refreshToken, undefined)

    const done = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/mfa',
      payload: { mfaToken: step.mfaToken, method: 'totp', code: codeAt(secret, t.clock.now()) },
    })
    assert.equal(done.statusCode, 200, done.body)
    assert.deepEqual(decodeJwt(done.json().accessToken).amr, ['pwd', 'otp', 'mfa'])

    const again = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/mfa',
      payload: { mfaToken: step.mfaToken, method: 'totp', code: codeAt(secret, t.clock.now() + STEP_MS) },
    })
    assert.equal(again.statusCode, 401, 'an mfaToken is single use')
    assert.equal(again.json().code, 'invalid_mfa_token')
  })

  test('TOTP accepts one step of drift either way and nothing further', async () => {
    const user = await register(t.app)
    const { secret } = await enrolTotp(t, user.accessToken)
    t.clock.advance(10 * STEP_MS)
    const tryCode = async (offsetSteps: number) => {
      const { mfaToken } = (await login(t.app, user.email, user.password)).json()
      return t.app.inject({
        method: 'POST',
        url: '/v1/auth/mfa',
        payload: { mfaToken, method: 'totp', code: codeAt(secret, t.clock.now() + offsetSteps * STEP_MS) },
      })
    }
    assert.equal((await tryCode(-2)).statusCode, 400)
    assert.equal((await tryCode(2)).statusCode, 400)
    assert.equal((await tryCode(-1)).statusCode, 200)
    assert.equal((await tryCode(1)).statusCode, 200)
  })

  test('a backup code works once and the count goes down', async () => {
    const user = await register(t.app)
    const { backupCodes } = await enrolTotp(t, user.accessToken)
    const use = async (code: string) => {
      const { mfaToken } = (await login(t.app, user.email, user.password)).json()
      return t.app.inject({
        method: 'POST',
        url: '/v1/auth/mfa',
        payload: { mfaToken, method: 'backup_code', code },
      })
    }
    const typed = backupCodes[0]!.toUpperCase().replace('-', ' ')
    const ok = await use(typed)
    assert.equal(ok.statusCode, 200, ok.body)
    const status = await t.app.inject({
      method: 'GET',
      url: '/v1/me/mfa',
      headers: bearer(ok.json().accessToken),
    })
    assert.equal(status.json().backupCodesRemaining, 9)
  })

  test('managing factors needs a recent re-authentication', async () => {
    const user = await register(t.app)
    await enrolTotp(t, user.accessToken)
    const status = await t.app.inject({ method: 'GET', url: '/v1/me/mfa', headers: bearer(user.accessToken) })
    const factorId = status.json().methods[0].id
    t.clock.advance(6 * 60_000)
    // a fresh access token for the same (old) session
    const refreshed = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/refresh',
      payload: { refreshToken: user.refreshToken },
    })
    const token = refreshed.json().accessToken as string

    for (const [method, url] of [
      ['DELETE', `/v1/me/mfa/factors/${factorId}`],
      ['DELETE', '/v1/me/mfa'],
      ['POST', '/v1/me/mfa/backup-codes'],
    ] as const) {
      const res = await t.app.inject({ method, url, headers: bearer(token) })
      assert.equal(res.statusCode, 403, url)
      assert.equal(res.json().code, 'reauthentication_required')
    }

    const wrong = await t.app.inject({
      method: 'POST',
      url: '/v1/me/reauthenticate',
      headers: bearer(token),
      payload: { password: 'not my password at all' },
    })
    assert.equal(wrong.statusCode, 401)
    const reauth = await t.app.inject({
      method: 'POST',
      url: '/v1/me/reauthenticate',
      headers: bearer(token),
      payload: { password: user.password },
    })
    assert.equal(reauth.statusCode, 204, reauth.body)

    const regenerated = await t.app.inject({
      method: 'POST',
      url: '/v1/me/mfa/backup-codes',
      headers: bearer(token),
    })
    assert.equal(regenerated.statusCode, 200)
    assert.equal(regenerated.json().backupCodes.length, 10)

    const removed = await t.app.inject({
      method: 'DELETE',
      url: `/v1/me/mfa/factors/${factorId}`,
      headers: bearer(token),
    })
    assert.equal(removed.statusCode, 204)
    const after = await t.app.inject({ method: 'GET', url: '/v1/me/mfa', headers: bearer(token) })
    assert.deepEqual(after.json(), { enabled: false, methods: [], backupCodesRemaining: 0 })
    const plain = await login(t.app, user.email, user.password)
    assert.ok(plain.json().accessToken, 'without factors, login needs only the password')

    await t.mailer.idle()
    const subjects = (await mailTo(t.dataDir, user.email)).map((m) => m.subject)
    assert.ok(
      subjects.includes('A new sign-in method was added to your Tessera account'),
      'factor added: mailed',
    )
    assert.ok(
      subjects.includes('Multi-factor authentication was turned off for your Tessera account'),
      'last factor removed: mailed',
    )

    const audit = await t.database.db
      .selectFrom('audit_events')
      .select('type')
      .where('account_id', '=', user.user.id)
      .execute()
    const types = audit.map((a) => a.type)
    for (const type of [
      'mfa.factor_added',
      'reauthenticated',
      'mfa.backup_codes_regenerated',
      'mfa.factor_removed',
    ]) {
      assert.ok(types.includes(type), type)
    }
  })
})
