/** Passkeys and WebAuthn challenges: Kysely only. */
import type { Insertable, Kysely, Selectable } from 'kysely'
import type { DB, PasskeysTable, WebauthnChallengesTable } from '../core/db-schema.ts'

export type PasskeyRow = Selectable<PasskeysTable>
export type ChallengePurpose = WebauthnChallengesTable['purpose']

// Passkeys

export async function insertPasskey(db: Kysely<DB>, row: Insertable<PasskeysTable>): Promise<void> {
  await db.insertInto('passkeys').values(row).execute()
}

export function listPasskeys(db: Kysely<DB>, accountId: string): Promise<PasskeyRow[]> {
  return db
    .selectFrom('passkeys')
    .selectAll()
    .where('account_id', '=', accountId)
    .orderBy('created_at')
    .execute()
}

export function findPasskey(db: Kysely<DB>, accountId: string, id: string): Promise<PasskeyRow | undefined> {
  return db
    .selectFrom('passkeys')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .executeTakeFirst()
}

export function findPasskeyByCredentialId(
  db: Kysely<DB>,
  credentialId: string,
): Promise<PasskeyRow | undefined> {
  return db.selectFrom('passkeys').selectAll().where('credential_id', '=', credentialId).executeTakeFirst()
}

export async function countPasskeys(db: Kysely<DB>, accountId: string): Promise<number> {
  const row = await db
    .selectFrom('passkeys')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('account_id', '=', accountId)
    .executeTakeFirstOrThrow()
  return Number(row.n)
}

export async function renamePasskey(
  db: Kysely<DB>,
  accountId: string,
  id: string,
  label: string,
): Promise<boolean> {
  const result = await db
    .updateTable('passkeys')
    .set({ label })
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

export async function deletePasskey(db: Kysely<DB>, accountId: string, id: string): Promise<boolean> {
  const result = await db
    .deleteFrom('passkeys')
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .executeTakeFirst()
  return Number(result.numDeletedRows) === 1
}

/**
 * Records a use. The counter moves only forward (compare-and-set on the value the caller
 * checked), so of two assertions racing with the same counter only one is accepted.
 */
export async function recordPasskeyUse(
  db: Kysely<DB>,
  id: string,
  use: { expectedCounter: number; counter: number; backedUp: boolean; now: number },
): Promise<boolean> {
  const result = await db
    .updateTable('passkeys')
    .set({ counter: use.counter, backed_up: use.backedUp ? 1 : 0, last_used_at: use.now })
    .where('id', '=', id)
    .where('counter', '=', use.expectedCounter)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

// Challenges

export async function insertChallenge(
  db: Kysely<DB>,
  row: Insertable<WebauthnChallengesTable>,
): Promise<void> {
  await db.insertInto('webauthn_challenges').values(row).execute()
}

/** Expired rows (consumed or not) are useless; dropping them keeps the table at a few minutes' worth. */
export async function deleteExpiredChallenges(db: Kysely<DB>, now: number): Promise<void> {
  await db.deleteFrom('webauthn_challenges').where('expires_at', '<=', now).execute()
}

/**
 * Single use: marks a live challenge consumed and says whether this caller did it. It must match
 * the purpose, the account (null for passwordless sign-in) and the value the authenticator signed.
 */
export async function consumeChallenge(
  db: Kysely<DB>,
  match: { id?: string; accountId: string | null; purpose: ChallengePurpose; challenge: string },
  now: number,
): Promise<boolean> {
  let query = db
    .updateTable('webauthn_challenges')
    .set({ consumed_at: now })
    .where('purpose', '=', match.purpose)
    .where('challenge', '=', match.challenge)
    .where('consumed_at', 'is', null)
    .where('expires_at', '>', now)
  query =
    match.accountId === null
      ? query.where('account_id', 'is', null)
      : query.where('account_id', '=', match.accountId)
  if (match.id !== undefined) query = query.where('id', '=', match.id)
  const result = await query.executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}
