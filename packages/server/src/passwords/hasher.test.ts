import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { hash, verify } from '@node-rs/argon2'
import { type Argon2, createPasswordHasher, limitConcurrency } from './hasher.ts'

const FAST = { memoryCost: 256, timeCost: 1, parallelism: 1 }

/** A task that stays in flight until the test lets it finish. */
function heldTask(inFlight: { now: number; max: number }, order: number[], id: number) {
  let finish!: (fail: boolean) => void
  const done = new Promise<boolean>((resolve) => {
    finish = resolve
  })
  const run = async () => {
    inFlight.now++
    inFlight.max = Math.max(inFlight.max, inFlight.now)
    order.push(id)
    const fail = await done
    inFlight.now--
    if (fail) throw new Error(`task ${id} failed`)
    return id
  }
  return { run, finish }
}

const settle = () => new Promise((resolve) => setImmediate(resolve))

describe('password hasher', () => {
  test('a burst of sign-ins runs at most `limit` hashes at once, in arrival order', async () => {
    const inTurn = limitConcurrency(2)
    const inFlight = { now: 0, max: 0 }
    const order: number[] = []
    const tasks = [0, 1, 2, 3, 4].map((id) => heldTask(inFlight, order, id))
    const results = tasks.map((task) => inTurn(task.run).catch((err: Error) => err.message))
    await settle()
    assert.deepEqual(order, [0, 1])

    tasks[1]!.finish(true) // a failing hash gives its slot back too
    await settle()
    assert.deepEqual(order, [0, 1, 2])
    for (const task of [tasks[0]!, tasks[2]!, tasks[3]!, tasks[4]!]) {
      task.finish(false)
      await settle()
    }
    assert.deepEqual(await Promise.all(results), [0, 'task 1 failed', 2, 3, 4])
    assert.deepEqual(order, [0, 1, 2, 3, 4])
    assert.equal(inFlight.max, 2)
  })

  test('with one hash at a time, concurrent hashes, verifies and dummy verifies all finish and agree', async () => {
    const hasher = createPasswordHasher(FAST, 1)
    const stored = await hasher.hash('correct horse battery')
    const answers = await Promise.all([
      hasher.verify(stored, 'correct horse battery'),
      hasher.verifyDummy('correct horse battery'),
      hasher.verify(stored, 'wrong password'),
      hasher.verifyDummy('another guess'),
      hasher.hash('second password').then((h) => hasher.verify(h, 'second password')),
    ])
    assert.deepEqual(answers, [true, false, false, false, true])
  })

  test('an unknown email costs one argon2id computation, like a known one, from the first sign-in on', async () => {
    const computations: string[] = []
    const counting: Argon2 = {
      hash: (...args) => {
        computations.push('hash')
        return hash(...args)
      },
      verify: (...args) => {
        computations.push('verify')
        return verify(...args)
      },
    }
    const hasher = createPasswordHasher(FAST, 2, counting)
    const stored = await hasher.hash('correct horse battery')
    computations.length = 0

    assert.equal(await hasher.verifyDummy('first guess'), false)
    assert.equal(computations.length, 1, 'the first dummy verify of the process')
    assert.equal(await hasher.verifyDummy('second guess'), false)
    assert.equal(await hasher.verify(stored, 'wrong password'), false)
    assert.equal(computations.length, 3)
    assert.deepEqual(computations.slice(1), ['verify', 'verify'])
  })
})
