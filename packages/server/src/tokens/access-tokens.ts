/**
 * Access tokens: JWTs per RFC 9068 (`typ: at+jwt`), signed with the key ring's active key.
 *
 * Verification checks, in order: the header names a published `kid`; the algorithm is that
 * key's algorithm and nothing else (no `none`, no HMAC with a public key — the classic alg
 * confusion); `typ` is `at+jwt`; signature; `iss`, `aud`, `exp` (no leeway beyond clock skew).
 */
import { decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose'
import type { Clock } from '../core/clock.ts'
import { AppError } from '../core/errors.ts'
import { newId } from '../core/ids.ts'
import { type KeyRing, signJws } from './keys.ts'

export const ACCESS_TOKEN_TYPE = 'at+jwt'
const CLOCK_SKEW_SECONDS = 5

export interface AccessTokenClaims {
  sub: string
  sid: string
  scope: string[]
  amr: string[]
  roles?: string[]
}

export interface VerifiedAccessToken extends AccessTokenClaims {
  jti: string
  exp: number
  iat: number
}

export interface AccessTokenOptions {
  keys: KeyRing
  clock: Clock
  issuer: string
  audience: string
  ttlSeconds: number
}

const invalidToken = (detail = 'the access token is invalid') => new AppError(401, 'invalid_token', detail)

/** Tokens verified recently, so a client reusing its token costs one signature check, not one per request. */
const VERIFIED_CACHE_SIZE = 4096

export function createAccessTokens(options: AccessTokenOptions) {
  // Keyed by the whole token string: only a byte-identical token can hit, so this is exactly as
  // strict as verifying again, except for the time, which is checked on every hit.
  const verified = new Map<string, VerifiedAccessToken>()
  const expired = () => new AppError(401, 'token_expired', 'the access token has expired')

  async function verifySignatureAndClaims(token: string): Promise<VerifiedAccessToken> {
    let kid: string | undefined
    try {
      kid = decodeProtectedHeader(token).kid
    } catch {
      throw invalidToken()
    }
    const key = kid ? await options.keys.publicKey(kid) : undefined
    if (!key) throw invalidToken('the access token was not signed by a current key')
    try {
      const { payload } = await jwtVerify(token, key.key, {
        algorithms: [key.alg],
        typ: ACCESS_TOKEN_TYPE,
        issuer: options.issuer,
        audience: options.audience,
        clockTolerance: CLOCK_SKEW_SECONDS,
        currentDate: new Date(options.clock.now()),
        requiredClaims: ['sub', 'sid', 'jti', 'exp', 'iat'],
      })
      return {
        sub: String(payload.sub),
        sid: String(payload.sid),
        jti: String(payload.jti),
        exp: Number(payload.exp),
        iat: Number(payload.iat),
        scope: typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [],
        amr: Array.isArray(payload.amr) ? payload.amr.map(String) : [],
        ...(Array.isArray(payload.roles) ? { roles: payload.roles.map(String) } : {}),
      }
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw expired()
      throw invalidToken()
    }
  }

  return {
    ttlSeconds: options.ttlSeconds,

    sign(claims: AccessTokenClaims): string {
      const iat = Math.floor(options.clock.now() / 1000)
      return signJws(
        options.keys.activeKey(),
        { typ: ACCESS_TOKEN_TYPE },
        {
          iss: options.issuer,
          sub: claims.sub,
          aud: options.audience,
          exp: iat + options.ttlSeconds,
          iat,
          jti: newId(),
          sid: claims.sid,
          scope: claims.scope.join(' '),
          amr: claims.amr,
          ...(claims.roles?.length ? { roles: claims.roles } : {}),
        },
      )
    },

    /** Verifies a bearer token or throws `401 invalid_token` (`token_expired` when only the time is wrong). */
    async verify(token: string): Promise<VerifiedAccessToken> {
      const cached = verified.get(token)
      if (cached) {
        if (cached.exp + CLOCK_SKEW_SECONDS > options.clock.now() / 1000) return cached
        verified.delete(token)
        throw expired()
      }
      const claims = await verifySignatureAndClaims(token)
      if (verified.size >= VERIFIED_CACHE_SIZE) verified.delete(verified.keys().next().value!)
      verified.set(token, claims)
      return claims
    },
  }
}

export type AccessTokens = ReturnType<typeof createAccessTokens>
