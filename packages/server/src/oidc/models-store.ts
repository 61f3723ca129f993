/**
 * What Tessera itself does with the provider's storage (`oidc_models`), outside the provider:
 * sweeping expired rows, listing the grants an account gave, and ending everything an account
 * holds. Kept apart from the adapter so that these run without loading oidc-provider.
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

/** What an account allowed a client: the provider's `Grant`, as the account's data export shows it. */
export interface AccountGrant {
  clientId: string
  /** The OpenID Connect scopes granted, space-separated. */
  scope: string
  /** Scopes granted per API audience (RFC 8707 resource indicators). */
  resources: Record<string, string>
  /** Epoch ms; null: no expiry. */
  expiresAt: number | null
}

/** The account's live grants. */
export async function listAccountGrants(
  db: Kysely<DB>,
  accountId: string,
  now: number,
): Promise<AccountGrant[]> {
  const rows = await db
    .selectFrom('oidc_models')
    .select(['payload', 'expires_at'])
    .where('model', '=', 'Grant')
    .where('account_id', '=', accountId)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .execute()
  return rows.map((row) => {
    const grant = JSON.parse(row.payload) as {
      clientId: string
      openid?: { scope?: string }
      resources?: Record<string, string>
    }
    return {
      clientId: grant.clientId,
      scope: grant.openid?.scope ?? '',
      resources: grant.resources ?? {},
      expiresAt: row.expires_at,
    }
  })
}
