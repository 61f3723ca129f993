import type { Insertable, Kysely, Selectable, Updateable } from 'kysely'
import { isUniqueViolation } from '../core/db.ts'
import type { ApiResourcesTable, DB } from '../core/db-schema.ts'

/** An API that access tokens may be issued for; `audience` is its resource indicator (RFC 8707). */
export interface ApiResource {
  id: string
  audience: string
  name: string
  scopes: string[]
  accessTokenTtl: number
}

/** An API resource with its bookkeeping, as administrators see it. */
export interface ApiResourceRecord extends ApiResource {
  createdAt: number
  updatedAt: number
}

type ApiResourceRow = Selectable<ApiResourcesTable>

function toApiResource(row: ApiResourceRow): ApiResource {
  return {
    id: row.id,
    audience: row.audience,
    name: row.name,
    scopes: row.scopes.split(' ').filter(Boolean),
    accessTokenTtl: row.access_token_ttl,
  }
}

function toRecord(row: ApiResourceRow): ApiResourceRecord {
  return { ...toApiResource(row), createdAt: row.created_at, updatedAt: row.updated_at }
}

/** The API registered for this resource indicator (compared exactly, as the provider receives it). */
export async function findApiResourceByAudience(
  db: Kysely<DB>,
  audience: string,
): Promise<ApiResource | undefined> {
  const row = await db
    .selectFrom('api_resources')
    .selectAll()
    .where('audience', '=', audience)
    .executeTakeFirst()
  return row && toApiResource(row)
}

export async function findApiResourceById(
  db: Kysely<DB>,
  id: string,
): Promise<ApiResourceRecord | undefined> {
  const row = await db.selectFrom('api_resources').selectAll().where('id', '=', id).executeTakeFirst()
  return row && toRecord(row)
}

/** Newest first, keyset-paged by id (UUIDv7 ids sort in creation order). */
export async function listApiResources(
  db: Kysely<DB>,
  query: { before?: string | undefined; limit: number },
): Promise<ApiResourceRecord[]> {
  let select = db.selectFrom('api_resources').selectAll()
  if (query.before) select = select.where('id', '<', query.before)
  const rows = await select.orderBy('id', 'desc').limit(query.limit).execute()
  return rows.map(toRecord)
}

/** The stored resource, or undefined when its audience is taken (no exception, no half-write). */
export async function insertApiResource(
  db: Kysely<DB>,
  values: Insertable<ApiResourcesTable>,
): Promise<ApiResourceRecord | undefined> {
  const row = await db
    .insertInto('api_resources')
    .values(values)
    .onConflict((oc) => oc.column('audience').doNothing())
    .returningAll()
    .executeTakeFirst()
  return row && toRecord(row)
}

/** The resource as updated; 'missing' when the row is gone, 'taken' when the new audience belongs to another. */
export async function updateApiResource(
  db: Kysely<DB>,
  id: string,
  changes: Updateable<ApiResourcesTable>,
): Promise<ApiResourceRecord | 'missing' | 'taken'> {
  try {
    const row = await db
      .updateTable('api_resources')
      .set(changes)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst()
    return row ? toRecord(row) : 'missing'
  } catch (err) {
    if (isUniqueViolation(err)) return 'taken'
    throw err
  }
}

export async function deleteApiResource(db: Kysely<DB>, id: string): Promise<boolean> {
  const result = await db.deleteFrom('api_resources').where('id', '=', id).executeTakeFirst()
  return Number(result.numDeletedRows) === 1
}
