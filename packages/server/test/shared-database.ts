/**
 * One database that several test apps open in turn or side by side (restarts, rolling key
 * rotation, two instances): a SQLite file in a temporary directory, or a fresh PostgreSQL schema
 * when TEST_DATABASE_URL is set. Every `open()` is a new connection, because closing an app
 * closes its own handle.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { openDatabase } from '../src/core/db.ts'
import { TEST_DATABASE_URL, type TestDatabase } from './harness.ts'

export interface SharedDatabase {
  /** Also the app's data directory (the SQLite file lives here). */
  dataDir: string
  /** PostgreSQL schema, when on PostgreSQL. */
  pgSchema: string | undefined
  /** A new handle; `databaseUrl` reaches PostgreSQL some other way (e.g. through a proxy). */
  open(options?: { databaseUrl?: string }): TestDatabase
  /** Removes the schema or the directory. */
  drop(): Promise<void>
}

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL })
  await client.connect()
  try {
    await client.query(text)
  } finally {
    await client.end()
  }
}

export async function createSharedDatabase(): Promise<SharedDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-shared-'))
  const pgSchema = TEST_DATABASE_URL ? `t_${randomBytes(6).toString('hex')}` : undefined
  if (pgSchema) await adminQuery(`create schema ${pgSchema}`)
  const noDrop = async () => {}
  return {
    dataDir,
    pgSchema,
    open: (options = {}) => ({
      database: pgSchema
        ? openDatabase({ databaseUrl: options.databaseUrl ?? TEST_DATABASE_URL, pgSchema, pgPoolSize: 4 })
        : openDatabase({ sqliteFile: join(dataDir, 'tessera.db') }),
      drop: noDrop,
    }),
    drop: async () => {
      if (pgSchema) await adminQuery(`drop schema ${pgSchema} cascade`)
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
