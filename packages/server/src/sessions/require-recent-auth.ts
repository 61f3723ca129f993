/**
 * `requireRecentAuth`: the pre-handler for changes a stolen access token must not make alone
 * (adding or removing a factor or passkey, replacing backup codes): the user must also have
 * signed in or re-authenticated within the last few minutes (sudo mode, see reauthentication.ts).
 */
import type { FastifyRequest } from 'fastify'
import type { RequireUser } from './require-user.ts'

export function createRequireRecentAuth(deps: {
  requireUser: RequireUser
  sessions: { assertRecentlyAuthenticated(sessionId: string): Promise<void> }
}) {
  return async function requireRecentAuth(request: FastifyRequest): Promise<void> {
    await deps.requireUser(request)
    await deps.sessions.assertRecentlyAuthenticated(request.auth!.sessionId)
  }
}

export type RequireRecentAuth = ReturnType<typeof createRequireRecentAuth>
