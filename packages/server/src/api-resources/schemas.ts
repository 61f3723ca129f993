/**
 * APIs that OAuth access tokens may be issued for (RFC 8707 resource indicators). The schemas
 * fix shape and bounds; what the audience URI may be is checked by the service.
 */
import { type Static, Type } from 'typebox'
import { NextCursor, PageLimit } from '../core/paging.ts'

export const MAX_SCOPES = 100
export const MAX_AUDIENCE_LENGTH = 512
export const MIN_ACCESS_TOKEN_TTL = 60
export const MAX_ACCESS_TOKEN_TTL = 86_400
export const DEFAULT_ACCESS_TOKEN_TTL = 900

const Audience = Type.String({
  minLength: 1,
  maxLength: MAX_AUDIENCE_LENGTH,
  description: 'the resource indicator and token `aud`: an absolute https URI, no fragment or query',
})
const Name = Type.String({ minLength: 1, maxLength: 200 })
/** RFC 6749 §3.3 scope-token. */
export const ScopeToken = Type.String({ pattern: '^[\\x21\\x23-\\x5B\\x5D-\\x7E]+$', maxLength: 128 })
const Scopes = Type.Array(ScopeToken, {
  maxItems: MAX_SCOPES,
  uniqueItems: true,
  description: 'scopes the API accepts, e.g. `invoices:read`; never `openid` or `offline_access`',
})
const AccessTokenTtl = Type.Integer({
  minimum: MIN_ACCESS_TOKEN_TTL,
  maximum: MAX_ACCESS_TOKEN_TTL,
  description: `access-token lifetime in seconds (default ${DEFAULT_ACCESS_TOKEN_TTL})`,
})

export const CreateApiResourceBody = Type.Object(
  {
    audience: Audience,
    name: Type.Optional(Name),
    scopes: Type.Optional(Scopes),
    accessTokenTtl: Type.Optional(AccessTokenTtl),
  },
  { additionalProperties: false },
)
export type CreateApiResourceBody = Static<typeof CreateApiResourceBody>

export const UpdateApiResourceBody = Type.Object(
  {
    audience: Type.Optional(Audience),
    name: Type.Optional(Name),
    scopes: Type.Optional(Scopes),
    accessTokenTtl: Type.Optional(AccessTokenTtl),
  },
  { additionalProperties: false, minProperties: 1 },
)
export type UpdateApiResourceBody = Static<typeof UpdateApiResourceBody>

export const ApiResourceIdParams = Type.Object(
  { id: Type.String({ format: 'uuid' }) },
  { additionalProperties: false },
)

export const ListApiResourcesQuery = Type.Object(
  {
    limit: PageLimit,
    cursor: Type.Optional(Type.String({ format: 'uuid', description: '`nextCursor` of the previous page' })),
  },
  { additionalProperties: false },
)
export type ListApiResourcesQuery = Static<typeof ListApiResourcesQuery>

export const ApiResourceView = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    audience: Type.String(),
    name: Type.String(),
    scopes: Type.Array(Type.String()),
    accessTokenTtl: Type.Integer(),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'ApiResource', additionalProperties: false },
)
export type ApiResourceView = Static<typeof ApiResourceView>

export const ApiResourcePage = Type.Object(
  {
    apiResources: Type.Array(ApiResourceView),
    nextCursor: NextCursor,
  },
  { $id: 'ApiResourcePage', additionalProperties: false },
)
export type ApiResourcePage = Static<typeof ApiResourcePage>
