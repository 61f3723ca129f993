/**
 * Builds a real Tessera for a test: in-memory SQLite by default, or a fresh PostgreSQL schema
 * when TEST_DATABASE_URL is set; Redis (with its own key prefix) when TEST_REDIS_URL is set.
 * A fast argon2id hasher and a manual clock keep tests quick and deterministic.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { buildApp, type Tessera } from '../src/app.ts'
import { manualClock } from '../src/core/clock.ts'
import { loadConfig } from '../src/core/config.ts'
import { type Database, openDatabase } from '../src/core/db.ts'
import { createMemoryKv, createRedisKv } from '../src/core/kv.ts'
import type { Mailer } from '../src/core/mailer.ts'
import { createPasswordHasher, type PasswordHasher } from '../src/passwords/hasher.ts'

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL
export const TEST_MASTER_KEY = Buffer.alloc(32, 7).toString('base64url')

/** Cheap argon2id parameters: the same code path as production, a fraction of the cost. */
export const fastHasher = createPasswordHasher({ memoryCost: 256, timeCost: 1, parallelism: 1 })

export interface TestDatabase {
  database: Database
  drop(): Promise<void>
}

/** A PostgreSQL schema of its own in the database at `url`, and how to drop it. */
export async function createPgSchema(url: string): Promise<{ schema: string; drop(): Promise<void> }> {
  const schema = `t_${randomBytes(6).toString('hex')}`
  const run = async (statement: string) => {
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    await client.query(statement)
    await client.end()
  }
  await run(`create schema ${schema}`)
  return { schema, drop: () => run(`drop schema ${schema} cascade`) }
}

/** A database of its own for one test app. */
export async function createTestDatabase(): Promise<TestDatabase> {
  if (!TEST_DATABASE_URL) return { database: openDatabase({ sqliteFile: ':memory:' }), drop: async () => {} }
  const { schema, drop } = await createPgSchema(TEST_DATABASE_URL)
  const database = openDatabase({ databaseUrl: TEST_DATABASE_URL, pgSchema: schema, pgPoolSize: 4 })
  return { database, drop }
}

export interface TestApp extends Tessera {
  clock: ReturnType<typeof manualClock>
  dataDir: string
}

export interface TestAppOptions {
  config?: Record<string, unknown>
  /** Reuse a database (restart tests); it is then not dropped on close. */
  testDatabase?: TestDatabase
  dataDir?: string
  clock?: ReturnType<typeof manualClock>
  /** Replaces the default outbox mailer (which writes to `<dataDir>/outbox/`). */
  mailer?: Mailer
  /** Redis key and channel namespace; apps given the same prefix share rate limits and revocations. */
  kvPrefix?: string
  /** Replaces the fast hasher (e.g. a wrapper that counts verifications). */
  hasher?: PasswordHasher
  /** Turns the request log on, written here (set `config.logLevel` too). */
  logStream?: NodeJS.WritableStream
}

export async function buildTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'tessera-test-'))
  const { config } = loadConfig(
    {},
    {
      masterKey: TEST_MASTER_KEY,
      dataDir,
      publicUrl: 'http://localhost:3000',
      logLevel: 'silent',
      ...options.config,
    },
  )
  const owned = !options.testDatabase
  const testDb = options.testDatabase ?? (await createTestDatabase())
  const kvPrefix = options.kvPrefix ?? `test-${randomBytes(6).toString('hex')}:`
  const kv = TEST_REDIS_URL ? createRedisKv(TEST_REDIS_URL, kvPrefix) : createMemoryKv()
  const clock = options.clock ?? manualClock(Date.parse('2026-01-01T00:00:00Z'))
  const tessera = await buildApp(config, {
    clock,
    hasher: options.hasher ?? fastHasher,
    database: testDb.database,
    kv,
    kvPrefix,
    ...(options.logStream ? { logStream: options.logStream } : { logger: false }),
    defaultMetrics: false,
    ...(options.mailer ? { mailer: options.mailer } : {}),
  }).catch(async (err: unknown) => {
    await kv.close() // an open Redis connection would keep the test process alive
    throw err
  })
  return {
    ...tessera,
    clock,
    dataDir,
    close: async () => {
      await tessera.close()
      if (owned) await testDb.drop()
    },
  }
}
