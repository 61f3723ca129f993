/**
 * API resources: the APIs OAuth access tokens may be issued for (RFC 8707). The provider looks
 * one up by the `resource` a client names and issues a token with that audience, the API's
 * scopes and its token lifetime.
 *
 * Checks on the audience: an absolute `https:` URI (`http:` on a loopback host outside
 * production), without fragment (RFC 8707 §2 MUST) or query (SHOULD NOT), without credentials;
 * unique, and never the built-in first-party API's audience, whose tokens Tessera issues itself.
 * Scopes are the API's own: `openid` and `offline_access` belong to the provider.
 */
import type { Kysely } from 'kysely'
import type { AuditEventType, AuditLog } from '../audit/service.ts'
import type { Clock } from '../core/clock.ts'
import type { DB } from '../core/db-schema.ts'
import { newId } from '../core/ids.ts'
import { rowsToFetch, toPage } from '../core/paging.ts'
import { isLoopback } from '../core/urls.ts'
import type { Actor } from '../sessions/require-admin.ts'
import { apiResourceErrors } from './errors.ts'
import {
  type ApiResourcePage,
  type ApiResourceView,
  type CreateApiResourceBody,
  DEFAULT_ACCESS_TOKEN_TTL,
  type ListApiResourcesQuery,
  type UpdateApiResourceBody,
} from './schemas.ts'
import {
  type ApiResourceRecord,
  deleteApiResource,
  findApiResourceById,
  insertApiResource,
  listApiResources,
  updateApiResource,
} from './store.ts'

/** Scopes the provider itself defines: an API may not redefine them. */
const RESERVED_SCOPES = new Set(['openid', 'offline_access'])

const iso = (ms: number) => new Date(ms).toISOString()

function toView(record: ApiResourceRecord): ApiResourceView {
  return { ...record, createdAt: iso(record.createdAt), updatedAt: iso(record.updatedAt) }
}

/** The same URI however it is spelled (`HTTPS://Api.Example.com` is `https://api.example.com/`). */
const sameUri = (a: string, b: string) => a === b || URL.parse(a)?.href === URL.parse(b)?.href

export function createApiResourceService(deps: {
  db: Kysely<DB>
  clock: Clock
  audit: AuditLog
  /** The first-party API's audience (config `apiAudience`): built in, never registered. */
  apiAudience: string
  /** Outside production, `http://localhost…` audiences are accepted for local development. */
  allowLoopbackHttp: boolean
}) {
  const { db, clock, audit } = deps

  function checkAudience(audience: string): void {
    const fail = (detail: string) => apiResourceErrors.invalid('audience', detail)
    if (/[\s\p{Cc}]/u.test(audience)) throw fail('must not contain spaces or control characters')
    const url = URL.parse(audience)
    if (!url) throw fail('must be an absolute URI')
    const loopbackHttp = url.protocol === 'http:' && isLoopback(url)
    if (url.protocol !== 'https:' && !(deps.allowLoopbackHttp && loopbackHttp))
      throw fail(deps.allowLoopbackHttp ? 'must use https: (or http: on a loopback host)' : 'must use https:')
    if (audience.includes('#')) throw fail('must not contain a fragment')
    if (url.search || audience.includes('?')) throw fail('must not contain a query')
    if (url.username || url.password) throw fail('must not contain credentials')
    if (sameUri(audience, deps.apiAudience)) throw apiResourceErrors.audienceTaken()
  }

  function checkScopes(scopes: string[]): void {
    scopes.forEach((scope, index) => {
      if (RESERVED_SCOPES.has(scope))
        throw apiResourceErrors.invalid(
          `scopes/${index}`,
          `${scope} is the provider's own scope, not an API's`,
        )
    })
  }

  async function existing(id: string, trx: Kysely<DB> = db): Promise<ApiResourceRecord> {
    const found = await findApiResourceById(trx, id)
    if (!found) throw apiResourceErrors.notFound()
    return found
  }

  function record(actor: Actor, type: AuditEventType, data: Record<string, unknown>, trx: Kysely<DB>) {
    return audit.record({ type, client: actor.client, data: { ...data, adminId: actor.accountId } }, trx)
  }

  return {
    async createApiResource(actor: Actor, input: CreateApiResourceBody): Promise<ApiResourceView> {
      checkAudience(input.audience)
      const scopes = input.scopes ?? []
      checkScopes(scopes)
      const now = clock.now()
      const id = newId()
      const created = await db.transaction().execute(async (trx) => {
        const inserted = await insertApiResource(trx, {
          id,
          audience: input.audience,
          name: input.name ?? input.audience,
          scopes: scopes.join(' '),
          access_token_ttl: input.accessTokenTtl ?? DEFAULT_ACCESS_TOKEN_TTL,
          created_at: now,
          updated_at: now,
        })
        if (!inserted) throw apiResourceErrors.audienceTaken()
        await record(actor, 'api_resource.created', { apiResourceId: id, audience: input.audience }, trx)
        return inserted
      })
      return toView(created)
    },

    async listApiResources(query: ListApiResourcesQuery): Promise<ApiResourcePage> {
      const limit = rowsToFetch(query.limit)
      const rows = await listApiResources(db, { before: query.cursor, limit })
      const { items, nextCursor } = toPage(rows, limit, (last) => last.id)
      return { apiResources: items.map(toView), nextCursor }
    },

    async getApiResource(id: string): Promise<ApiResourceView> {
      return toView(await existing(id))
    },

    async updateApiResource(
      actor: Actor,
      id: string,
      patch: UpdateApiResourceBody,
    ): Promise<ApiResourceView> {
      if (patch.audience !== undefined) checkAudience(patch.audience)
      if (patch.scopes) checkScopes(patch.scopes)
      const before = await existing(id)
      const fields = (Object.keys(patch) as (keyof UpdateApiResourceBody)[]).filter(
        (field) => JSON.stringify(patch[field]) !== JSON.stringify(before[field]),
      )
      if (fields.length === 0) return toView(before)
      const updated = await db.transaction().execute(async (trx) => {
        const outcome = await updateApiResource(trx, id, {
          ...(patch.audience !== undefined ? { audience: patch.audience } : {}),
          ...(patch.name !== undefined ? { name: patch.name } : {}),
          ...(patch.scopes ? { scopes: patch.scopes.join(' ') } : {}),
          ...(patch.accessTokenTtl !== undefined ? { access_token_ttl: patch.accessTokenTtl } : {}),
          updated_at: clock.now(),
        })
        if (outcome === 'taken') throw apiResourceErrors.audienceTaken()
        if (outcome === 'missing') throw apiResourceErrors.notFound()
        await record(actor, 'api_resource.updated', { apiResourceId: id, fields: fields.sort() }, trx)
        return outcome
      })
      return toView(updated)
    },

    /** Tokens already issued for the API stay valid until they expire; no new ones are issued. */
    async deleteApiResource(actor: Actor, id: string): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const found = await existing(id, trx)
        if (!(await deleteApiResource(trx, id))) throw apiResourceErrors.notFound()
        await record(actor, 'api_resource.deleted', { apiResourceId: id, audience: found.audience }, trx)
      })
    },
  }
}

export type ApiResourceService = ReturnType<typeof createApiResourceService>
