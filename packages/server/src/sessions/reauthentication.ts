/**
 * Sudo mode: a session proves again that its user is present (password or a second factor),
 * and sensitive changes (removing factors, replacing backup codes, adding a passkey) are allowed
 * for a few minutes after that or after sign-in. A stolen access token alone cannot make them.
 */
import type { ClientInfo } from '../core/http.ts'
import { sessionErrors } from './errors.ts'
import type { ReauthBody } from './schemas.ts'
import type { SessionDeps } from './service.ts'
import { findSession, markSessionAuthenticated } from './store.ts'

/** How long a sign-in or re-authentication counts as recent for sensitive changes. */
export const REAUTH_WINDOW_MS = 5 * 60 * 1000

export function createReauthentication(
  deps: Pick<SessionDeps, 'db' | 'clock' | 'accounts' | 'passwords' | 'mfa' | 'audit'>,
) {
  const { db, clock, audit } = deps

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
        if (
          !(await deps.passwords.check(account, account.email, input.password, client, 'reauthentication'))
        ) {
          throw sessionErrors.invalidCredentials()
        }
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
