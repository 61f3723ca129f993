/**
 * The kv bus behaves the same in process memory and in Redis; with Redis it also reaches other
 * instances, which is what makes a logout take effect everywhere at once.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { decodeJwt } from 'jose'
import { createMemoryKv, createRedisKv, type Kv } from '../../src/core/kv.ts'
import { bearer, login, register } from '../factories.ts'
import { buildTestApp, TEST_REDIS_URL, type TestApp } from '../harness.ts'
import { createSharedDatabase, type SharedDatabase } from '../shared-database.ts'

const DELIVERY_TIMEOUT_MS = 2000

interface Implementation {
  name: string
  createKv(prefix: string): Kv
  /** Messages reach other instances (other processes, other hosts). */
  shared: boolean
}

const implementations: Implementation[] = [
  { name: 'memory', createKv: () => createMemoryKv(), shared: false },
]
const redisUrl = TEST_REDIS_URL
if (redisUrl)
  implementations.push({ name: 'redis', createKv: (prefix) => createRedisKv(redisUrl, prefix), shared: true })

const freshPrefix = () => `conformance-${randomBytes(6).toString('hex')}:`

/** Polls until `check` passes; bounded, so a lost message fails the test instead of hanging it. */
async function eventually(check: () => void): Promise<void> {
  const deadline = Date.now() + DELIVERY_TIMEOUT_MS
  for (;;) {
    try {
      check()
      return
    } catch (err) {
      if (Date.now() > deadline) throw err
      await sleep(5)
    }
  }
}

function recorder(kv: Kv, channel: string): Promise<string[]> {
  const messages: string[] = []
  return kv.subscribe(channel, (message) => messages.push(message)).then(() => messages)
}

for (const impl of implementations) {
  describe(`kv bus (${impl.name})`, () => {
    const kvs: Kv[] = []
    const newKv = (prefix = freshPrefix()) => {
      const kv = impl.createKv(prefix)
      kvs.push(kv)
      return kv
    }
    after(async () => {
      for (const kv of kvs) await kv.close()
    })

    test('ping answers', async () => {
      await newKv().ping()
    })

    test('subscribers get their channel’s messages, in order, and nothing else', async () => {
      const kv = newKv()
      const revoked = await recorder(kv, 'sessions:revoked')
      const other = await recorder(kv, 'keys:rotated')
      const second = await recorder(kv, 'sessions:revoked')
      for (const message of ['["s1"]', '["s2","s3"]', '["s4"]']) await kv.publish('sessions:revoked', message)
      await eventually(() => assert.deepEqual(revoked, ['["s1"]', '["s2","s3"]', '["s4"]']))
      await eventually(() => assert.deepEqual(second, revoked, 'every handler gets every message'))
      assert.deepEqual(other, [])
    })

    test('a message reaches every instance with the same prefix, and no other', {
      skip: !impl.shared && 'the memory bus is one process only (run one instance)',
    }, async () => {
      const prefix = freshPrefix()
      const publisher = newKv(prefix)
      const sameDeployment = await recorder(newKv(prefix), 'sessions:revoked')
      const otherPrefix = freshPrefix()
      const otherKv = newKv(otherPrefix)
      const otherDeployment = await recorder(otherKv, 'sessions:revoked')
      const sentinel = await recorder(otherKv, 'sentinel')

      await publisher.publish('sessions:revoked', '["s1"]')
      await eventually(() => assert.deepEqual(sameDeployment, ['["s1"]']))
      // Redis delivers one connection's publishes in order: once the sentinel (published
      // after it) has arrived, the other deployment would have had the first message too.
      await publisher.redis!.publish(`${otherPrefix}sentinel`, 'done')
      await eventually(() => assert.deepEqual(sentinel, ['done']))
      assert.deepEqual(otherDeployment, [])
    })
  })
}

describe('session revocation fan-out', {
  skip: !TEST_REDIS_URL && 'needs TEST_REDIS_URL: one instance without Redis',
}, () => {
  let shared: SharedDatabase
  let a: TestApp
  let b: TestApp
  before(async () => {
    shared = await createSharedDatabase()
    const kvPrefix = freshPrefix()
    a = await buildTestApp({ testDatabase: shared.open(), dataDir: shared.dataDir, kvPrefix })
    b = await buildTestApp({ testDatabase: shared.open(), dataDir: shared.dataDir, kvPrefix })
  })
  after(async () => {
    await a?.close()
    await b?.close()
    await shared?.drop()
  })

  const me = (t: TestApp, token: string) =>
    t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) })

  test('logging out on one instance ends the token on the other at once', async () => {
    const user = await register(a.app)
    const second = await login(a.app, user.email, user.password)
    assert.equal(second.statusCode, 200)
    const secondToken: string = second.json().accessToken
    for (const token of [user.accessToken, secondToken]) {
      assert.equal((await me(b, token)).statusCode, 200, 'B has now cached the session as live')
    }

    // B really answers from its cache: a revocation written without an announcement goes unseen
    // (B's clock stands still, so without the bus the cache would hold for good).
    await b.database.db
      .updateTable('sessions')
      .set({ revoked_at: b.clock.now(), revoked_reason: 'test' })
      .where('id', '=', String(decodeJwt(secondToken).sid))
      .execute()
    assert.equal((await me(b, secondToken)).statusCode, 200)

    const loggedOut = await a.app.inject({
      method: 'POST',
      url: '/v1/auth/logout',
      headers: bearer(user.accessToken),
    })
    assert.equal(loggedOut.statusCode, 204, loggedOut.body)
    // "At once" is the time a Redis message takes to arrive, bounded here by DELIVERY_TIMEOUT_MS.
    const started = Date.now()
    let res = await me(b, user.accessToken)
    while (res.statusCode === 200 && Date.now() - started < DELIVERY_TIMEOUT_MS) {
      await sleep(5)
      res = await me(b, user.accessToken)
    }
    assert.equal(res.statusCode, 401, 'the logout reached B through the bus')
    assert.equal(res.json().code, 'session_ended')
  })
})
