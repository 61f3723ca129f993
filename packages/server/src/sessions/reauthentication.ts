/**
 * Sudo mode: a session proves again that its user is present (password or a second factor),
 * and sensitive changes (removing factors, replacing backup codes, adding a passkey) are allowed
 * for a few minutes after that or after sign-in. A stolen access token alone cannot make them.
 */
import { emailKey } from '../accounts/service.ts'
import type { ClientInfo } from '../core/http.ts'
import { verifyAccountPassword } from '../passwords/hasher.ts'
import { sessionErrors } from './errors.ts'
import type { ReauthBody } from './schemas.ts'
import type { SessionDeps } from './service.ts'
import { findSession, markSessionAuthenticated } from './store.ts'

/** How long a sign-in or re-authentication counts as recent for sensitive changes. */
export const REAUTH_WINDOW_MS = 5 * 60 * 1000

export function createReauthentication(
  deps: Pick<SessionDeps, 'db' | 'clock' | 'accounts' | 'hasher' | 'lockout' | 'mfa' | 'audit'>,
) {
  const { db, clock, audit } = deps

  async function verifyPassword(
    account: { id: string; email: string; password_hash: string | null },
    password: string,
    client: ClientInfo,
  ) {
    const key = emailKey(account.email)
    const lockedFor = await deps.lockout.lockedFor(key)
    if (lockedFor > 0) throw sessionErrors.accountLocked(lockedFor)
    if (!(await verifyAccountPassword(deps.hasher, account, password))) {
      await deps.lockout.recordFailure(key)
      await audit.record({
        type: 'login.failed',
        accountId: account.id,
        client,
        data: { reason: 'reauthentication' },
      })
      throw sessionErrors.invalidCredentials()
    }
  }

  return {
    async reauthenticate(
      auth: { accountId: string; sessionId: string },
      input: ReauthBody,
      client: ClientInfo,
    ) {
      const account = await deps.accounts.findById(auth.accountId)
      if (!account) throw sessionErrors.sessionEnded()
      let method: string
      if (input.password !== undefined) {
        await verifyPassword(account, input.password, client)
        method = 'pwd'
      } else if (input.method) {
        const proof = { method: input.method, code: input.code, credential: input.credential }
        method = await deps.mfa.verify(account.id, proof, client)
      } else {
        throw sessionErrors.reauthenticationInputMissing()
      }
      await markSessionAuthenticated(db, auth.sessionId, clock.now())
      await audit.record({
        type: 'reauthenticated',
        accountId: account.id,
        sessionId: auth.sessionId,
        client,
        data: { method },
      })
    },

    /** Throws `403 reauthentication_required` unless the session proved presence recently. */
    async assertRecentlyAuthenticated(sessionId: string): Promise<void> {
      const session = await findSession(db, sessionId)
      if (!session || clock.now() - session.authenticated_at > REAUTH_WINDOW_MS) {
        throw sessionErrors.reauthenticationRequired()
      }
    },
  }
}
