/**
 * User administration: list and search, inspect, disable, enable, delete; and the CLI's
 * "make this person an administrator".
 *
 * Disabling or deleting a user ends every one of their sessions in the same transaction and
 * then announces the revocation, so their access tokens fail on the next request (on every
 * instance), not when they expire, and their refresh tokens are dead. Administrators cannot
 * disable or delete themselves, which also means the last administrator cannot lock everyone out.
 * Every change is audited against the user, with the administrator's id in the data.
 */
import { randomBytes } from 'node:crypto'
import type { Kysely } from 'kysely'
import { type Account, type AccountService, rolesOf, toUser } from '../accounts/service.ts'
import type { AuditLog } from '../audit/service.ts'
import type { DB } from '../core/db-schema.ts'
import { rowsToFetch, toPage } from '../core/paging.ts'
import type { MfaService } from '../mfa/service.ts'
import type { PasswordHasher } from '../passwords/hasher.ts'
import { assertAcceptablePassword } from '../passwords/policy.ts'
import type { PrivacyService } from '../privacy/service.ts'
import type { Actor } from '../sessions/require-admin.ts'
import type { SessionService } from '../sessions/service.ts'
import { adminErrors } from './errors.ts'
import type { AdminUser, AdminUserDetail, ListUsersQuery, UserPage } from './schemas.ts'

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

export function toAdminUser(row: Account): AdminUser {
  return {
    ...toUser(row),
    disabled: row.disabled_at !== null,
    disabledAt: iso(row.disabled_at),
    roles: rolesOf(row),
  }
}

export function createAdminService(deps: {
  db: Kysely<DB>
  accounts: AccountService
  sessions: SessionService
  mfa: MfaService
  audit: AuditLog
  privacy: PrivacyService
}) {
  const { db, accounts, sessions, audit } = deps

  async function existing(id: string, trx: Kysely<DB> = db): Promise<Account> {
    const row = await accounts.findById(id, trx)
    if (!row) throw adminErrors.userNotFound()
    return row
  }

  return {
    async listUsers(query: ListUsersQuery): Promise<UserPage> {
      const limit = rowsToFetch(query.limit)
      const search = query.query?.trim()
      const rows = await accounts.listAccounts({ search: search || undefined, before: query.cursor, limit })
      const { items, nextCursor } = toPage(rows, limit, (last) => last.id)
      return { users: items.map(toAdminUser), nextCursor }
    },

    async getUser(id: string): Promise<AdminUserDetail> {
      const row = await existing(id)
      const [mfa, lastLoginAt] = await Promise.all([deps.mfa.status(id), sessions.lastSignInAt(id)])
      return { ...toAdminUser(row), mfaEnabled: mfa.enabled, lastLoginAt: iso(lastLoginAt) }
    },

    /**
     * Sets `disabled_at` and ends every session, first-party and OIDC (with its grants).
     * Repeating it is harmless and ends any session that a sign-in racing the first call may
     * have started.
     */
    async disableUser(actor: Actor, id: string): Promise<AdminUser> {
      if (id === actor.accountId) throw adminErrors.cannotModifySelf()
      const ended = await db.transaction().execute(async (trx) => {
        await existing(id, trx)
        const changed = await accounts.setDisabled(id, true, trx)
        const ids = await sessions.revokeSessionsIn(trx, id, undefined, 'account_disabled')
        if (changed || ids.length > 0) {
          await audit.record(
            {
              type: 'admin.user_disabled',
              accountId: id,
              client: actor.client,
              data: { adminId: actor.accountId, endedSessions: ids.length },
            },
            trx,
          )
        }
        return ids
      })
      await sessions.announceRevoked(ended)
      return toAdminUser(await existing(id))
    },

    async enableUser(actor: Actor, id: string): Promise<AdminUser> {
      const row = await db.transaction().execute(async (trx) => {
        await existing(id, trx)
        if (await accounts.setDisabled(id, false, trx)) {
          await audit.record(
            {
              type: 'admin.user_enabled',
              accountId: id,
              client: actor.client,
              data: { adminId: actor.accountId },
            },
            trx,
          )
        }
        return existing(id, trx)
      })
      return toAdminUser(row)
    },

    /** The same erasure as the account holder's own (privacy/service.ts), audited as the admin's. */
    async deleteUser(actor: Actor, id: string): Promise<void> {
      if (id === actor.accountId) throw adminErrors.cannotModifySelf()
      if (!(await deps.privacy.eraseAccount(id, { admin: actor }))) throw adminErrors.userNotFound()
    },

    /**
     * `tessera admin remove`: the account keeps everything but the admin role. Its sessions end
     * too, so the admin tokens it holds stop at once instead of when they expire.
     */
    async removeAdminRole(email: string): Promise<{ outcome: 'removed' | 'not_admin'; account: Account }> {
      const account = await accounts.findByEmail(email)
      if (!account) throw adminErrors.userNotFound()
      const ended = await db.transaction().execute(async (trx) => {
        if (!(await accounts.revokeRole(account.id, 'admin', trx))) return undefined
        const ids = await sessions.revokeSessionsIn(trx, account.id, undefined, 'admin_role_removed')
        await audit.record(
          {
            type: 'admin.role_revoked',
            accountId: account.id,
            data: { role: 'admin', by: 'cli', endedSessions: ids.length },
          },
          trx,
        )
        return ids
      })
      if (!ended) return { outcome: 'not_admin', account }
      await sessions.announceRevoked(ended)
      return { outcome: 'removed', account }
    },
  }
}

