/**
 * The audit log: one row per security-relevant event. Facts only, never secrets.
 */
import type { Kysely } from 'kysely'
import type { Clock } from '../core/clock.ts'
import type { DB } from '../core/db-schema.ts'
import type { ClientInfo } from '../core/http.ts'
import { newId } from '../core/ids.ts'
import { insertAuditEvent, listAuditEventsForAccount } from './store.ts'

export type AuditEventType =
  | 'account.registered'
  | 'account.deleted'
  | 'login.succeeded'
  | 'login.failed'
  | 'login.locked'
  | 'logout'
  | 'refresh_token.reused'
  | 'password.changed'
  | 'sessions.revoked'
  | 'email.verification_sent'
  | 'email.verified'
  | 'email.change_requested'
  | 'email.changed'
  | 'password.reset_requested'
  | 'password.reset'
  | 'reauthenticated'
  | 'mfa.failed'
  | 'mfa.factor_added'
  | 'mfa.factor_removed'
  | 'mfa.disabled'
  | 'mfa.backup_codes_regenerated'
  | 'passkey.used'
  | 'passkey.clone_suspected'
  | 'admin.role_granted'
  | 'admin.role_revoked'
  | 'admin.user_disabled'
  | 'admin.user_enabled'
  | 'admin.user_deleted'
  | 'client.created'
  | 'client.updated'
  | 'client.deleted'
  | 'client.secret_rotated'
  | 'api_resource.created'
  | 'api_resource.updated'
  | 'api_resource.deleted'

export interface AuditEntry {
  type: AuditEventType
  accountId?: string | null
  sessionId?: string | null
  client?: ClientInfo | undefined
  data?: Record<string, unknown>
}

export function createAuditLog(deps: { db: Kysely<DB>; clock: Clock }) {
  return {
    /** Writes one event; pass a transaction as `db` to make it part of a larger write. */
    async record(entry: AuditEntry, db: Kysely<DB> = deps.db): Promise<void> {
      await insertAuditEvent(db, {
        id: newId(),
        occurred_at: deps.clock.now(),
        type: entry.type,
        account_id: entry.accountId ?? null,
        session_id: entry.sessionId ?? null,
        ip: entry.client?.ip ?? null,
        user_agent: entry.client?.userAgent ?? null,
        data: JSON.stringify(entry.data ?? {}),
      })
    },
    async listForAccount(accountId: string, limit?: number) {
      const rows = await listAuditEventsForAccount(deps.db, accountId, limit)
      return rows.map((r) => ({
        id: r.id,
        type: r.type as AuditEventType,
        occurredAt: r.occurred_at,
        sessionId: r.session_id,
        ip: r.ip,
        userAgent: r.user_agent,
        data: JSON.parse(r.data) as Record<string, unknown>,
      }))
    },
  }
}

export type AuditLog = ReturnType<typeof createAuditLog>
