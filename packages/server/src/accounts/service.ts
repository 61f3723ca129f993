/**
 * Accounts: the identity record (email, profile, password hash). Sessions and tokens live in
 * the sessions feature, which calls this one.
 */
import type { Kysely } from 'kysely'
import type { Clock } from '../core/clock.ts'
import type { DB } from '../core/db-schema.ts'
import { newId } from '../core/ids.ts'
import { accountErrors } from './errors.ts'
import type { UpdateProfileBody, User } from './schemas.ts'
import {
  type AccountListQuery,
  type AccountRow,
  deleteAccount,
  findAccountByEmailKey,
  findAccountById,
  insertAccount,
  listAccounts,
  markEmailVerified,
  replaceAccountRoles,
  setAccountDisabled,
  updateAccount,
} from './store.ts'

export type Account = AccountRow
export type { AccountListQuery }

/** Platform roles an account can hold; carried in access tokens as the `roles` claim. */
export type Role = 'admin'

export function rolesOf(account: Pick<AccountRow, 'roles'>): string[] {
  return account.roles.split(' ').filter(Boolean)
}

/** Attempts at a compare-and-set of the roles before giving up (only concurrent grants collide). */
const ROLE_WRITE_ATTEMPTS = 3

/** Trimmed and NFC-normalised, as shown back to the user. */
export function normalizeEmail(email: string): string {
  return email.trim().normalize('NFC')
}

/** The uniqueness key: case-insensitive (`Alice@Example.com` and `alice@example.com` are one account). */
export function emailKey(email: string): string {
  return normalizeEmail(email).toLowerCase()
}

export function toUser(row: AccountRow): User {
  return {
    id: row.id,
    email: row.email,
    emailVerified: row.email_verified_at !== null,
    name: row.name,
    locale: row.locale,
    timeZone: row.time_zone,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  }
}

export interface NewAccount {
  email: string
  passwordHash: string
  name?: string | undefined
}

export function createAccountService(deps: { db: Kysely<DB>; clock: Clock }) {
  /**
   * Applies `change` to the account's roles (`undefined`: nothing to change, answers `false`),
   * compare-and-set on the roles as read, so two changes at once cannot undo each other.
   */
  async function changeRoles(
    db: Kysely<DB>,
    id: string,
    change: (roles: string[]) => string[] | undefined,
  ): Promise<boolean> {
    for (let attempt = 0; attempt < ROLE_WRITE_ATTEMPTS; attempt++) {
      const row = await findAccountById(db, id)
      if (!row) throw accountErrors.accountNotFound()
      const roles = change(rolesOf(row))
      if (!roles) return false
      const to = roles.sort().join(' ')
      if (await replaceAccountRoles(db, id, { from: row.roles, to, now: deps.clock.now() })) return true
    }
    throw new Error(`roles of account ${id} kept changing; try again`)
  }

  return {
    /** Creates the account, or throws `409 email_taken`. Pass a transaction as `db`. */
    async createAccount(input: NewAccount, db: Kysely<DB> = deps.db): Promise<AccountRow> {
      const now = deps.clock.now()
      const row: AccountRow = {
        id: newId(),
        email: normalizeEmail(input.email),
        email_key: emailKey(input.email),
        email_verified_at: null,
        name: input.name ?? null,
        locale: null,
        time_zone: null,
        password_hash: input.passwordHash,
        created_at: now,
        updated_at: now,
        disabled_at: null,
        roles: '',
      }
      if (!(await insertAccount(db, row))) throw accountErrors.emailTaken()
      return row
    },

    findByEmail: (email: string) => findAccountByEmailKey(deps.db, emailKey(email)),
    findById: (id: string, db: Kysely<DB> = deps.db) => findAccountById(db, id),

    async getProfile(id: string): Promise<User> {
      const row = await findAccountById(deps.db, id)
      if (!row) throw accountErrors.accountNotFound()
      return toUser(row)
    },

    async updateProfile(id: string, changes: UpdateProfileBody): Promise<User> {
      const row = await updateAccount(deps.db, id, {
        ...(changes.name !== undefined ? { name: changes.name } : {}),
        ...(changes.locale !== undefined ? { locale: changes.locale } : {}),
        ...(changes.timeZone !== undefined ? { time_zone: changes.timeZone } : {}),
        updated_at: deps.clock.now(),
      })
      if (!row) throw accountErrors.accountNotFound()
      return toUser(row)
    },

    async setPasswordHash(id: string, passwordHash: string, db: Kysely<DB> = deps.db): Promise<void> {
      await updateAccount(db, id, { password_hash: passwordHash, updated_at: deps.clock.now() })
    },

    /**
     * Gives the account a role; `false` when it already had it. Tokens issued from now on carry
     * it; tokens issued before do not (the holder refreshes or signs in again).
     */
    grantRole: (id: string, role: Role, db: Kysely<DB> = deps.db): Promise<boolean> =>
      changeRoles(db, id, (roles) => (roles.includes(role) ? undefined : [...roles, role])),

    /** Takes a role away; `false` when the account did not have it. */
    revokeRole: (id: string, role: Role, db: Kysely<DB> = deps.db): Promise<boolean> =>
      changeRoles(db, id, (roles) => (roles.includes(role) ? roles.filter((r) => r !== role) : undefined)),

    /** Newest first; `search` is a case-insensitive substring of the email or the name. */
    listAccounts: (query: AccountListQuery) =>
      listAccounts(deps.db, { ...query, search: query.search?.toLowerCase() }),

    /** Sets or clears `disabled_at`; false when nothing changed. Pass a transaction as `db`. */
    setDisabled: (id: string, disabled: boolean, db: Kysely<DB> = deps.db) =>
      setAccountDisabled(db, id, disabled, deps.clock.now()),

    /** Deletes the account and (by cascade) everything it owns; false when there was none. */
    deleteAccount: (id: string, db: Kysely<DB> = deps.db) => deleteAccount(db, id),

    /** The address is proven (a link mailed to it was followed). Pass a transaction as `db`. */
    async markEmailVerified(id: string, db: Kysely<DB> = deps.db): Promise<void> {
      await markEmailVerified(db, id, deps.clock.now())
    },
  }
}

export type AccountService = ReturnType<typeof createAccountService>
