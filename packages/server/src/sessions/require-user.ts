/**
 * `requireUser`: the pre-handler for routes that act as the signed-in user. A bearer access
 * token must verify (see tokens/access-tokens.ts) and its session must still be live, so a
 * token stops working the moment its session ends, not when it expires.
 */
import type { FastifyRequest } from 'fastify'
import { commonErrors } from '../core/errors.ts'
import type { AccessTokens } from '../tokens/access-tokens.ts'
import { sessionErrors } from './errors.ts'
import type { SessionLiveness } from './liveness.ts'

export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization
  if (!header) return undefined
  const [scheme, token] = header.split(' ')
  return scheme?.toLowerCase() === 'bearer' && token ? token : undefined
}

export function createRequireUser(deps: { accessTokens: AccessTokens; liveness: SessionLiveness }) {
  return async function requireUser(request: FastifyRequest): Promise<void> {
    const token = bearerToken(request)
    if (!token) throw commonErrors.unauthorized()
    const claims = await deps.accessTokens.verify(token)
    if (!(await deps.liveness.isLive(claims.sid, claims.sub))) throw sessionErrors.sessionEnded()
    request.auth = {
      accountId: claims.sub,
      sessionId: claims.sid,
      tokenId: claims.jti,
      scope: claims.scope,
      amr: claims.amr,
      roles: claims.roles ?? [],
    }
  }
}

export type RequireUser = ReturnType<typeof createRequireUser>
