import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { bearer, login, register, STRONG_PASSWORD, uniqueEmail } from '../../test/factories.ts'
import { buildTestApp, type TestApp } from '../../test/harness.ts'

const PRIVILEGED_ID = '01900000-0000-7000-8000-000000000001'

function pointers(body: { errors?: Array<{ pointer: string }> }): string[] {
  return (body.errors ?? []).map((e) => e.pointer)
}

describe('mass assignment', () => {
  let t: TestApp
  before(async () => {
    t = await buildTestApp({ config: { authRateLimitPerMinute: 10_000 } })
  })
  after(() => t.close())

  const registerWith = (payload: Record<string, unknown>) =>
    t.app.inject({ method: 'POST', url: '/v1/auth/register', payload })

  test('register refuses fields a user may not set, and creates nothing', async () => {
    const extras: Record<string, unknown> = {
      role: 'admin',
      isAdmin: true,
      emailVerified: true,
      id: PRIVILEGED_ID,
    }
    for (const [field, value] of Object.entries(extras)) {
      const email = uniqueEmail('mass')
      const res = await registerWith({ email, password: STRONG_PASSWORD, [field]: value })
      assert.equal(res.statusCode, 400, field)
      assert.equal(res.json().code, 'validation_failed')
      assert.ok(pointers(res.json()).includes(`/body/${field}`), `${field}: ${res.body}`)
      assert.equal(res.json().accessToken, undefined)

      assert.equal((await login(t.app, email, STRONG_PASSWORD)).statusCode, 401, 'no account was created')
      const clean = await registerWith({ email, password: STRONG_PASSWORD })
      assert.equal(clean.statusCode, 201, `${field}: the address is still free`)
      assert.equal(clean.json().user.emailVerified, false)
      assert.notEqual(clean.json().user.id, PRIVILEGED_ID)
    }
  })

  test('every smuggled field is reported at once', async () => {
    const res = await registerWith({
      email: uniqueEmail('mass'),
      password: STRONG_PASSWORD,
      role: 'admin',
      isAdmin: true,
      emailVerified: true,
      id: PRIVILEGED_ID,
    })
    assert.equal(res.statusCode, 400)
    assert.deepEqual(pointers(res.json()).sort(), [
      '/body/emailVerified',
      '/body/id',
      '/body/isAdmin',
      '/body/role',
    ])
  })

  test('PATCH /v1/me refuses non-profile fields and changes nothing', async () => {
    const { accessToken, email, password } = await register(t.app, { name: 'Ada' })
    const profile = async () =>
      (await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(accessToken) })).json()
    const original = await profile()

    const attempts: Record<string, unknown> = {
      email: 'attacker@example.com',
      emailVerified: true,
      passwordHash: '$argon2id$v=19$m=256,t=1,p=1$c29tZXNhbHQ$aGFzaGhhc2hoYXNoaGFzaA',
      id: PRIVILEGED_ID,
      role: 'admin',
    }
    for (const [field, value] of Object.entries(attempts)) {
      for (const payload of [{ [field]: value }, { name: 'Mallory', [field]: value }]) {
        const res = await t.app.inject({
          method: 'PATCH',
          url: '/v1/me',
          headers: bearer(accessToken),
          payload,
        })
        assert.equal(res.statusCode, 400, `${field}: ${res.body}`)
        assert.equal(res.json().code, 'validation_failed')
        assert.ok(pointers(res.json()).includes(`/body/${field}`), `${field}: ${res.body}`)
      }
    }

    assert.deepEqual(await profile(), original, 'not even the valid name was applied')
    assert.equal((await login(t.app, email, password)).statusCode, 200, 'the password is unchanged')
    assert.equal((await login(t.app, 'attacker@example.com', password)).statusCode, 401)
  })
})
