/**
 * The rules a client's metadata must meet before it is stored; oidc-provider reads the result
 * as is. Each failure is a 400 `invalid_client_metadata` naming the field. Checks:
 * - grant types: `refresh_token` only beside a grant that signs a user in; `client_credentials`
 *   only for confidential clients (RFC 6749 §4.4), so never with `none`;
 * - `authorization_code` needs a redirect URI; `response_types` follows from the grant types;
 * - redirect URIs (RFC 9700 §4.1, RFC 8252 §7): absolute, no fragment, no credentials, bounded
 *   in length and count; `https:`, or `http:` on a loopback host only; private-use schemes
 *   (`com.example.app:/cb`) only for native clients; claimed https URIs of native clients are
 *   not loopback (oidc-provider refuses those);
 * - `private_key_jwt` needs exactly one of `jwks` and `jwks_uri`, holding public keys only;
 *   other methods take neither (a key set nobody uses is a key set nobody audits);
 * - informational URIs are web URIs; `jwks_uri` is https.
 */
import { isLoopback } from '../core/urls.ts'
import { clientErrors } from './errors.ts'
import type { AuthMethod, GrantType, Jwks } from './schemas.ts'

export const DEFAULT_GRANT_TYPES: GrantType[] = ['authorization_code', 'refresh_token']
export const MAX_URIS = 20
export const MAX_URI_LENGTH = 2000
export const MAX_JWKS_KEYS = 10

const DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code'
/** RFC 8252 §7.1: a private-use scheme is a reverse domain name, so it always holds a dot. */
const PRIVATE_USE_SCHEME = /^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+:$/
/** JWK members that only private or symmetric keys have (RFC 7518 §6). */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']
const SECRET_METHODS = new Set<AuthMethod>(['client_secret_basic', 'client_secret_post'])

/** What is stored in `oauth_clients.metadata`: everything but the id, the name and the secret. */
export interface ClientMetadata {
  redirect_uris: string[]
  post_logout_redirect_uris: string[]
  grant_types: GrantType[]
  response_types: 'code'[]
  token_endpoint_auth_method: AuthMethod
  application_type: 'web' | 'native'
  dpop_bound_access_tokens: boolean
  scope?: string
  logo_uri?: string
  client_uri?: string
  policy_uri?: string
  tos_uri?: string
  jwks?: Jwks
  jwks_uri?: string
}

/** Metadata as given: any field may be missing (defaults apply) or null (an update clears it). */
export type ClientMetadataInput = {
  [K in keyof ClientMetadata]?: ClientMetadata[K] | null | undefined
}

/** Whether this method authenticates with a shared secret, which Tessera then generates and stores. */
export function usesSecret(method: AuthMethod): boolean {
  return SECRET_METHODS.has(method)
}

/** The object oidc-provider takes as a client's metadata. */
export function providerMetadata(
  clientId: string,
  clientName: string,
  metadata: ClientMetadata,
  secret: string | undefined,
): Record<string, unknown> {
  return {
    client_id: clientId,
    client_name: clientName,
    ...metadata,
    ...(secret ? { client_secret: secret } : {}),
  }
}

/** Applies the defaults, derives `response_types`, and checks every rule above. */
export function buildClientMetadata(input: ClientMetadataInput): ClientMetadata {
  const grantTypes = input.grant_types ?? DEFAULT_GRANT_TYPES
  const method = input.token_endpoint_auth_method ?? 'client_secret_basic'
  const applicationType = input.application_type ?? 'web'
  const metadata: ClientMetadata = {
    redirect_uris: input.redirect_uris ?? [],
    post_logout_redirect_uris: input.post_logout_redirect_uris ?? [],
    grant_types: grantTypes,
    response_types: grantTypes.includes('authorization_code') ? ['code'] : [],
    token_endpoint_auth_method: method,
    application_type: applicationType,
    dpop_bound_access_tokens: input.dpop_bound_access_tokens ?? false,
  }
  if (input.scope) metadata.scope = [...new Set(input.scope.split(' '))].join(' ')
  for (const field of ['logo_uri', 'client_uri', 'policy_uri', 'tos_uri'] as const) {
    const value = input[field]
    if (value) metadata[field] = checkWebUri(field, value)
  }
  if (input.jwks) metadata.jwks = checkJwks(input.jwks)
  if (input.jwks_uri) metadata.jwks_uri = checkJwksUri(input.jwks_uri)

  checkGrants(metadata)
  checkClientAuthentication(metadata)
  checkRedirectUris('redirect_uris', metadata.redirect_uris, applicationType)
  checkRedirectUris('post_logout_redirect_uris', metadata.post_logout_redirect_uris, applicationType)
  if (grantTypes.includes('authorization_code') && metadata.redirect_uris.length === 0)
    throw clientErrors.invalidMetadata('redirect_uris', 'authorization_code needs at least one redirect URI')
  return metadata
}

