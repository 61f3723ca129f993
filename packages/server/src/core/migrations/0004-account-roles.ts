import type { Kysely } from 'kysely'

/**
 * Platform roles of an account (`admin`), as a space-separated list in one `roles` column, like
 * `sessions.amr`. A column rather than an `account_roles` table because the account row is
 * already read every time a token is issued (login, MFA, passkey, refresh), so the `roles`
 * claim costs no extra query, and the roles go with the row when an account is deleted.
 * Organisation roles (later) belong to memberships and get their own table.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and must not depend on the current DB type
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('accounts')
    .addColumn('roles', 'text', (c) => c.notNull().defaultTo(''))
    .execute()
}
