import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { bearer, totpCode as codeAt, enrolTotp, login, register } from '../../test/factories.ts'
import { buildTestApp, type TestApp } from '../../test/harness.ts'

describe('MFA attacks', () => {
  let t: TestApp
  before(async () => {
    t = await buildTestApp()
  })
  after(() => t.close())

  async function mfaUser() {
    const user = await register(t.app)
    const enrolled = await enrolTotp(t, user.accessToken)
    t.clock.advance(30_000)
    return { ...user, ...enrolled }
  }

  async function mfaStep(user: { email: string; password: string }, body: Record<string, unknown>) {
    const { mfaToken } = (await login(t.app, user.email, user.password)).json()
    return t.app.inject({ method: 'POST', url: '/v1/auth/mfa', payload: { mfaToken, ...body } })
  }

  test('replayed TOTP code: a code accepted once is refused the second time', async () => {
    const user = await mfaUser()
    const code = codeAt(user.secret, t.clock.now())
    assert.equal((await mfaStep(user, { method: 'totp', code })).statusCode, 200)
    const replay = await mfaStep(user, { method: 'totp', code })
    assert.equal(replay.statusCode, 400)
    assert.equal(replay.json().code, 'invalid_mfa_code')
    const older = await mfaStep(user, { method: 'totp', code: codeAt(user.secret, t.clock.now() - 30_000) })
    assert.equal(older.statusCode, 400, 'a code from an earlier step than one already used is a replay too')
  })

  test('reused backup code is refused', async () => {
    const user = await mfaUser()
    const code = user.backupCodes[3]!
    assert.equal((await mfaStep(user, { method: 'backup_code', code })).statusCode, 200)
    const reuse = await mfaStep(user, { method: 'backup_code', code })
    assert.equal(reuse.statusCode, 400)
    assert.equal(reuse.json().code, 'invalid_mfa_code')
  })

  test('brute force of MFA codes: the mfaToken dies after 5 wrong codes', async () => {
    const user = await mfaUser()
    const { mfaToken } = (await login(t.app, user.email, user.password)).json()
    const attempt = (code: string) =>
      t.app.inject({ method: 'POST', url: '/v1/auth/mfa', payload: { mfaToken, method: 'totp', code } })
    for (let i = 0; i < 4; i++) assert.equal((await attempt('000000')).json().code, 'invalid_mfa_code')
    assert.equal(
      (await attempt('000000')).json().code,
      'invalid_mfa_token',
      'the fifth wrong code kills the token',
    )
    const right = await attempt(codeAt(user.secret, t.clock.now()))
    assert.equal(right.statusCode, 401)
    assert.equal(right.json().code, 'invalid_mfa_token')
  })

  test('brute force of MFA codes across fresh mfaTokens hits the per-account limit', async () => {
    const user = await mfaUser()
    let last = await mfaStep(user, { method: 'totp', code: '000000' })
    for (let i = 0; i < 10 && last.statusCode !== 429; i++)
      last = await mfaStep(user, { method: 'totp', code: '000000' })
    assert.equal(last.statusCode, 429)
    assert.equal(last.json().code, 'too_many_mfa_attempts')
    assert.ok(Number(last.headers['retry-after']) > 0)
    const right = await mfaStep(user, { method: 'totp', code: codeAt(user.secret, t.clock.now()) })
    assert.equal(right.statusCode, 429, 'even the right code waits until the limit lifts')
  })

  test('an expired mfaToken is refused', async () => {
    const user = await mfaUser()
    const { mfaToken } = (await login(t.app, user.email, user.password)).json()
    t.clock.advance(5 * 60_000 + 1)
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/mfa',
      payload: { mfaToken, method: 'totp', code: codeAt(user.secret, t.clock.now()) },
    })
    assert.equal(res.statusCode, 401)
    assert.equal(res.json().code, 'invalid_mfa_token')
  })

  test('an mfaToken is not an access token, and an access token is not an mfaToken', async () => {
    const user = await mfaUser()
    const { mfaToken } = (await login(t.app, user.email, user.password)).json()
    const asAccess = await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(mfaToken) })
    assert.equal(asAccess.statusCode, 401)
    const asMfa = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/mfa',
      payload: { mfaToken: user.accessToken, method: 'totp', code: codeAt(user.secret, t.clock.now()) },
    })
    assert.equal(asMfa.statusCode, 401)
    assert.equal(asMfa.json().code, 'invalid_mfa_token')
  })

  test('factor deletion without re-authentication is refused, and other users cannot touch my factors', async () => {
    const owner = await mfaUser()
    const status = await t.app.inject({
      method: 'GET',
      url: '/v1/me/mfa',
      headers: bearer(owner.accessToken),
    })
    const factorId = status.json().methods[0].id
    const intruder = await register(t.app)
    const foreign = await t.app.inject({
      method: 'DELETE',
      url: `/v1/me/mfa/factors/${factorId}`,
      headers: bearer(intruder.accessToken),
    })
    assert.equal(foreign.statusCode, 404)
    t.clock.advance(5 * 60_000)
    const stale = await t.app.inject({
      method: 'DELETE',
      url: `/v1/me/mfa/factors/${factorId}`,
      headers: bearer(owner.accessToken),
    })
    assert.equal(stale.statusCode, 403)
    assert.equal(stale.json().code, 'reauthentication_required')
    const still = await t.app.inject({ method: 'GET', url: '/v1/me/mfa', headers: bearer(owner.accessToken) })
    assert.equal(still.json().enabled, true)
  })
})

describe('planting a factor with a stolen access token', () => {
  let t: TestApp
  before(async () => {
    t = await buildTestApp()
  })
  after(() => t.close())

  test('adding TOTP needs a recent sign-in or re-authentication, not just a valid token', async () => {
    const user = await register(t.app)
    t.clock.advance(6 * 60_000)
    const stolen = (
      await t.app.inject({
        method: 'POST',
        url: '/v1/auth/refresh',
        payload: { refreshToken: user.refreshToken },
      })
    ).json().accessToken as string
    for (const url of ['/v1/me/mfa/totp', '/v1/me/mfa/totp/verify']) {
      const res = await t.app.inject({
        method: 'POST',
        url,
        headers: bearer(stolen),
        payload: url.endsWith('verify') ? { code: '123456' } : undefined,
      })
      assert.equal(res.statusCode, 403, url)
      assert.equal(res.json().code, 'reauthentication_required')
    }
    const status = await t.app.inject({ method: 'GET', url: '/v1/me/mfa', headers: bearer(stolen) })
    assert.equal(status.json().enabled, false)
  })
})
