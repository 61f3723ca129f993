import type { Insertable, Kysely, Selectable } from 'kysely'
import type { DB, OneTimeTokensTable } from '../core/db-schema.ts'

// Password-reset tokens: the `reset_password` rows of `one_time_tokens`.

export type ResetTokenRow = Selectable<OneTimeTokensTable>

export async function insertResetToken(
  db: Kysely<DB>,
  row: Omit<Insertable<OneTimeTokensTable>, 'purpose'>,
): Promise<void> {
  await db
    .insertInto('one_time_tokens')
    .values({ ...row, purpose: 'reset_password' })
    .execute()
}

export function findResetToken(db: Kysely<DB>, secretHash: string): Promise<ResetTokenRow | undefined> {
  return db
    .selectFrom('one_time_tokens')
    .selectAll()
    .where('secret_hash', '=', secretHash)
    .where('purpose', '=', 'reset_password')
    .executeTakeFirst()
}

/** The one use of a reset token: of two racing callers exactly one gets true. */
export async function consumeResetToken(db: Kysely<DB>, id: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('one_time_tokens')
    .set({ consumed_at: now })
    .where('id', '=', id)
    .where('purpose', '=', 'reset_password')
    .where('consumed_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

/** A new reset link makes every older unused one useless. */
export async function retireResetTokens(db: Kysely<DB>, accountId: string, now: number): Promise<void> {
  await db
    .updateTable('one_time_tokens')
    .set({ consumed_at: now })
    .where('account_id', '=', accountId)
    .where('purpose', '=', 'reset_password')
    .where('consumed_at', 'is', null)
    .execute()
}
