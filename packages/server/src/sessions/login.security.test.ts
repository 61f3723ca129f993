import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type { LightMyRequestResponse } from 'fastify'
import { bearer, login, register, uniqueEmail } from '../../test/factories.ts'
import { buildTestApp, fastHasher, type TestApp } from '../../test/harness.ts'
import type { PasswordHasher } from '../passwords/hasher.ts'

const WRONG = 'not the right password'

/** Headers a client or an attacker could tell apart (the request id differs by design). */
function visibleHeaders(res: LightMyRequestResponse) {
  const { 'x-request-id': _id, date: _date, ...rest } = res.headers
  return rest
}

/** The fast hasher, counting every password verification (real or dummy). */
function countingHasher() {
  const counts = { verify: 0, verifyDummy: 0 }
  const hasher: PasswordHasher = {
    hash: (password) => fastHasher.hash(password),
    needsRehash: (hashed) => fastHasher.needsRehash(hashed),
    verify: (hashed, password) => {
      counts.verify += 1
      return fastHasher.verify(hashed, password)
    },
    verifyDummy: (password) => {
      counts.verifyDummy += 1
      return fastHasher.verifyDummy(password)
    },
  }
  return { hasher, counts }
}

describe('account enumeration', () => {
  let t: TestApp
  const { hasher, counts } = countingHasher()
  before(async () => {
    t = await buildTestApp({ hasher })
  })
  after(() => t.close())

  test('an unknown email and a wrong password get byte-identical answers', async () => {
    const { email } = await register(t.app)
    const wrongPassword = await login(t.app, email, WRONG, '203.0.113.20')
    const unknownEmail = await login(t.app, uniqueEmail('nobody'), WRONG, '203.0.113.21')
    assert.equal(wrongPassword.statusCode, 401)
    assert.equal(unknownEmail.statusCode, wrongPassword.statusCode)
    assert.equal(unknownEmail.headers['content-type'], wrongPassword.headers['content-type'])
    assert.deepEqual(visibleHeaders(unknownEmail), visibleHeaders(wrongPassword))
    assert.equal(unknownEmail.body, wrongPassword.body)
    assert.equal(wrongPassword.json().code, 'invalid_credentials')
  })

  test('an unknown email still costs a full password verification', async () => {
    const { email } = await register(t.app)
    const before = { ...counts }
    assert.equal((await login(t.app, uniqueEmail('ghost'), WRONG)).statusCode, 401)
    assert.equal(counts.verifyDummy - before.verifyDummy, 1, 'a dummy argon2 verify runs for unknown emails')
    assert.equal(counts.verify, before.verify)

    assert.equal((await login(t.app, email, WRONG)).statusCode, 401)
    assert.equal(counts.verify - before.verify, 1, 'a real verify runs for known emails')
    assert.equal(counts.verifyDummy - before.verifyDummy, 1)
  })
})

describe('brute force lockout', () => {
  const MAX_FAILURES = 3
  let t: TestApp
  before(async () => {
    t = await buildTestApp({
      config: { loginMaxFailures: MAX_FAILURES, lockoutSeconds: 1, authRateLimitPerMinute: 10_000 },
    })
  })
  after(() => t.close())

  async function failTimes(email: string, n: number) {
    for (let i = 0; i < n; i += 1) {
      const res = await login(t.app, email, `${WRONG} ${i}`)
      assert.equal(res.statusCode, 401, `failure ${i + 1} is a plain 401`)
      assert.equal(res.json().code, 'invalid_credentials')
    }
  }

  function assertLocked(res: LightMyRequestResponse, seconds: number) {
    assert.equal(res.statusCode, 429, res.body)
    assert.equal(res.json().code, 'account_locked')
    assert.equal(res.headers['retry-after'], String(seconds))
    assert.equal(res.json().accessToken, undefined)
  }

  test('locks after loginMaxFailures, even for the right password; lifts after Retry-After; the next lock doubles', async () => {
    const { email, password, user } = await register(t.app)
    await failTimes(email, MAX_FAILURES - 1)
    assert.equal(
      (await login(t.app, email, password)).statusCode,
      200,
      'below the limit the right password works',
    )

    await failTimes(email, MAX_FAILURES)
    assertLocked(await login(t.app, email, password), 1)
    assertLocked(await login(t.app, email, WRONG), 1)

    await sleep(1100)
    const unlocked = await login(t.app, email, password)
    assert.equal(unlocked.statusCode, 200, unlocked.body)

    await failTimes(email, MAX_FAILURES)
    assertLocked(await login(t.app, email, password), 2)
    await sleep(1100)
    assertLocked(await login(t.app, email, password), 1) // a first-length lock would have lifted by now

    const locked = await t.database.db
      .selectFrom('audit_events')
      .select(['data'])
      .where('account_id', '=', user.id)
      .where('type', '=', 'login.locked')
      .orderBy('occurred_at')
      .orderBy('id')
      .execute()
    assert.deepEqual(
      locked.map((r) => JSON.parse(r.data)),
      [
        { seconds: 1, lockNumber: 1 },
        { seconds: 2, lockNumber: 2 },
      ],
    )
  })

  test('unknown emails lock exactly like real ones', async () => {
    const { email: real, password } = await register(t.app)
    const unknown = uniqueEmail('nobody')
    await failTimes(real, MAX_FAILURES)
    await failTimes(unknown, MAX_FAILURES)
    const realLocked = await login(t.app, real, password)
    const unknownLocked = await login(t.app, unknown, password)
    assertLocked(realLocked, 1)
    assertLocked(unknownLocked, 1)
    assert.deepEqual(visibleHeaders(unknownLocked), visibleHeaders(realLocked))
    assert.equal(unknownLocked.body, realLocked.body)
  })

  test('the lock follows the account, whatever the case or spacing of the email', async () => {
    const { email, password } = await register(t.app)
    await failTimes(email.toUpperCase(), MAX_FAILURES)
    assertLocked(await login(t.app, ` ${email} `, password), 1)
  })
})

