import type { Insertable, Kysely, Selectable, Updateable } from 'kysely'
import type { AccountsTable, DB } from '../core/db-schema.ts'

export type AccountRow = Selectable<AccountsTable>

export function findAccountById(db: Kysely<DB>, id: string): Promise<AccountRow | undefined> {
  return db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst()
}

export function findAccountByEmailKey(db: Kysely<DB>, emailKey: string): Promise<AccountRow | undefined> {
  return db.selectFrom('accounts').selectAll().where('email_key', '=', emailKey).executeTakeFirst()
}

/** Inserts unless the email is taken; returns false on conflict (no exception, no half-write). */
export async function insertAccount(db: Kysely<DB>, row: Insertable<AccountsTable>): Promise<boolean> {
  const result = await db
    .insertInto('accounts')
    .values(row)
    .onConflict((oc) => oc.column('email_key').doNothing())
    .executeTakeFirst()
  return Number(result.numInsertedOrUpdatedRows ?? 0) === 1
}

export async function updateAccount(
  db: Kysely<DB>,
  id: string,
  changes: Updateable<AccountsTable>,
): Promise<AccountRow | undefined> {
  await db.updateTable('accounts').set(changes).where('id', '=', id).execute()
  return findAccountById(db, id)
}
