/**
 * `requireUser`: the pre-handler for routes that act as the signed-in user. A bearer access
 * token must verify (see tokens/access-tokens.ts) and its session must still be live, so a
 * token stops working the moment its session ends, not when it expires. Refusals carry the
 * RFC 6750 §3 challenge: `Bearer` without a token, `error="invalid_token"` for a bad one.
 */
import type { FastifyRequest } from 'fastify'
import { AppError, BEARER_CHALLENGE, commonErrors } from '../core/errors.ts'
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
    const claims = await deps.accessTokens.verify(token).catch((err: unknown) => {
      throw invalidTokenChallenge(err)
    })
    if (!(await deps.liveness.isLive(claims.sid, claims.sub)))
      throw invalidTokenChallenge(sessionErrors.sessionEnded())
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

/** The refusal of a presented token (expired, forged, its session ended), with its challenge. */
function invalidTokenChallenge(err: unknown): unknown {
  if (!(err instanceof AppError) || err.status !== 401) return err
  const challenge = `${BEARER_CHALLENGE} error="invalid_token"`
  return new AppError(
    err.status,
    err.code,
    err.detail,
    { ...err.headers, 'www-authenticate': challenge },
    err.errors,
  )
}
