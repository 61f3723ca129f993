import type { Insertable, Kysely, Selectable } from 'kysely'
import type {
  BackupCodesTable,
  DB,
  FactorType,
  MfaChallengesTable,
  MfaFactorsTable,
} from '../core/db-schema.ts'

export type FactorRow = Selectable<MfaFactorsTable>
export type ChallengeRow = Selectable<MfaChallengesTable>

// Factors

export async function insertFactor(db: Kysely<DB>, row: Insertable<MfaFactorsTable>): Promise<void> {
  await db.insertInto('mfa_factors').values(row).execute()
}

export function listFactors(db: Kysely<DB>, accountId: string): Promise<FactorRow[]> {
  return db
    .selectFrom('mfa_factors')
    .selectAll()
    .where('account_id', '=', accountId)
    .orderBy('created_at')
    .execute()
}

export function findActiveFactor(db: Kysely<DB>, accountId: string, type: FactorType, id?: string) {
  let query = db
    .selectFrom('mfa_factors')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('type', '=', type)
    .where('status', '=', 'active')
  if (id) query = query.where('id', '=', id)
  return query.execute()
}

export function findPendingFactor(db: Kysely<DB>, accountId: string, type: FactorType) {
  return db
    .selectFrom('mfa_factors')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('type', '=', type)
    .where('status', '=', 'pending')
    .orderBy('created_at', 'desc')
    .executeTakeFirst()
}

export async function deletePendingFactors(
  db: Kysely<DB>,
  accountId: string,
  type: FactorType,
): Promise<void> {
  await db
    .deleteFrom('mfa_factors')
    .where('account_id', '=', accountId)
    .where('type', '=', type)
    .where('status', '=', 'pending')
    .execute()
}

export async function activateFactor(
  db: Kysely<DB>,
  id: string,
  step: number | null,
  now: number,
  label?: string,
): Promise<boolean> {
  const result = await db
    .updateTable('mfa_factors')
    .set({
      status: 'active',
      activated_at: now,
      last_totp_step: step,
      last_used_at: now,
      ...(label ? { label } : {}),
    })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

/** Accepts a TOTP step only if it is later than every step accepted before (RFC 6238 §5.2). */
export async function acceptTotpStep(
  db: Kysely<DB>,
  id: string,
  step: number,
  now: number,
): Promise<boolean> {
  const result = await db
    .updateTable('mfa_factors')
    .set({ last_totp_step: step, last_used_at: now })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('last_totp_step', 'is', null), eb('last_totp_step', '<', step)]))
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

export async function touchFactor(db: Kysely<DB>, id: string, now: number): Promise<void> {
  await db.updateTable('mfa_factors').set({ last_used_at: now }).where('id', '=', id).execute()
}

export async function deleteFactor(
  db: Kysely<DB>,
  accountId: string,
  id: string,
): Promise<FactorRow | undefined> {
  const row = await db
    .selectFrom('mfa_factors')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .executeTakeFirst()
  if (row) await db.deleteFrom('mfa_factors').where('id', '=', id).execute()
  return row
}

export async function deleteAllFactors(db: Kysely<DB>, accountId: string): Promise<void> {
  await db.deleteFrom('mfa_factors').where('account_id', '=', accountId).execute()
  await db.deleteFrom('passkeys').where('account_id', '=', accountId).execute()
  await db.deleteFrom('backup_codes').where('account_id', '=', accountId).execute()
}

/** Active factors and passkeys together, in one round trip (every sign-in asks). */
export async function countActiveSecondFactors(db: Kysely<DB>, accountId: string): Promise<number> {
  const row = await db
    .selectNoFrom((eb) => [
      eb
        .selectFrom('mfa_factors')
        .select(eb.fn.countAll<number>().as('n'))
        .where('account_id', '=', accountId)
        .where('status', '=', 'active')
        .as('factors'),
      eb
        .selectFrom('passkeys')
        .select(eb.fn.countAll<number>().as('n'))
        .where('account_id', '=', accountId)
        .as('passkeys'),
    ])
    .executeTakeFirstOrThrow()
  return Number(row.factors) + Number(row.passkeys)
}

// Backup codes

/** The old set dies with the new one (one transaction, supplied by the caller). */
export async function replaceBackupCodes(
  db: Kysely<DB>,
  accountId: string,
  rows: Insertable<BackupCodesTable>[],
) {
  await db.deleteFrom('backup_codes').where('account_id', '=', accountId).execute()
  await db.insertInto('backup_codes').values(rows).execute()
}

/** Marks one unused code used; false when there is none with that hash (wrong or already used). */
export async function consumeBackupCode(
  db: Kysely<DB>,
  accountId: string,
  hash: string,
  now: number,
): Promise<boolean> {
  const result = await db
    .updateTable('backup_codes')
    .set({ used_at: now })
    .where('account_id', '=', accountId)
    .where('code_hash', '=', hash)
    .where('used_at', 'is', null)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

export async function countUnusedBackupCodes(db: Kysely<DB>, accountId: string): Promise<number> {
  const row = await db
    .selectFrom('backup_codes')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('account_id', '=', accountId)
    .where('used_at', 'is', null)
    .executeTakeFirstOrThrow()
  return Number(row.n)
}

// Login challenges (mfaToken)

export async function insertChallenge(db: Kysely<DB>, row: Insertable<MfaChallengesTable>): Promise<void> {
  await db.insertInto('mfa_challenges').values(row).execute()
}

export function findChallenge(db: Kysely<DB>, id: string): Promise<ChallengeRow | undefined> {
  return db.selectFrom('mfa_challenges').selectAll().where('id', '=', id).executeTakeFirst()
}

/** Counts a wrong code; returns the new count. */
export async function recordChallengeFailure(db: Kysely<DB>, id: string): Promise<number> {
  await db
    .updateTable('mfa_challenges')
    .set((eb) => ({ failed_attempts: eb('failed_attempts', '+', 1) }))
    .where('id', '=', id)
    .execute()
  const row = await db
    .selectFrom('mfa_challenges')
    .select('failed_attempts')
    .where('id', '=', id)
    .executeTakeFirst()
  return row?.failed_attempts ?? Number.POSITIVE_INFINITY
}

/** Single use: only one caller can consume a live challenge. */
export async function consumeChallenge(
  db: Kysely<DB>,
  id: string,
  maxFailures: number,
  now: number,
): Promise<boolean> {
  const result = await db
    .updateTable('mfa_challenges')
    .set({ consumed_at: now })
    .where('id', '=', id)
    .where('consumed_at', 'is', null)
    .where('expires_at', '>', now)
    .where('failed_attempts', '<', maxFailures)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}
