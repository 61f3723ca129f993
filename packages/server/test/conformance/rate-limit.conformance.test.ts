/**
 * Rate limits behave the same in process memory and in Redis: the login, register and refresh
 * limits and the account lockout are built on them.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { AppError } from '../../src/core/errors.ts'
import { createMemoryKv, createRedisKv, type Kv } from '../../src/core/kv.ts'
import { consumeOrThrow, createLimiterFactory } from '../../src/core/rate-limit.ts'
import { TEST_REDIS_URL } from '../harness.ts'

interface Implementation {
  name: string
  createKv(): Kv
  /** Counters live outside the process, so every instance sees the same count. */
  shared: boolean
}

const implementations: Implementation[] = [{ name: 'memory', createKv: createMemoryKv, shared: false }]
const redisUrl = TEST_REDIS_URL
if (redisUrl) implementations.push({ name: 'redis', createKv: () => createRedisKv(redisUrl), shared: true })

async function rejectsWith429(promise: Promise<unknown>, maxRetryAfter: number): Promise<number> {
  let retryAfter = 0
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof AppError, String(err))
    assert.equal(err.status, 429)
    assert.equal(err.code, 'rate_limited')
    retryAfter = Number(err.headers['retry-after'])
    assert.ok(Number.isInteger(retryAfter), `retry-after is whole seconds: ${err.headers['retry-after']}`)
    assert.ok(retryAfter >= 1 && retryAfter <= maxRetryAfter, `retry-after ${retryAfter}`)
    return true
  })
  return retryAfter
}

for (const impl of implementations) {
  describe(`rate limits (${impl.name})`, () => {
    const kvs: Kv[] = []
    const newKv = () => {
      const kv = impl.createKv()
      kvs.push(kv)
      return kv
    }
    /** Every test counts under its own prefix, so runs sharing a Redis never meet. */
    const freshPrefix = () => `conformance-${randomBytes(6).toString('hex')}`
    after(async () => {
      for (const kv of kvs) await kv.close()
    })

    test('allows `points` requests per key, then 429 rate_limited with Retry-After', async () => {
      const limiter = createLimiterFactory(
        newKv(),
        freshPrefix(),
      )({ name: 'ip:login', points: 3, duration: 60 })
      for (let i = 0; i < 3; i++) await consumeOrThrow(limiter, '203.0.113.7')
      const retryAfter = await rejectsWith429(consumeOrThrow(limiter, '203.0.113.7'), 60)
      assert.ok(retryAfter > 50, 'the wait is the rest of the window, not a token second')
      await rejectsWith429(consumeOrThrow(limiter, '203.0.113.7'), 60)
    })

    test('keys, limiter names and prefixes are counted separately', async () => {
      const kv = newKv()
      const prefix = freshPrefix()
      const factory = createLimiterFactory(kv, prefix)
      const login = factory({ name: 'ip:login', points: 1, duration: 60 })
      const register = factory({ name: 'ip:register', points: 1, duration: 60 })
      const otherDeployment = createLimiterFactory(
        kv,
        freshPrefix(),
      )({ name: 'ip:login', points: 1, duration: 60 })

      await consumeOrThrow(login, '203.0.113.7')
      await rejectsWith429(consumeOrThrow(login, '203.0.113.7'), 60)
      await consumeOrThrow(login, '203.0.113.8')
      await consumeOrThrow(register, '203.0.113.7')
      await consumeOrThrow(otherDeployment, '203.0.113.7')
    })

    test('get reports what was consumed without consuming', async () => {
      const limiter = createLimiterFactory(
        newKv(),
        freshPrefix(),
      )({ name: 'login-failures', points: 5, duration: 60 })
      assert.equal(await limiter.get('account-1'), null)
      await consumeOrThrow(limiter, 'account-1')
      await consumeOrThrow(limiter, 'account-1')
      const res = await limiter.get('account-1')
      assert.equal(res?.consumedPoints, 2)
      assert.equal((await limiter.get('account-1'))?.consumedPoints, 2)
      assert.ok(res!.msBeforeNext > 0 && res!.msBeforeNext <= 60_000)
    })

    test('the count starts over when the window ends', async () => {
      const limiter = createLimiterFactory(
        newKv(),
        freshPrefix(),
      )({ name: 'ip:refresh', points: 1, duration: 1 })
      await consumeOrThrow(limiter, '203.0.113.9')
      await rejectsWith429(consumeOrThrow(limiter, '203.0.113.9'), 1)
      await sleep(1250)
      await consumeOrThrow(limiter, '203.0.113.9')
    })

    test('instances sharing the store share one count (more instances do not raise the limit)', {
      skip: !impl.shared && 'memory limits are per process by design',
    }, async () => {
      const prefix = freshPrefix()
      const spec = { name: 'ip:login', points: 2, duration: 60 }
      const onA = createLimiterFactory(newKv(), prefix)(spec)
      const onB = createLimiterFactory(newKv(), prefix)(spec)
      await consumeOrThrow(onA, '203.0.113.7')
      await consumeOrThrow(onB, '203.0.113.7')
      await rejectsWith429(consumeOrThrow(onA, '203.0.113.7'), 60)
      await rejectsWith429(consumeOrThrow(onB, '203.0.113.7'), 60)
    })
  })
}
