/**
 * The statement caches: what runs on every request is parsed and planned once per connection.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { sql } from 'kysely'
import { createTestDatabase, TEST_DATABASE_URL } from '../../test/harness.ts'
import { migrate } from './db.ts'

test('PostgreSQL: a query with parameters runs as a named prepared statement, once per connection', {
  skip: !TEST_DATABASE_URL && 'needs TEST_DATABASE_URL (PostgreSQL)',
}, async () => {
  const { database, drop } = await createTestDatabase()
  try {
    await migrate(database.db)
    // One connection, so both queries and the check below see the same session.
    await database.db.connection().execute(async (db) => {
      const byEmail = (email: string) =>
        db.selectFrom('accounts').select('id').where('email', '=', email).executeTakeFirst()
      await byEmail('a@example.com')
      await byEmail('b@example.com')
      const { rows } = await sql<{ name: string; statement: string }>`
        select name, statement from pg_prepared_statements`.execute(db)
      const prepared = rows.filter((r) => r.statement.includes('"accounts"'))
      assert.equal(prepared.length, 1, 'the same SQL text is prepared once, whatever its parameters')
      assert.match(prepared[0]!.name, /^tessera_\d+$/)
    })
  } finally {
    await database.close()
    await drop()
  }
})
