/**
 * The one place a password is checked against an account: sign-in, re-authentication, and
 * the password and email changes that ask for the current password. Every path therefore gets
 * the same protections, in this order:
 * 1. a point from the account's lockout budget, taken atomically before anything else;
 * 2. argon2id verification, or a dummy verification when there is no account or password, so
 *    the time taken does not reveal whether the account exists;
 * 3. on failure, the failure is audited and, when it spent the last point, the account locks.
 */
import { emailKey } from '../accounts/service.ts'
import type { AuditLog } from '../audit/service.ts'
import type { ClientInfo } from '../core/http.ts'
import { type PasswordHasher, verifyAccountPassword } from './hasher.ts'
import type { Lockout } from './lockout.ts'

export interface PasswordOwner {
  id: string
  email: string
  password_hash: string | null
}

export function createPasswordChecker(deps: { hasher: PasswordHasher; lockout: Lockout; audit: AuditLog }) {
  return {
    /**
     * True when `password` is the account's. Throws `429 account_locked` while the email is
     * locked. `email` is what the user typed (the lock key), `reason` is recorded on failure.
     */
    async check(
      account: PasswordOwner | undefined,
      email: string,
      password: string,
      client: ClientInfo,
      reason: string,
    ): Promise<boolean> {
      const attempt = await deps.lockout.begin(emailKey(email))
      if (await verifyAccountPassword(deps.hasher, account, password)) {
        await deps.lockout.succeeded(attempt)
        return true
      }
      const outcome = await deps.lockout.failed(attempt)
      await deps.audit.record({ type: 'login.failed', accountId: account?.id, client, data: { reason } })
      if (outcome.locked) {
        await deps.audit.record({
          type: 'login.locked',
          accountId: account?.id,
          client,
          data: { seconds: outcome.seconds, lockNumber: outcome.lockNumber },
        })
      }
      return false
    },
  }
}

export type PasswordChecker = ReturnType<typeof createPasswordChecker>