describe('per-IP rate limit', () => {
  const LIMIT = 3
  let t: TestApp
  before(async () => {
    t = await buildTestApp({ config: { authRateLimitPerMinute: LIMIT } })
  })
  after(() => t.close())

  function assertRateLimited(res: LightMyRequestResponse) {
    assert.equal(res.statusCode, 429, res.body)
    assert.equal(res.json().code, 'rate_limited')
    const retryAfter = Number(res.headers['retry-after'])
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${res.headers['retry-after']}`)
  }

  test('login: the request over the limit is 429 rate_limited; another IP is not limited', async () => {
    const { email, password } = await register(t.app, {}, '192.0.2.100')
    const ip = '192.0.2.1'
    for (let i = 0; i < LIMIT; i += 1) {
      assert.equal((await login(t.app, uniqueEmail(), WRONG, ip)).statusCode, 401)
    }
    assertRateLimited(await login(t.app, email, password, ip))
    assert.equal((await login(t.app, email, password, '192.0.2.2')).statusCode, 200)
  })

  test('register: the request over the limit is 429 rate_limited; another IP is not limited', async () => {
    const ip = '192.0.2.11'
    for (let i = 0; i < LIMIT; i += 1) await register(t.app, {}, ip)
    const email = uniqueEmail()
    const payload = { email, password: 'a perfectly fine password' }
    const limited = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/register',
      payload,
      remoteAddress: ip,
    })
    assertRateLimited(limited)
    const elsewhere = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/register',
      payload,
      remoteAddress: '192.0.2.12',
    })
    assert.equal(elsewhere.statusCode, 201, 'the limited attempt created nothing')
  })

  test('refresh: the request over the limit is 429 rate_limited; another IP is not limited', async () => {
    const { refreshToken } = await register(t.app, {}, '192.0.2.101')
    const ip = '192.0.2.21'
    const refresh = (token: string, remoteAddress: string) =>
      t.app.inject({
        method: 'POST',
        url: '/v1/auth/refresh',
        payload: { refreshToken: token },
        remoteAddress,
      })
    for (let i = 0; i < LIMIT; i += 1) assert.equal((await refresh(`guess-${i}`, ip)).statusCode, 401)
    assertRateLimited(await refresh(refreshToken, ip))
    assert.equal(
      (await refresh(refreshToken, '192.0.2.22')).statusCode,
      200,
      'the limited attempt used nothing',
    )
  })
})

describe('brute force lockout: concurrency and every password check', () => {
  const MAX_FAILURES = 5
  let t: TestApp
  before(async () => {
    t = await buildTestApp({ config: { loginMaxFailures: MAX_FAILURES, authRateLimitPerMinute: 10_000 } })
  })
  after(() => t.close())

  test('concurrent wrong passwords get no more guesses than the budget', async () => {
    const { email } = await register(t.app)
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) => login(t.app, email, `wrong password number ${i}`)),
    )
    const statuses = answers.map((a) => a.statusCode)
    assert.equal(statuses.filter((s) => s === 401).length, MAX_FAILURES, String(statuses))
    assert.equal(statuses.filter((s) => s === 429).length, 30 - MAX_FAILURES)
  })

  test('the right password among concurrent guesses does not lift the lock for the others', async () => {
    const { email, password } = await register(t.app)
    const answers = await Promise.all([
      ...Array.from({ length: 12 }, (_, i) => login(t.app, email, `wrong password number ${i}`)),
      login(t.app, email, password),
    ])
    const guesses = answers.slice(0, 12).map((a) => a.statusCode)
    assert.ok(guesses.filter((s) => s === 401).length <= MAX_FAILURES, String(guesses))
  })

  test('changing the password: guessing the current one locks the account too', async () => {
    const user = await register(t.app)
    const change = (currentPassword: string) =>
      t.app.inject({
        method: 'POST',
        url: '/v1/me/password',
        headers: bearer(user.accessToken),
        payload: { currentPassword, newPassword: 'a brand new passphrase' },
      })
    for (let i = 0; i < MAX_FAILURES; i++) assert.equal((await change(`guess ${i}`)).statusCode, 403)
    const locked = await change(user.password)
    assert.equal(locked.statusCode, 429, 'even the right current password waits for the lock')
    assert.equal(locked.json().code, 'account_locked')
    assert.equal((await login(t.app, user.email, user.password)).statusCode, 429, 'one lock for every path')
  })

  test('changing the email: guessing the password locks the account too', async () => {
    const user = await register(t.app)
    for (let i = 0; i < MAX_FAILURES; i++) {
      await t.app.inject({
        method: 'POST',
        url: '/v1/me/email',
        headers: bearer(user.accessToken),
        payload: { newEmail: uniqueEmail('new'), password: `guess ${i}` },
      })
    }
    assert.equal((await login(t.app, user.email, user.password)).statusCode, 429)
  })
})
