import assert from 'node:assert/strict'
import { test } from 'node:test'
import { cachedLookup } from './lookup-cache.ts'

function counter(values: Record<string, string>) {
  const reads: string[] = []
  let now = 0
  let failNext = false
  const lookup = cachedLookup(
    async (key: string) => {
      reads.push(key)
      if (failNext) {
        failNext = false
        throw new Error('database down')
      }
      return values[key]
    },
    { ttlMs: 2000, maxEntries: 2, now: () => now },
  )
  return { lookup, reads, tick: (ms: number) => (now += ms), failOnce: () => (failNext = true) }
}

test('a registration is read once per interval, then again (a change reaches the provider)', async () => {
  const values = { a: 'secret-1' }
  const c = counter(values)
  assert.equal(await c.lookup('a'), 'secret-1')
  values.a = 'secret-2'
  assert.equal(await c.lookup('a'), 'secret-1')
  c.tick(2001)
  assert.equal(await c.lookup('a'), 'secret-2')
  assert.deepEqual(c.reads, ['a', 'a'])
})

test('unknown keys are remembered too; failures are not; the map stays bounded', async () => {
  const c = counter({})
  assert.equal(await c.lookup('nobody'), undefined)
  assert.equal(await c.lookup('nobody'), undefined)
  assert.deepEqual(c.reads, ['nobody'])
  c.failOnce()
  await assert.rejects(c.lookup('x'))
  assert.equal(await c.lookup('x'), undefined) // retried, not the remembered failure
  await c.lookup('y') // third key: the map (max 2) was emptied first
  await c.lookup('nobody')
  assert.deepEqual(c.reads, ['nobody', 'x', 'x', 'y', 'nobody'])
})