export type AdminService = ReturnType<typeof createAdminService>

/** Length in bytes of a generated administrator password (base64url: 4 characters per 3 bytes). */
const GENERATED_PASSWORD_BYTES = 18

export interface AdminBootstrapInput {
  email: string
  /** For a new account; generated (and returned once) when absent. Ignored for an existing one. */
  password?: string | undefined
  name?: string | undefined
}

export type AdminBootstrapResult =
  | { outcome: 'created'; account: Account; generatedPassword: string | undefined }
  | { outcome: 'promoted' | 'already_admin'; account: Account }

/**
 * `tessera admin create`: makes the account with this email an administrator, creating it when
 * there is none. Idempotent: running it again reports `already_admin` and changes nothing.
 */
export async function createOrPromoteAdmin(
  deps: { db: Kysely<DB>; accounts: AccountService; hasher: PasswordHasher; audit: AuditLog },
  input: AdminBootstrapInput,
): Promise<AdminBootstrapResult> {
  const { db, accounts, audit } = deps
  const promote = async (account: Account): Promise<AdminBootstrapResult> => {
    const granted = await db.transaction().execute(async (trx) => {
      if (!(await accounts.grantRole(account.id, 'admin', trx))) return false
      await audit.record(
        { type: 'admin.role_granted', accountId: account.id, data: { role: 'admin', by: 'cli' } },
        trx,
      )
      return true
    })
    return {
      outcome: granted ? 'promoted' : 'already_admin',
      account: (await accounts.findById(account.id))!,
    }
  }

  const found = await accounts.findByEmail(input.email)
  if (found) return promote(found)

  const generatedPassword =
    input.password === undefined ? randomBytes(GENERATED_PASSWORD_BYTES).toString('base64url') : undefined
  const password = input.password ?? generatedPassword!
  assertAcceptablePassword(password, input.email)
  const passwordHash = await deps.hasher.hash(password)
  const account = await db.transaction().execute(async (trx) => {
    const created = await accounts.createAccount({ email: input.email, passwordHash, name: input.name }, trx)
    await accounts.grantRole(created.id, 'admin', trx)
    await audit.record({ type: 'account.registered', accountId: created.id, data: { by: 'cli' } }, trx)
    await audit.record(
      { type: 'admin.role_granted', accountId: created.id, data: { role: 'admin', by: 'cli' } },
      trx,
    )
    return created
  })
  return { outcome: 'created', account: (await accounts.findById(account.id))!, generatedPassword }
}
