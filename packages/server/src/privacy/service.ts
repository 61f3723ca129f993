/**
 * The account holder's data rights (GDPR): a copy of what Tessera keeps about them (Art. 15 and
 * 20: profile, sessions, factors, passkeys, grants to clients, history) and erasure (Art. 17).
 * The routes ask for a recent sign-in or re-authentication for both: a stolen access token alone
 * must not read the account's history, or delete it.
 *
 * Erasure deletes the account and, by cascade, its sessions, refresh tokens, factors, passkeys
 * and pending links, with the provider's grants and tokens; its sessions stop at once on every
 * instance. Audit events stay (they hold the id, not a reference): the record of what happened.
 * The administrator's deletion of a user is the same erasure, audited as theirs.
 */
import type { Kysely } from 'kysely'
import type { AccountService } from '../accounts/service.ts'
import type { AuditLog } from '../audit/service.ts'
import type { Clock } from '../core/clock.ts'
import type { DB } from '../core/db-schema.ts'
import type { ClientInfo } from '../core/http.ts'
import type { PasskeyService } from '../mfa/passkeys.ts'
import type { MfaService } from '../mfa/service.ts'
import type { AccountGrant } from '../oidc/models-store.ts'
import type { SessionService } from '../sessions/service.ts'
import type { AccountExport } from './schemas.ts'

/** More than any account's history holds in practice; the export is one JSON answer. */
const EXPORTED_AUDIT_EVENTS = 10_000

/** Who erases an account, for the audit log. */
export type Eraser = { self: ClientInfo } | { admin: { accountId: string; client: ClientInfo } }

/** How an erasure is audited: as the holder's own, or as the administrator's. */
function erasureAudit(by: Eraser, endedSessions: number) {
  if ('self' in by) return { type: 'account.deleted' as const, client: by.self, data: { endedSessions } }
  const { accountId: adminId, client } = by.admin
  return { type: 'admin.user_deleted' as const, client, data: { endedSessions, adminId } }
}

export function createPrivacyService(deps: {
  db: Kysely<DB>
  clock: Clock
  accounts: AccountService
  sessions: SessionService
  mfa: MfaService
  passkeys: PasskeyService
  audit: AuditLog
  /** The live grants the account gave clients (oidc/models-store.ts). */
  listGrants(accountId: string): Promise<AccountGrant[]>
}) {
  const { db, accounts, sessions, audit } = deps
  const iso = (ms: number) => new Date(ms).toISOString()

  return {
    async exportAccount(accountId: string, currentSessionId: string): Promise<AccountExport> {
      const [user, liveSessions, mfa, passkeys, grants, events] = await Promise.all([
        accounts.getProfile(accountId),
        sessions.listSessions(accountId, currentSessionId),
        deps.mfa.status(accountId),
        deps.passkeys.listPasskeys(accountId),
        deps.listGrants(accountId),
        audit.listForAccount(accountId, EXPORTED_AUDIT_EVENTS),
      ])
      return {
        exportedAt: iso(deps.clock.now()),
        user,
        sessions: liveSessions,
        mfa,
        passkeys,
        grants: grants.map((g) => ({ ...g, expiresAt: g.expiresAt === null ? null : iso(g.expiresAt) })),
        auditEvents: events.map((e) => ({
          type: e.type,
          occurredAt: iso(e.occurredAt),
          ip: e.ip,
          userAgent: e.userAgent,
          data: e.data,
        })),
      }
    },

    /** `false` when there is no such account. */
    async eraseAccount(accountId: string, by: Eraser): Promise<boolean> {
      const ended = await db.transaction().execute(async (trx) => {
        // Revoked first only to learn which sessions to announce: the rows go with the account.
        const ids = await sessions.revokeSessionsIn(trx, accountId, undefined, 'account_deleted')
        if (!(await accounts.deleteAccount(accountId, trx))) return undefined
        await audit.record({ accountId, ...erasureAudit(by, ids.length) }, trx)
        return ids
      })
      if (!ended) return false
      await sessions.announceRevoked(ended)
      return true
    },
  }
}

export type PrivacyService = ReturnType<typeof createPrivacyService>
