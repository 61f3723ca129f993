/**
 * OAuth 2 / OpenID Connect clients as administrators register them. Field names are those of
 * dynamic client registration (RFC 7591 §2), so the stored metadata is what oidc-provider reads.
 * The schemas fix the shape (types, enums, unknown fields); the rules that relate fields to each
 * other or look inside URIs live in metadata.ts and answer `invalid_client_metadata`.
 */
import { type Static, Type } from 'typebox'
import { NextCursor, PageLimit } from '../core/paging.ts'

export const GrantType = Type.Union([
  Type.Literal('authorization_code'),
  Type.Literal('refresh_token'),
  Type.Literal('client_credentials'),
  Type.Literal('urn:ietf:params:oauth:grant-type:device_code'),
])
export type GrantType = Static<typeof GrantType>

export const AuthMethod = Type.Union(
  [
    Type.Literal('client_secret_basic'),
    Type.Literal('client_secret_post'),
    Type.Literal('private_key_jwt'),
    Type.Literal('none'),
  ],
  { description: '`none` for public clients (SPAs, native and CLI apps)' },
)
export type AuthMethod = Static<typeof AuthMethod>

export const ApplicationType = Type.Union([Type.Literal('web'), Type.Literal('native')])

/** One public JWK; members beyond `kty` are checked by the metadata rules (no private parts). */
const Jwk = Type.Object({ kty: Type.String() }, { additionalProperties: true })
export const Jwks = Type.Object({ keys: Type.Array(Jwk) }, { additionalProperties: false })
export type Jwks = Static<typeof Jwks>

/** RFC 6749 §3.3: scope tokens separated by single spaces. */
const SCOPE_TOKEN = '[\\x21\\x23-\\x5B\\x5D-\\x7E]+'
export const ScopeString = Type.String({
  pattern: `^${SCOPE_TOKEN}( ${SCOPE_TOKEN})*$`,
  maxLength: 2000,
  description: 'space-separated scopes the client may ask for, e.g. `openid profile email offline_access`',
})

const Uri = (description: string) => Type.String({ description })
const UriList = (description: string) => Type.Array(Type.String(), { uniqueItems: true, description })
const ClientName = Type.String({ minLength: 1, maxLength: 200 })

/** Every settable field but the name, each optional: shared by create and update. */
const settable = {
  redirect_uris: Type.Optional(UriList('absolute, no fragment; https, or http on a loopback host')),
  post_logout_redirect_uris: Type.Optional(UriList('where RP-initiated logout may return to')),
  grant_types: Type.Optional(
    Type.Array(GrantType, {
      minItems: 1,
      uniqueItems: true,
      description: 'default `["authorization_code","refresh_token"]`',
    }),
  ),
  token_endpoint_auth_method: Type.Optional(AuthMethod),
  application_type: Type.Optional(ApplicationType),
  dpop_bound_access_tokens: Type.Optional(Type.Boolean()),
}

/** Fields that can be removed again: `null` in an update clears them (JSON merge patch). */
const clearable = {
  scope: ScopeString,
  logo_uri: Uri('https'),
  client_uri: Uri('https'),
  policy_uri: Uri('https'),
  tos_uri: Uri('https'),
  jwks: Jwks,
  jwks_uri: Uri('https; for private_key_jwt, instead of jwks'),
}

export const CreateClientBody = Type.Object(
  {
    client_name: ClientName,
    ...settable,
    scope: Type.Optional(clearable.scope),
    logo_uri: Type.Optional(clearable.logo_uri),
    client_uri: Type.Optional(clearable.client_uri),
    policy_uri: Type.Optional(clearable.policy_uri),
    tos_uri: Type.Optional(clearable.tos_uri),
    jwks: Type.Optional(clearable.jwks),
    jwks_uri: Type.Optional(clearable.jwks_uri),
  },
  { additionalProperties: false },
)
export type CreateClientBody = Static<typeof CreateClientBody>

const orNull = <T extends (typeof clearable)[keyof typeof clearable]>(schema: T) =>
  Type.Optional(Type.Union([schema, Type.Null()]))

export const UpdateClientBody = Type.Object(
  {
    client_name: Type.Optional(ClientName),
    ...settable,
    scope: orNull(clearable.scope),
    logo_uri: orNull(clearable.logo_uri),
    client_uri: orNull(clearable.client_uri),
    policy_uri: orNull(clearable.policy_uri),
    tos_uri: orNull(clearable.tos_uri),
    jwks: orNull(clearable.jwks),
    jwks_uri: orNull(clearable.jwks_uri),
  },
  { additionalProperties: false, minProperties: 1 },
)
export type UpdateClientBody = Static<typeof UpdateClientBody>

export const ClientIdParams = Type.Object(
  { clientId: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) },
  { additionalProperties: false },
)

/** Keyset cursor: `<created_at ms>.<client_id>` of the last client on the previous page. */
export const CLIENT_CURSOR_PATTERN = '^([0-9]{1,16})\\.([A-Za-z0-9_-]{1,64})$'

export const ListClientsQuery = Type.Object(
  {
    limit: PageLimit,
    cursor: Type.Optional(
      Type.String({ pattern: CLIENT_CURSOR_PATTERN, description: '`nextCursor` of the previous page' }),
    ),
  },
  { additionalProperties: false },
)
export type ListClientsQuery = Static<typeof ListClientsQuery>

const Timestamp = Type.String({ format: 'date-time' })

/** A client as administrators see it: never its secret. */
export const OAuthClient = Type.Object(
  {
    client_id: Type.String(),
    client_name: Type.String(),
    redirect_uris: Type.Array(Type.String()),
    post_logout_redirect_uris: Type.Array(Type.String()),
    grant_types: Type.Array(GrantType),
    response_types: Type.Array(Type.Literal('code'), {
      description: '`["code"]` with authorization_code, else `[]`',
    }),
    token_endpoint_auth_method: AuthMethod,
    application_type: ApplicationType,
    dpop_bound_access_tokens: Type.Boolean(),
    scope: Type.Optional(Type.String()),
    logo_uri: Type.Optional(Type.String()),
    client_uri: Type.Optional(Type.String()),
    policy_uri: Type.Optional(Type.String()),
    tos_uri: Type.Optional(Type.String()),
    jwks: Type.Optional(Jwks),
    jwks_uri: Type.Optional(Type.String()),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { $id: 'OAuthClient', additionalProperties: false },
)
export type OAuthClient = Static<typeof OAuthClient>

/** Create, rotate, and an update that switches to a secret method: the secret, this once. */
export const OAuthClientWithSecret = Type.Object(
  {
    ...OAuthClient.properties,
    client_secret: Type.Optional(
      Type.String({ description: 'shown only in this response; store it now (it cannot be read back)' }),
    ),
  },
  { $id: 'OAuthClientWithSecret', additionalProperties: false },
)
export type OAuthClientWithSecret = Static<typeof OAuthClientWithSecret>

export const ClientPage = Type.Object(
  {
    clients: Type.Array(OAuthClient),
    nextCursor: NextCursor,
  },
  { $id: 'ClientPage', additionalProperties: false },
)
export type ClientPage = Static<typeof ClientPage>
