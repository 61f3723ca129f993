/**
 * Resource indicators (RFC 8707): the APIs access tokens are issued for. Tokens for an API are
 * JWTs (RFC 9068, `typ: at+jwt`) with the API's URI as `aud`, signed by the same keys as every
 * other Tessera token, so a resource server verifies them offline against the one JWKS.
 *
 * Tessera's own v1 API is built in (its audience is `apiAudience`); admins register others.
 */
import { errors, type ResourceServer } from 'oidc-provider'
import type { ApiResource } from '../api-resources/store.ts'
import type { SigningAlg } from '../tokens/keys.ts'

export interface ResourceDeps {
  /** The first-party API's audience (config `apiAudience`). */
  apiAudience: string
  /** Lifetime of first-party access tokens, used for the built-in API too. */
  accessTokenTtl: number
  signingAlg: SigningAlg
  findApiResource(audience: string): Promise<ApiResource | undefined>
}

/** Scopes of the built-in first-party API, as its own tokens carry them. */
const FIRST_PARTY_API_SCOPES = ['profile', 'email']

export function createResourceServers(deps: ResourceDeps) {
  const jwt = (ttl: number, scopes: string[]): ResourceServer => ({
    scope: scopes.join(' '),
    accessTokenTTL: ttl,
    accessTokenFormat: 'jwt',
    jwt: { sign: { alg: deps.signingAlg } },
  })

  return {
    async getResourceServerInfo(_ctx: unknown, indicator: string): Promise<ResourceServer> {
      if (indicator === deps.apiAudience) return jwt(deps.accessTokenTtl, FIRST_PARTY_API_SCOPES)
      const api = await deps.findApiResource(indicator)
      if (!api) throw new errors.InvalidTarget()
      return jwt(api.accessTokenTtl, api.scopes)
    },
  }
}
