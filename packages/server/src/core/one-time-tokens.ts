/**
 * The `one_time_tokens` table, shared by the features that mail single-use links (email
 * verification and change in accounts/, password reset in passwords/). Only SHA-256 of a
 * token is stored; a token is consumed with a conditional update, so of two racing uses
 * exactly one succeeds.
 */
import type { Insertable, Kysely, Selectable } from 'kysely'
import type { DB, OneTimeTokenPurpose, OneTimeTokensTable } from './db-schema.ts'

export type OneTimeTokenRow = Selectable<OneTimeTokensTable>

export async function insertOneTimeToken(db: Kysely<DB>, row: Insertable<OneTimeTokensTable>): Promise<void> {
  await db.insertInto('one_time_tokens').values(row).execute()
}

export function findOneTimeToken(
  db: Kysely<DB>,
  secretHash: string,
  purposes: OneTimeTokenPurpose[],
): Promise<OneTimeTokenRow | undefined> {
  return db
    .selectFrom('one_time_tokens')
    .selectAll()
    .where('secret_hash', '=', secretHash)
    .where('purpose', 'in', purposes)
    .executeTakeFirst()
}

/** The one use of a token: of two racing callers exactly one gets true. */
export async function consumeOneTimeToken(db: Kysely<DB>, id: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('one_time_tokens')
    .set({ consumed_at: now })
    .where('id', '=', id)
    .where('consumed_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

/** Retires the account's unused tokens of one purpose (a newer one replaces them). */
export async function retireOneTimeTokens(
  db: Kysely<DB>,
  accountId: string,
  purpose: OneTimeTokenPurpose,
  now: number,
): Promise<void> {
  await db
    .updateTable('one_time_tokens')
    .set({ consumed_at: now })
    .where('account_id', '=', accountId)
    .where('purpose', '=', purpose)
    .where('consumed_at', 'is', null)
    .execute()
}
