/**
 * `requireAdmin`: the pre-handler for the admin API. Everything `requireUser` checks (the token
 * verifies, its session is live), then the token's `roles` claim must hold `admin`. The claim
 * is fixed when the token is issued, so a promotion takes effect at the next refresh or sign-in,
 * and disabling an admin ends their sessions, which stops their tokens at once.
 */
import type { FastifyRequest } from 'fastify'
import { type ClientInfo, clientInfo } from '../core/http.ts'
import { sessionErrors } from './errors.ts'
import type { RequireUser } from './require-user.ts'

export const ADMIN_ROLE = 'admin'

export function createRequireAdmin(deps: { requireUser: RequireUser }) {
  return async function requireAdmin(request: FastifyRequest): Promise<void> {
    await deps.requireUser(request)
    if (!request.auth?.roles.includes(ADMIN_ROLE)) throw sessionErrors.adminRequired()
  }
}

export type RequireAdmin = ReturnType<typeof createRequireAdmin>

/** The administrator making a change, and from where: what the audit log records. */
export interface Actor {
  accountId: string
  client: ClientInfo
}

/** The administrator behind a request that `requireAdmin` let through. */
export function actorOf(request: FastifyRequest): Actor {
  return { accountId: request.auth!.accountId, client: clientInfo(request) }
}
