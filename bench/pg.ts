/**
 * PostgreSQL runs use their own database, dropped and created afresh each run, so runs are
 * repeatable and never touch the database named in DATABASE_URL.
 */
import pg from 'pg'

export const DEFAULT_PG_URL = 'postgres://postgres@127.0.0.1:5432/test'
export const BENCH_DATABASE = 'tessera_bench'

async function withAdmin<T>(adminUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 })
  await client.connect()
  try {
    return await work(client)
  } finally {
    await client.end()
  }
}

/** Drops and recreates the bench database; returns the URL the server should use. */
export async function freshDatabase(adminUrl: string): Promise<string> {
  await withAdmin(adminUrl, async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${BENCH_DATABASE} WITH (FORCE)`)
    await client.query(`CREATE DATABASE ${BENCH_DATABASE}`)
  })
  const url = new URL(adminUrl)
  url.pathname = `/${BENCH_DATABASE}`
  return url.href
}

export async function dropDatabase(adminUrl: string): Promise<void> {
  await withAdmin(adminUrl, (client) =>
    client.query(`DROP DATABASE IF EXISTS ${BENCH_DATABASE} WITH (FORCE)`),
  )
}

/** Server version, for the result file. */
export async function serverVersion(adminUrl: string): Promise<string> {
  return withAdmin(adminUrl, async (client) => {
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version')
    return rows[0]?.server_version ?? 'unknown'
  })
}
