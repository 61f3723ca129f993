import assert from 'node:assert/strict'
import { test } from 'node:test'
import { getHeapSpaceStatistics } from 'node:v8'
import { releaseStartupMemory } from './memory.ts'

const newSpaceBytes = () =>
  getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.physical_space_size ?? 0

test('after start-up, the memory V8 grew for loading is handed back, and no module sees a global gc', () => {
  // Allocate the way loading modules does, fast and partly long-lived, until the young generation grows.
  const kept: string[][] = []
  for (let i = 0; i < 200 && newSpaceBytes() < 8 * 1024 * 1024; i++)
    kept.push(Array.from({ length: 20_000 }, (_, j) => `module ${i} line ${j}`))
  const grown = newSpaceBytes()
  assert.ok(grown >= 4 * 1024 * 1024, `the young generation grew (${grown} bytes)`)
  kept.length = 0

  releaseStartupMemory()

  assert.ok(
    newSpaceBytes() <= grown / 4,
    `the young generation shrank from ${grown} to ${newSpaceBytes()} bytes`,
  )
  assert.equal(typeof globalThis.gc, 'undefined')
})
