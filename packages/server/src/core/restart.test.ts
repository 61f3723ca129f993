import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { bearer, login, register } from '../../test/factories.ts'
import { buildTestApp } from '../../test/harness.ts'
import { createSharedDatabase, type SharedDatabase } from '../../test/shared-database.ts'
import { manualClock } from './clock.ts'
import { migrate, SchemaTooNewError } from './db.ts'

describe('restart', () => {
  let shared: SharedDatabase
  before(async () => {
    shared = await createSharedDatabase()
  })
  after(() => shared.drop())

  test('tokens, sessions and signing keys survive a restart', async () => {
    const clock = manualClock(Date.parse('2026-01-01T00:00:00Z'))
    const first = await buildTestApp({ testDatabase: shared.open(), dataDir: shared.dataDir, clock })
    const user = await register(first.app)
    const jwksBefore = (await first.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json()
    assert.equal(jwksBefore.keys.length, 1)
    await first.close()

    clock.advance(60_000) // the restart takes a minute; tokens are still within their lifetime
    const second = await buildTestApp({ testDatabase: shared.open(), dataDir: shared.dataDir, clock })
    try {
      const jwksAfter = (await second.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json()
      assert.deepEqual(jwksAfter, jwksBefore, 'the same signing key, not a fresh one')

      const me = await second.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(user.accessToken) })
      assert.equal(me.statusCode, 200, me.body)
      assert.equal(me.json().email, user.email)

      const refreshed = await second.app.inject({
        method: 'POST',
        url: '/v1/auth/refresh',
        payload: { refreshToken: user.refreshToken },
      })
      assert.equal(refreshed.statusCode, 200, refreshed.body)
      assert.notEqual(refreshed.json().refreshToken, user.refreshToken, 'the refresh token rotated')
      const reused = await second.app.inject({
        method: 'POST',
        url: '/v1/auth/refresh',
        payload: { refreshToken: user.refreshToken },
      })
      assert.equal(reused.statusCode, 401, 'the rotated-out token stays dead across the restart')

      const again = await login(second.app, user.email, user.password)
      assert.equal(again.statusCode, 200, again.body)
      const fresh = await second.app.inject({
        method: 'GET',
        url: '/v1/me',
        headers: bearer(again.json().accessToken),
      })
      assert.equal(fresh.statusCode, 200)
    } finally {
      await second.close()
    }
  })
})

describe('schema newer than code', () => {
  let shared: SharedDatabase
  before(async () => {
    shared = await createSharedDatabase()
  })
  after(() => shared.drop())

  test('an unknown applied migration stops startup with an upgrade message', async () => {
    const setup = shared.open()
    await migrate(setup.database.db)
    await setup.database.db
      .insertInto('kysely_migration')
      .values({ name: '9999-from-a-newer-tessera', timestamp: new Date().toISOString() })
      .execute()
    await setup.database.close()

    const attempt = shared.open()
    try {
      await assert.rejects(buildTestApp({ testDatabase: attempt, dataDir: shared.dataDir }), (err: Error) => {
        assert.ok(err instanceof SchemaTooNewError, `${err.name}: ${err.message}`)
        assert.match(err.message, /9999-from-a-newer-tessera/)
        assert.match(err.message, /upgrade Tessera/)
        return true
      })
    } finally {
      await attempt.database.close()
    }

    // Nothing was changed: the newer version's record is still there for it.
    const check = shared.open()
    try {
      await assert.rejects(migrate(check.database.db), SchemaTooNewError)
      const names = await check.database.db.selectFrom('kysely_migration').select('name').execute()
      assert.ok(names.some((r) => r.name === '9999-from-a-newer-tessera'))
    } finally {
      await check.database.close()
    }
  })
})
