/**
 * The database: Kysely over better-sqlite3 (embedded default, WAL) or pg (DATABASE_URL).
 */
import { mkdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import SQLite from 'better-sqlite3'
import {
  Kysely,
  PostgresDialect,
  PostgresIntrospector,
  type SqliteDatabase,
  SqliteDialect,
  sql,
} from 'kysely'
import { Migrator } from 'kysely/migration'
import type pg from 'pg'
import type { DB } from './db-schema.ts'
import { migrations } from './migrations/index.ts'

export type Dialect = 'sqlite' | 'postgres'

export interface Database {
  db: Kysely<DB>
  dialect: Dialect
  close(): Promise<void>
}

export interface DatabaseOptions {
  databaseUrl?: string | undefined
  /** SQLite file; `:memory:` for tests. */
  sqliteFile?: string
  /** PostgreSQL schema to use (tests give each run its own). */
  pgSchema?: string
  pgPoolSize?: number
}

const require = createRequire(import.meta.url)

/** pg is loaded only when PostgreSQL is configured: the embedded default never needs it. */
function loadPg(): typeof pg {
  const driver = require('pg') as typeof pg
  // BIGINT epoch-millisecond columns: numbers, not strings (safe up to year 287396).
  driver.types.setTypeParser(driver.types.builtins.INT8, (v) => Number(v))
  return driver
}

export function sqliteFileIn(dataDir: string): string {
  mkdirSync(dataDir, { recursive: true })
  return join(dataDir, 'tessera.db')
}

export function openDatabase(options: DatabaseOptions): Database {
  if (options.databaseUrl) {
    const driver = loadPg()
    const pool = new driver.Pool({
      Client: preparingClient(driver),
      connectionString: options.databaseUrl,
      max: options.pgPoolSize ?? 10,
      connectionTimeoutMillis: 5000,
      ...(options.pgSchema ? { options: `-c search_path=${options.pgSchema}` } : {}),
    })
    // A client losing its connection (idle in the pool, or checked out between two statements)
    // must not crash the process: the query that uses it fails instead, and answers 503.
    pool.on('error', () => {})
    pool.on('connect', (client) => client.on('error', () => {}))
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) })
    return { db, dialect: 'postgres', close: () => db.destroy() }
  }
  const sqlite = new SQLite(options.sqliteFile ?? ':memory:')
  sqlite.pragma('journal_mode = WAL')
  sqlite.pragma('synchronous = NORMAL')
  sqlite.pragma('foreign_keys = ON')
  sqlite.pragma('busy_timeout = 5000')
  const stopCheckpoints = checkpointPeriodically(sqlite)
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) })
  return {
    db,
    dialect: 'sqlite',
    close: async () => {
      stopCheckpoints()
      await db.destroy()
    },
  }
}

const CHECKPOINT_INTERVAL_MS = 1000

/**
 * WAL checkpoints (which fsync) on a timer instead of SQLite's default "every 1000 pages",
 * which under write load put an fsync in some request's commit every few hundred requests.
 * A timer also bounds how long a commit can sit unsynced in the WAL when the load is light.
 */
function checkpointPeriodically(sqlite: SQLite.Database): () => void {
  sqlite.pragma('wal_autocheckpoint = 0')
  const timer = setInterval(() => {
    try {
      sqlite.pragma('wal_checkpoint(PASSIVE)')
    } catch {
      // busy or closing: the next tick tries again
    }
  }, CHECKPOINT_INTERVAL_MS)
  timer.unref()
  return () => clearInterval(timer)
}

const STATEMENT_CACHE_SIZE = 500

/**
 * Kysely prepares every query afresh; the SQL text of a query builder call is the same each
 * time, so keeping the prepared statements saves SQLite's parse and plan on every request.
 */
function withStatementCache(sqlite: SQLite.Database): SqliteDatabase {
  const statements = new Map<string, SQLite.Statement>()
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      let statement = statements.get(sql)
      if (!statement) {
        statement = sqlite.prepare(sql)
        if (statements.size >= STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value!)
        statements.set(sql, statement)
      }
      return statement
    },
  }
}

/**
 * PostgreSQL's counterpart of the statement cache: a query with parameters runs as a named
 * prepared statement, so each connection parses and plans its SQL once instead of on every
 * request (PostgreSQL shares the machine's cores with Tessera). A statement's name stands for
 * one SQL text in this process; texts beyond the first STATEMENT_CACHE_SIZE run unnamed.
 */
function preparingClient(driver: typeof pg): typeof pg.Client {
  const names = new Map<string, string>()
  const nameFor = (text: string) => {
    let name = names.get(text)
    if (!name && names.size < STATEMENT_CACHE_SIZE) {
      name = `tessera_${names.size}`
      names.set(text, name)
    }
    return name
  }
  return class PreparingClient extends driver.Client {
    constructor(config?: pg.ClientConfig) {
      super(config)
      const query = this.query.bind(this) as (...args: unknown[]) => unknown
      this.query = ((text: unknown, values?: unknown, ...rest: unknown[]) => {
        const name = typeof text === 'string' && Array.isArray(values) && values.length > 0 && nameFor(text)
        return name ? query({ name, text, values }, ...rest) : query(text, values, ...rest)
      }) as typeof this.query
    }
  }
}

/** A unique constraint refused an insert or update, on PostgreSQL or SQLite. */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE'
}

export class SchemaTooNewError extends Error {}

/**
 * Applies pending migrations. Refuses a database that has migrations this code does not know:
 * it was written by a newer Tessera, and running old code on it could corrupt data.
 */
export async function migrate(db: Kysely<DB>): Promise<string[]> {
  const schema = await currentPgSchema(db)
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    // Without it, Kysely takes migration tables in ANY schema of the database as ours.
    ...(schema ? { migrationTableSchema: schema } : {}),
  })
  const applied = await listAppliedMigrations(db, schema)
  const unknown = applied.filter((name) => !(name in migrations))
  if (unknown.length > 0) {
    throw new SchemaTooNewError(
      `the database schema is newer than this version of Tessera (unknown migrations: ${unknown.join(', ')}); ` +
        'upgrade Tessera instead of running an older version against this database',
    )
  }
  const { error, results = [] } = await migrator.migrateToLatest()
  if (error) throw error
  return results.filter((r) => r.status === 'Success').map((r) => r.migrationName)
}

/** PostgreSQL: the schema our tables live in (first of search_path); undefined on SQLite. */
async function currentPgSchema(db: Kysely<DB>): Promise<string | undefined> {
  if (!(db.introspection instanceof PostgresIntrospector)) return undefined
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db)
  return rows[0]?.schema
}

async function listAppliedMigrations(db: Kysely<DB>, schema: string | undefined): Promise<string[]> {
  // Kysely's own tables are hidden from introspection unless asked for.
  const tables = await db.introspection.getTables({ withInternalKyselyTables: true })
  if (!tables.some((t) => t.name === 'kysely_migration' && (!schema || t.schema === schema))) return []
  const rows = await db.selectFrom('kysely_migration').select('name').execute()
  return rows.map((r) => r.name)
}

export async function pingDatabase(db: Kysely<DB>): Promise<void> {
  await sql`select 1`.execute(db)
}
