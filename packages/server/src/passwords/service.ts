/**
 * Changing a password: the current one is required, the policy applies, and every other
 * session ends (a thief holding one loses it).
 */
import type { Kysely } from 'kysely'
import type { AccountService } from '../accounts/service.ts'
import type { AuditLog } from '../audit/service.ts'
import type { DB } from '../core/db-schema.ts'
import { AppError } from '../core/errors.ts'
import type { ClientInfo } from '../core/http.ts'
import type { SessionService } from '../sessions/service.ts'
import type { PasswordHasher } from './hasher.ts'
import { assertAcceptablePassword } from './policy.ts'

export interface ChangePasswordInput {
  accountId: string
  sessionId: string
  currentPassword: string
  newPassword: string
}

export function createPasswordService(deps: {
  db: Kysely<DB>
  accounts: AccountService
  sessions: SessionService
  hasher: PasswordHasher
  audit: AuditLog
}) {
  return {
    async changePassword(input: ChangePasswordInput, client: ClientInfo): Promise<void> {
      const account = await deps.accounts.findById(input.accountId)
      if (
        !account?.password_hash ||
        !(await deps.hasher.verify(account.password_hash, input.currentPassword))
      ) {
        throw new AppError(403, 'invalid_current_password', 'the current password is incorrect', {}, [
          { pointer: '/body/currentPassword', detail: 'incorrect' },
        ])
      }
      assertAcceptablePassword(input.newPassword, account.email)
      const passwordHash = await deps.hasher.hash(input.newPassword)
      const ended = await deps.db.transaction().execute(async (trx) => {
        await deps.accounts.setPasswordHash(account.id, passwordHash, trx)
        const ids = await deps.sessions.revokeSessionsIn(trx, account.id, input.sessionId, 'password_changed')
        await deps.audit.record(
          {
            type: 'password.changed',
            accountId: account.id,
            sessionId: input.sessionId,
            client,
            data: { endedSessions: ids.length },
          },
          trx,
        )
        return ids
      })
      await deps.sessions.announceRevoked(ended)
    },
  }
}

export type PasswordService = ReturnType<typeof createPasswordService>
