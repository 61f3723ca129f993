import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { decodeProtectedHeader } from 'jose'
import { tessera } from '../../test/cli.ts'
import { bearer, login, register } from '../../test/factories.ts'
import { buildTestApp, TEST_MASTER_KEY, type TestApp } from '../../test/harness.ts'
import { createSharedDatabase, type SharedDatabase } from '../../test/shared-database.ts'
import { manualClock } from '../core/clock.ts'
import { createSecretBox } from '../core/crypto.ts'
import { openDatabase, sqliteFileIn } from '../core/db.ts'
import { listSigningKeys, rotateSigningKeys } from '../tokens/keys.ts'

const ACCESS_TOKEN_TTL = 900
const KEY_RELOAD_INTERVAL = 60
const PUBLISH_WINDOW_MS = (ACCESS_TOKEN_TTL + KEY_RELOAD_INTERVAL) * 1000

describe('tessera CLI', () => {
  let dataDir: string
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'tessera-cli-'))
  })
  after(() => rmSync(dataDir, { recursive: true, force: true }))

  test('--help exits 0; unknown commands and actions exit 2 with usage; bad configuration exits 1', async () => {
    // One after another: each is a whole Node process, and CI machines have few cores.
    const help = await tessera(dataDir, ['--help'])
    const unknown = await tessera(dataDir, ['frobnicate'])
    const noAction = await tessera(dataDir, ['keys'])
    const badConfig = await tessera(dataDir, ['migrate'], {
      env: { TESSERA_PORT: 'eighty', TESSERA_LOG_LEVEL: 'loud' },
    })
    assert.equal(help.code, 0, help.stderr)
    assert.match(help.stdout, /^usage: tessera/)
    for (const command of ['start', 'migrate', 'keys rotate', 'keys list'])
      assert.ok(help.stdout.includes(command))
    assert.equal(unknown.code, 2)
    assert.match(unknown.stderr, /unknown command: frobnicate/)
    assert.match(unknown.stderr, /usage: tessera/)
    assert.equal(noAction.code, 2)
    assert.match(noAction.stderr, /unknown keys action/)
    assert.equal(existsSync(join(dataDir, 'tessera.db')), false, 'a usage error touches no database')

    assert.equal(badConfig.code, 1)
    assert.match(badConfig.stderr, /invalid configuration/)
    assert.match(badConfig.stderr, /port: /)
    assert.match(badConfig.stderr, /logLevel: /, 'every problem is listed')
  })

  test('migrate, keys rotate and keys list manage the SQLite database in the data dir', async () => {
    const migrated = await tessera(dataDir, ['migrate'])
    assert.equal(migrated.code, 0, migrated.stderr)
    assert.match(migrated.stdout, /^applied: 0001-/)

    const first = await tessera(dataDir, ['keys', 'rotate'])
    assert.equal(first.code, 0, first.stderr)
    const second = await tessera(dataDir, ['keys', 'rotate'])
    assert.equal(second.code, 0, second.stderr)
    const newKid = /new signing key (\S+) \(EdDSA\)/.exec(second.stdout)?.[1]
    const oldKid = /new signing key (\S+) \(EdDSA\)/.exec(first.stdout)?.[1]
    assert.ok(newKid && oldKid && newKid !== oldKid, second.stdout)

    const listed = await tessera(dataDir, ['keys', 'list'])
    assert.equal(listed.code, 0, listed.stderr)
    for (const text of [newKid, oldKid, 'active', 'retired']) assert.ok(listed.stdout.includes(text), text)

    const database = openDatabase({ sqliteFile: sqliteFileIn(dataDir) })
    try {
      const keys = await listSigningKeys(database.db, Date.now())
      assert.equal(keys.length, 2)
      const active = keys.find((k) => k.status === 'active')
      const retired = keys.find((k) => k.status === 'retired')
      assert.equal(active?.kid, newKid)
      assert.equal(active?.publishedUntil, null)
      assert.equal(retired?.kid, oldKid)
      // Still published for one access-token lifetime plus one reload interval after rotation.
      const window = Date.parse(retired!.publishedUntil!) - Date.parse(active!.createdAt)
      assert.ok(window >= PUBLISH_WINDOW_MS && window < PUBLISH_WINDOW_MS + 5000, String(window))

      await database.db
        .insertInto('kysely_migration')
        .values({ name: '9999-from-a-newer-tessera', timestamp: new Date().toISOString() })
        .execute()
    } finally {
      await database.close()
    }
    const tooNew = await tessera(dataDir, ['migrate'])
    assert.equal(tooNew.code, 1)
    assert.match(tooNew.stderr, /newer than this version.*upgrade Tessera/s)
  })
})

describe('key rotation across running instances', () => {
  let shared: SharedDatabase
  const apps: TestApp[] = []
  before(async () => {
    shared = await createSharedDatabase()
  })
  after(async () => {
    for (const app of apps) await app.close()
    await shared.drop()
  })

  async function instance(clock: ReturnType<typeof manualClock>): Promise<TestApp> {
    const app = await buildTestApp({
      testDatabase: shared.open(),
      dataDir: shared.dataDir,
      clock,
      config: { accessTokenTtl: ACCESS_TOKEN_TTL, keyReloadInterval: KEY_RELOAD_INTERVAL },
    })
    apps.push(app)
    return app
  }
  const kidOf = (token: string) => decodeProtectedHeader(token).kid
  const jwksKids = async (t: TestApp) =>
    ((await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json().keys as { kid: string }[])
      .map((k) => k.kid)
      .sort()

  test('old tokens keep working through the overlap; new tokens use the new key; the old key then retires', async () => {
    const clock = manualClock(Date.parse('2026-01-01T00:00:00Z'))
    const a = await instance(clock)
    const user = await register(a.app)
    const oldKid = kidOf(user.accessToken)

    const newKid = await rotateSigningKeys({
      db: a.database.db,
      box: createSecretBox(TEST_MASTER_KEY),
      clock,
      alg: 'EdDSA',
      accessTokenTtl: ACCESS_TOKEN_TTL,
      keyReloadInterval: KEY_RELOAD_INTERVAL,
    })
    assert.notEqual(newKid, oldKid)

    const b = await instance(clock)
    const me = await b.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(user.accessToken) })
    assert.equal(me.statusCode, 200, 'a token signed before the rotation still verifies')
    assert.deepEqual(await jwksKids(b), [oldKid, newKid].sort())
    const signedIn = await login(b.app, user.email, user.password)
    assert.equal(signedIn.statusCode, 200, signedIn.body)
    assert.equal(kidOf(signedIn.json().accessToken), newKid, 'new tokens are signed with the new key')

    // The instance that has not reloaded yet looks an unknown kid up (at most once a second).
    clock.advance(1000)
    const onA = await a.app.inject({
      method: 'GET',
      url: '/v1/me',
      headers: bearer(signedIn.json().accessToken),
    })
    assert.equal(onA.statusCode, 200, onA.body)

    clock.advance(PUBLISH_WINDOW_MS + 1000)
    const c = await instance(clock)
    assert.deepEqual(await jwksKids(c), [newKid], 'the old key is no longer published')
    const relogin = await login(c.app, user.email, user.password)
    assert.equal(relogin.statusCode, 200, relogin.body)
    assert.equal(kidOf(relogin.json().accessToken), newKid)
    const stale = await c.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(user.accessToken) })
    assert.equal(stale.statusCode, 401)
  })
})
