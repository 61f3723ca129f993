import type { Insertable, Kysely, Selectable } from 'kysely'
import type { DB, SigningKeysTable } from '../core/db-schema.ts'

export type SigningKeyRow = Selectable<SigningKeysTable>

/** Keys still published: the active one and retired ones whose tokens may still be live. */
export function listPublishedKeys(db: Kysely<DB>, now: number): Promise<SigningKeyRow[]> {
  return db
    .selectFrom('signing_keys')
    .selectAll()
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .orderBy('created_at', 'desc')
    .execute()
}

export function listAllKeys(db: Kysely<DB>): Promise<SigningKeyRow[]> {
  return db.selectFrom('signing_keys').selectAll().orderBy('created_at', 'desc').execute()
}

export async function insertSigningKey(db: Kysely<DB>, row: Insertable<SigningKeysTable>): Promise<void> {
  await db.insertInto('signing_keys').values(row).execute()
}

/** Retires every active key except `keepKid`; they stay published until `expiresAt`. */
export async function retireKeysExcept(db: Kysely<DB>, keepKid: string, now: number, expiresAt: number) {
  await db
    .updateTable('signing_keys')
    .set({ retired_at: now, expires_at: expiresAt })
    .where('retired_at', 'is', null)
    .where('kid', '!=', keepKid)
    .execute()
}

export async function deleteExpiredKeys(db: Kysely<DB>, now: number): Promise<void> {
  await db.deleteFrom('signing_keys').where('expires_at', '<=', now).execute()
}
