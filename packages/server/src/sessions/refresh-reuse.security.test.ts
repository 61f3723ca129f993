import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { decodeJwt } from 'jose'
import { bearer, register } from '../../test/factories.ts'
import { buildTestApp, type TestApp } from '../../test/harness.ts'

describe('refresh token reuse', () => {
  let t: TestApp
  before(async () => {
    t = await buildTestApp({ config: { authRateLimitPerMinute: 10_000 } })
  })
  after(() => t.close())

  const refresh = (refreshToken: string) =>
    t.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken } })
  const me = (accessToken: string) =>
    t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(accessToken) })

  async function reuseCount(): Promise<number> {
    const res = await t.app.inject({ method: 'GET', url: '/metrics' })
    assert.equal(res.statusCode, 200)
    const match = /^tessera_refresh_token_reuse_total (\d+)$/m.exec(res.body)
    assert.ok(match, 'the reuse counter is exported')
    return Number(match[1])
  }

  test('presenting a rotated refresh token again kills the whole family', async () => {
    const { refreshToken: stolen, accessToken: firstAccess, user } = await register(t.app)
    const reusesBefore = await reuseCount()

    const rotated = await refresh(stolen)
    assert.equal(rotated.statusCode, 200, rotated.body)
    const { refreshToken: current, accessToken: currentAccess } = rotated.json()
    assert.notEqual(current, stolen)
    assert.equal((await me(currentAccess)).statusCode, 200)

    const replay = await refresh(stolen)
    assert.equal(replay.statusCode, 401, replay.body)
    assert.equal(replay.json().code, 'refresh_token_reused')

    const next = await refresh(current)
    assert.equal(next.statusCode, 401, 'the newest refresh token of the family is dead too')
    assert.equal(next.json().code, 'invalid_refresh_token')
    for (const accessToken of [currentAccess, firstAccess]) {
      const res = await me(accessToken)
      assert.equal(res.statusCode, 401, 'access tokens of the family are dead at once')
      assert.equal(res.json().code, 'session_ended')
    }

    const audit = await t.database.db
      .selectFrom('audit_events')
      .selectAll()
      .where('account_id', '=', user.id)
      .where('type', '=', 'refresh_token.reused')
      .execute()
    assert.equal(audit.length, 1)
    assert.equal(audit[0]!.session_id, decodeJwt(firstAccess).sid)
    assert.equal(await reuseCount(), reusesBefore + 1)
  })

  test('a replayed token keeps failing, and never revives the session', async () => {
    const { refreshToken: stolen } = await register(t.app)
    const rotated = await refresh(stolen)
    assert.equal(rotated.statusCode, 200)
    assert.equal((await refresh(stolen)).json().code, 'refresh_token_reused')
    for (const token of [stolen, rotated.json().refreshToken, stolen]) {
      const res = await refresh(token)
      assert.equal(res.statusCode, 401)
      assert.equal(res.json().code, 'invalid_refresh_token', 'the session has ended')
    }
  })

  test('other sessions of the same account survive a reuse', async () => {
    const { email, password, refreshToken: stolen } = await register(t.app)
    const other = await t.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password } })
    assert.equal((await refresh(stolen)).statusCode, 200)
    assert.equal((await refresh(stolen)).statusCode, 401)
    assert.equal((await me(other.json().accessToken)).statusCode, 200)
    assert.equal((await refresh(other.json().refreshToken)).statusCode, 200)
  })
})

describe('concurrent refresh race', () => {
  let t: TestApp
  before(async () => {
    t = await buildTestApp({ config: { authRateLimitPerMinute: 10_000 } })
  })
  after(() => t.close())

  for (const parallel of [2, 5]) {
    test(`${parallel} refreshes with the same token at once: exactly one succeeds`, async () => {
      for (let round = 0; round < 5; round += 1) {
        const { refreshToken } = await register(t.app)
        const results = await Promise.all(
          Array.from({ length: parallel }, () =>
            t.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken } }),
          ),
        )
        const statuses = results.map((r) => r.statusCode).sort()
        assert.deepEqual(statuses, [200, ...Array(parallel - 1).fill(401)], `round ${round}: ${statuses}`)
        // A loser that arrives after another loser has already ended the session finds it ended.
        for (const r of results.filter((r) => r.statusCode === 401)) {
          assert.ok(['refresh_token_reused', 'invalid_refresh_token'].includes(r.json().code), r.body)
        }
        const codes = results.filter((r) => r.statusCode === 401).map((r) => r.json().code)
        assert.ok(codes.includes('refresh_token_reused'), 'the race itself is detected as reuse')
      }
    })
  }
})

describe('forged refresh tokens', () => {
  let t: TestApp
  before(async () => {
    t = await buildTestApp({ config: { authRateLimitPerMinute: 10_000 } })
  })
  after(() => t.close())

  const refresh = (refreshToken: string) =>
    t.app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken } })

  test('the right id with a wrong secret is rejected and does not revoke the family', async () => {
    const { refreshToken } = await register(t.app)
    const [id, secret] = refreshToken.split('.') as [string, string]
    const flipped = `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`
    for (const forged of [`${id}.${'A'.repeat(43)}`, `${id}.${flipped}`, `${id}.${secret}x`]) {
      const res = await refresh(forged)
      assert.equal(res.statusCode, 401, forged)
      assert.equal(res.json().code, 'invalid_refresh_token')
    }
    const real = await refresh(refreshToken)
    assert.equal(real.statusCode, 200, 'a forgery must not let an attacker end my session')
  })

  test('a forged secret for an already rotated id is not treated as reuse', async () => {
    const { refreshToken: first } = await register(t.app)
    const rotated = await refresh(first)
    assert.equal(rotated.statusCode, 200)
    const [usedId] = first.split('.') as [string]
    const res = await refresh(`${usedId}.${'B'.repeat(43)}`)
    assert.equal(res.statusCode, 401)
    assert.equal(res.json().code, 'invalid_refresh_token')
    assert.equal((await refresh(rotated.json().refreshToken)).statusCode, 200, 'the family lives on')
  })

  test('garbage refresh tokens are 401 invalid_refresh_token', async () => {
    const garbage = [
      'x',
      '.',
      'not-a-token',
      `${randomUUID()}.${'A'.repeat(43)}`,
      `${randomUUID()}`,
      `${randomUUID()}.short`,
      `.${'A'.repeat(43)}`,
      `' OR 1=1 --.${'A'.repeat(43)}`,
      'eyJhbGciOiJub25lIn0.e30.',
      'x'.repeat(200),
    ]
    for (const refreshToken of garbage) {
      const res = await refresh(refreshToken)
      assert.equal(res.statusCode, 401, refreshToken)
      assert.equal(res.json().code, 'invalid_refresh_token', refreshToken)
    }
    const tooLong = await refresh('x'.repeat(201))
    assert.equal(tooLong.statusCode, 400)
    assert.equal(tooLong.json().code, 'validation_failed')
  })
})
