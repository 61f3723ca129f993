import type { Insertable, Kysely } from 'kysely'
import type { DB, SmsCodesTable } from '../core/db-schema.ts'

/**
 * A new code for a factor; every earlier unused code of that factor dies with it, so only the
 * latest message works and repeated sends do not multiply the codes an attacker could guess.
 */
export async function replaceSmsCode(db: Kysely<DB>, row: Insertable<SmsCodesTable>): Promise<void> {
  await db
    .updateTable('sms_codes')
    .set({ consumed_at: row.created_at })
    .where('factor_id', '=', row.factor_id)
    .where('consumed_at', 'is', null)
    .execute()
  await db.insertInto('sms_codes').values(row).execute()
}

/** Single use: marks a live code used; false when it is wrong, expired or already used. */
export async function consumeSmsCode(
  db: Kysely<DB>,
  factorId: string,
  codeHash: string,
  now: number,
): Promise<boolean> {
  const result = await db
    .updateTable('sms_codes')
    .set({ consumed_at: now })
    .where('factor_id', '=', factorId)
    .where('code_hash', '=', codeHash)
    .where('consumed_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) > 0
}
