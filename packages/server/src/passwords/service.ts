/**
 * Changing a password: the current one is required, the policy applies, and every other
 * session ends (a thief holding one loses it).
 *
 * Forgot / reset:
 * - forgot answers `202` with one body for every address, and does the look-up, the token and
 *   the mail after the response, so neither content nor timing reveals whether an account
 *   exists; it is limited per IP and per address;
 * - the link is a 256-bit random token, stored as SHA-256 only, valid for a short time, and a
 *   newer link retires older ones; it carries the address it was mailed to and dies if the
 *   account's address changes;
 * - reset checks the policy *before* consuming the token (a weak password costs no link), then
 *   in one transaction consumes it with a conditional update (of two racing resets exactly one
 *   wins), sets the hash, ends every session and audits; the owner is told by mail.
 */
import type { Kysely } from 'kysely'
import type { AccountService } from '../accounts/service.ts'
import { emailKey } from '../accounts/service.ts'
import type { AuditLog } from '../audit/service.ts'
import type { Clock } from '../core/clock.ts'
import { randomToken, sha256 } from '../core/crypto.ts'
import type { DB } from '../core/db-schema.ts'
import type { ClientInfo } from '../core/http.ts'
import { newId } from '../core/ids.ts'
import type { Mailer } from '../core/mailer.ts'
import {
  consumeOneTimeToken,
  findOneTimeToken,
  insertOneTimeToken,
  retireOneTimeTokens,
} from '../core/one-time-tokens.ts'
import { consumeOrThrow, type LimiterFactory } from '../core/rate-limit.ts'
import type { Notifier } from '../mail/service.ts'
import type { SessionService } from '../sessions/service.ts'
import type { PasswordChecker } from './checker.ts'
import { passwordErrors } from './errors.ts'
import type { PasswordHasher } from './hasher.ts'
import { assertAcceptablePassword } from './policy.ts'

export const RESET_TOKEN_TTL_MINUTES = 15
/** Reset mails one address can be sent per hour. */
export const RESETS_PER_ADDRESS_PER_HOUR = 5

interface ResetTokenData {
  /** `email_key` of the address the link was mailed to. */
  email: string
}

export interface ChangePasswordInput {
  accountId: string
  sessionId: string
  currentPassword: string
  newPassword: string
}

export function createPasswordService(deps: {
  db: Kysely<DB>
  clock: Clock
  accounts: AccountService
  sessions: SessionService
  hasher: PasswordHasher
  checker: PasswordChecker
  audit: AuditLog
  notifier: Notifier
  mailer: Pick<Mailer, 'defer'>
  limiters: LimiterFactory
  ipRateLimitPerMinute: number
}) {
  const { db, clock } = deps
  const limits = {
    forgotPerIp: deps.limiters({
      name: 'ip:password-forgot',
      points: deps.ipRateLimitPerMinute,
      duration: 60,
    }),
    forgotPerAddress: deps.limiters({
      name: 'email:password-forgot',
      points: RESETS_PER_ADDRESS_PER_HOUR,
      duration: 3600,
    }),
    resetPerIp: deps.limiters({ name: 'ip:password-reset', points: deps.ipRateLimitPerMinute, duration: 60 }),
  }

  return {
    async changePassword(input: ChangePasswordInput, client: ClientInfo): Promise<void> {
      const account = await deps.accounts.findById(input.accountId)
      if (
        !account ||
        !(await deps.checker.check(account, account.email, input.currentPassword, client, 'password_change'))
      ) {
        throw passwordErrors.invalidCurrentPassword()
      }
      assertAcceptablePassword(input.newPassword, account.email, 'newPassword')
      const passwordHash = await deps.hasher.hash(input.newPassword)
      const ended = await deps.db.transaction().execute(async (trx) => {
        await deps.accounts.setPasswordHash(account.id, passwordHash, trx)
        await retireOneTimeTokens(trx, account.id, 'reset_password', deps.clock.now()) // an old reset link must not undo this
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
      deps.notifier.passwordChanged(account.email)
    },

    /** Always resolves the same way for every address; the work runs after the response. */
    async forgotPassword(email: string, client: ClientInfo): Promise<void> {
      await consumeOrThrow(limits.forgotPerIp, client.ip)
      await consumeOrThrow(limits.forgotPerAddress, emailKey(email))
      deps.mailer.defer('password reset request', async () => {
        const account = await deps.accounts.findByEmail(email)
        if (!account || account.disabled_at !== null) return
        const token = randomToken()
        const now = clock.now()
        const data: ResetTokenData = { email: account.email_key }
        await db.transaction().execute(async (trx) => {
          await retireOneTimeTokens(trx, account.id, 'reset_password', now)
          await insertOneTimeToken(trx, {
            purpose: 'reset_password',
            id: newId(),
            account_id: account.id,
            secret_hash: sha256(token),
            data: JSON.stringify(data),
            created_at: now,
            expires_at: now + RESET_TOKEN_TTL_MINUTES * 60_000,
            consumed_at: null,
          })
          await deps.audit.record({ type: 'password.reset_requested', accountId: account.id, client }, trx)
        })
        deps.notifier.resetPassword(account.email, token, RESET_TOKEN_TTL_MINUTES)
      })
    },

    /** Sets a new password with a mailed token; every session of the account ends. */
    async resetPassword(input: { token: string; newPassword: string }, client: ClientInfo): Promise<void> {
      await consumeOrThrow(limits.resetPerIp, client.ip)
      const row = await findOneTimeToken(db, sha256(input.token), ['reset_password'])
      if (!row || row.consumed_at !== null || row.expires_at <= clock.now())
        throw passwordErrors.resetTokenInvalid()
      const account = await deps.accounts.findById(row.account_id)
      const { email } = JSON.parse(row.data) as ResetTokenData
      if (!account || account.disabled_at !== null || account.email_key !== email)
        throw passwordErrors.resetTokenInvalid()
      // Before the token is consumed: a refused password must not cost the user the link.
      assertAcceptablePassword(input.newPassword, account.email, 'newPassword')
      const passwordHash = await deps.hasher.hash(input.newPassword)

      const ended = await db.transaction().execute(async (trx) => {
        if (!(await consumeOneTimeToken(trx, row.id, clock.now()))) throw passwordErrors.resetTokenInvalid()
        await deps.accounts.setPasswordHash(account.id, passwordHash, trx)
        // Following the link proved control of the address.
        await deps.accounts.markEmailVerified(account.id, trx)
        const ids = await deps.sessions.revokeSessionsIn(trx, account.id, undefined, 'password_reset')
        await deps.audit.record(
          { type: 'password.reset', accountId: account.id, client, data: { endedSessions: ids.length } },
          trx,
        )
        return ids
      })
      await deps.sessions.announceRevoked(ended)
      deps.notifier.passwordChanged(account.email)
    },
  }
}

export type PasswordService = ReturnType<typeof createPasswordService>
