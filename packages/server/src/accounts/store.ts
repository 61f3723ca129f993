import { type Insertable, type Kysely, type Selectable, sql, type Updateable } from 'kysely'
import { isUniqueViolation } from '../core/db.ts'
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

/** Compare-and-set of the roles list: false when the account is gone or another writer changed it first. */
export async function replaceAccountRoles(
  db: Kysely<DB>,
  id: string,
  change: { from: string; to: string; now: number },
): Promise<boolean> {
  const result = await db
    .updateTable('accounts')
    .set({ roles: change.to, updated_at: change.now })
    .where('id', '=', id)
    .where('roles', '=', change.from)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

export interface AccountListQuery {
  /** Lower-case substring of the email or the name, matched literally (`%` and `_` are not wildcards). */
  search?: string | undefined
  /** Keyset cursor: the last id of the previous page. */
  before?: string | undefined
  limit: number
}

/** Newest first, keyset-paged by id: UUIDv7 ids sort in creation order, so no offset scans. */
export function listAccounts(db: Kysely<DB>, query: AccountListQuery): Promise<AccountRow[]> {
  let select = db.selectFrom('accounts').selectAll()
  if (query.search) {
    const pattern = `%${escapeLike(query.search)}%`
    select = select.where((eb) =>
      eb.or([
        sql<boolean>`${eb.ref('email_key')} like ${pattern} escape '\\'`,
        sql<boolean>`lower(${eb.ref('name')}) like ${pattern} escape '\\'`,
      ]),
    )
  }
  if (query.before) select = select.where('id', '<', query.before)
  return select.orderBy('id', 'desc').limit(query.limit).execute()
}

/** `\` escapes LIKE's wildcards (and itself), so user input matches only literally. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`)
}

/** Sets or clears `disabled_at`; false when the account is gone or already in that state. */
export async function setAccountDisabled(
  db: Kysely<DB>,
  id: string,
  disabled: boolean,
  now: number,
): Promise<boolean> {
  const result = await db
    .updateTable('accounts')
    .set({ disabled_at: disabled ? now : null, updated_at: now })
    .where('id', '=', id)
    .where('disabled_at', disabled ? 'is' : 'is not', null)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

/** Deletes the account; its sessions, refresh tokens, factors and one-time tokens go with it (FK cascade). */
export async function deleteAccount(db: Kysely<DB>, id: string): Promise<boolean> {
  const result = await db.deleteFrom('accounts').where('id', '=', id).executeTakeFirst()
  return Number(result.numDeletedRows) === 1
}

/** Marks the address proven; a no-op when it already is. */
export async function markEmailVerified(db: Kysely<DB>, id: string, now: number): Promise<void> {
  await db
    .updateTable('accounts')
    .set({ email_verified_at: now, updated_at: now })
    .where('id', '=', id)
    .where('email_verified_at', 'is', null)
    .execute()
}

/** Moves the account to a new (verified) address; false when another account holds it. */
export async function changeAccountEmail(
  db: Kysely<DB>,
  id: string,
  change: { email: string; emailKey: string; now: number },
): Promise<boolean> {
  try {
    const result = await db
      .updateTable('accounts')
      .set({
        email: change.email,
        email_key: change.emailKey,
        email_verified_at: change.now,
        updated_at: change.now,
      })
      .where('id', '=', id)
      .executeTakeFirst()
    return Number(result.numUpdatedRows) === 1
  } catch (err) {
    if (isUniqueViolation(err)) return false
    throw err
  }
}