function checkGrants({ grant_types: grants, token_endpoint_auth_method: method }: ClientMetadata): void {
  if (
    grants.includes('refresh_token') &&
    !grants.some((g) => g === 'authorization_code' || g === DEVICE_CODE)
  )
    throw clientErrors.invalidMetadata(
      'grant_types',
      'refresh_token needs authorization_code or the device code grant (client_credentials gets no refresh tokens)',
    )
  if (method === 'none' && grants.includes('client_credentials'))
    throw clientErrors.invalidMetadata(
      'grant_types',
      'client_credentials is for confidential clients; a client with token_endpoint_auth_method none cannot use it',
    )
}

function checkClientAuthentication(metadata: ClientMetadata): void {
  const keySources = [metadata.jwks && 'jwks', metadata.jwks_uri && 'jwks_uri'].filter(Boolean)
  if (metadata.token_endpoint_auth_method === 'private_key_jwt') {
    if (keySources.length !== 1)
      throw clientErrors.invalidMetadata('jwks', 'private_key_jwt needs exactly one of jwks and jwks_uri')
  } else if (keySources.length > 0) {
    const field = keySources[0] as string
    throw clientErrors.invalidMetadata(
      field,
      `${field} is only used with token_endpoint_auth_method private_key_jwt`,
    )
  }
}

/** Parses an absolute URI, refusing what no registered URI may hold. */
function parseUri(pointer: string, value: string): URL {
  if (value.length > MAX_URI_LENGTH)
    throw clientErrors.invalidMetadata(pointer, `must be at most ${MAX_URI_LENGTH} characters`)
  // URL parsing would quietly strip these, and the provider compares the string as registered.
  if (/[\s\p{Cc}]/u.test(value))
    throw clientErrors.invalidMetadata(pointer, 'must not contain spaces or control characters')
  const url = URL.parse(value)
  if (!url) throw clientErrors.invalidMetadata(pointer, 'must be an absolute URI')
  if (value.includes('#')) throw clientErrors.invalidMetadata(pointer, 'must not contain a fragment')
  if (url.username || url.password)
    throw clientErrors.invalidMetadata(pointer, 'must not contain credentials')
  return url
}

function checkRedirectUris(field: string, uris: string[], applicationType: 'web' | 'native'): void {
  if (uris.length > MAX_URIS) throw clientErrors.invalidMetadata(field, `at most ${MAX_URIS} URIs`)
  uris.forEach((value, index) => {
    const pointer = `${field}/${index}`
    const url = parseUri(pointer, value)
    const loopback = isLoopback(url)
    if (url.protocol === 'https:') {
      if (loopback && applicationType === 'native')
        throw clientErrors.invalidMetadata(
          pointer,
          'native clients use http: for loopback redirects (RFC 8252 §7.3), not https:',
        )
    } else if (url.protocol === 'http:') {
      if (!loopback)
        throw clientErrors.invalidMetadata(
          pointer,
          'must use https: (http: only for localhost, 127.0.0.1 or [::1])',
        )
    } else if (applicationType !== 'native' || !PRIVATE_USE_SCHEME.test(url.protocol)) {
      throw clientErrors.invalidMetadata(
        pointer,
        applicationType === 'native'
          ? 'a private-use scheme must be a reverse domain name, e.g. com.example.app:/callback'
          : 'must use https: (private-use schemes are for application_type native)',
      )
    }
  })
}

function checkWebUri(field: string, value: string): string {
  const url = parseUri(field, value)
  const ok = url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url))
  if (!ok) throw clientErrors.invalidMetadata(field, 'must use https: (http: only for a loopback host)')
  return value
}

function checkJwksUri(value: string): string {
  if (parseUri('jwks_uri', value).protocol !== 'https:')
    throw clientErrors.invalidMetadata('jwks_uri', 'must use https:')
  return value
}

function checkJwks(jwks: Jwks): Jwks {
  if (jwks.keys.length === 0 || jwks.keys.length > MAX_JWKS_KEYS)
    throw clientErrors.invalidMetadata('jwks/keys', `must hold 1 to ${MAX_JWKS_KEYS} keys`)
  jwks.keys.forEach((key, index) => {
    const pointer = `jwks/keys/${index}`
    if (!['RSA', 'EC', 'OKP'].includes(key.kty))
      throw clientErrors.invalidMetadata(
        pointer,
        'kty must be RSA, EC or OKP (public keys, not shared secrets)',
      )
    const leaked = PRIVATE_JWK_MEMBERS.filter((member) => member in key)
    if (leaked.length > 0)
      throw clientErrors.invalidMetadata(
        pointer,
        `holds private key material (${leaked.join(', ')}); register the public key only`,
      )
  })
  return jwks
}
