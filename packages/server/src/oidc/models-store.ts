/**
 * What Tessera itself does to the provider's storage (`oidc_models`), outside the provider:
 * sweeping expired rows, and ending everything an account holds. Kept apart from the adapter so
 * that these run without loading oidc-provider.
 */
import type { Kysely } from 'kysely'
import type { DB } from '../core/db-schema.ts'

/** Deletes rows that expired more than a minute ago (the provider's clock tolerance is 15 s). */
export async function sweepExpiredModels(db: Kysely<DB>, now: number): Promise<number> {
  const result = await db
    .deleteFrom('oidc_models')
    .where('expires_at', '<', now - 60_000)
    .executeTakeFirst()
  return Number(result.numDeletedRows)
}

/** Ends everything the provider holds for an account: its sessions, grants and tokens. */
export async function deleteAccountModels(db: Kysely<DB>, accountId: string): Promise<void> {
  await db.deleteFrom('oidc_models').where('account_id', '=', accountId).execute()
}
