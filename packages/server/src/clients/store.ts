import type { Insertable, Kysely, Selectable, Updateable } from 'kysely'
import type { SecretBox } from '../core/crypto.ts'
import type { DB, OauthClientsTable } from '../core/db-schema.ts'
import { type ClientMetadata, providerMetadata } from './metadata.ts'

export type ClientRow = Selectable<OauthClientsTable>

/** Binds a sealed secret to its client: a ciphertext copied onto another row does not open. */
export function secretContext(clientId: string): string {
  return `client_secret:${clientId}`
}

export function parseClientMetadata(row: ClientRow): ClientMetadata {
  return JSON.parse(row.metadata) as ClientMetadata
}

/**
 * The client as oidc-provider takes it (`{ client_id, client_name, ...metadata, client_secret? }`),
 * or undefined. The provider calls this for every request that names a client: one primary-key
 * lookup, and the secret is opened only when the client has one.
 */
export async function findClientMetadata(
  db: Kysely<DB>,
  box: SecretBox,
  clientId: string,
): Promise<Record<string, unknown> | undefined> {
  const row = await findClientRow(db, clientId)
  if (!row) return undefined
  const secret =
    row.client_secret === null ? undefined : box.decrypt(row.client_secret, secretContext(clientId))
  return providerMetadata(row.client_id, row.client_name, parseClientMetadata(row), secret)
}

export function findClientRow(db: Kysely<DB>, clientId: string): Promise<ClientRow | undefined> {
  return db.selectFrom('oauth_clients').selectAll().where('client_id', '=', clientId).executeTakeFirst()
}

export async function insertClientRow(db: Kysely<DB>, row: Insertable<OauthClientsTable>): Promise<void> {
  await db.insertInto('oauth_clients').values(row).execute()
}

/** Newest first, keyset-paged on (created_at, client_id): client ids are random, not time-ordered. */
export function listClientRows(
  db: Kysely<DB>,
  query: { after?: { createdAt: number; clientId: string } | undefined; limit: number },
): Promise<ClientRow[]> {
  let select = db.selectFrom('oauth_clients').selectAll()
  const { after } = query
  if (after) {
    select = select.where((eb) =>
      eb.or([
        eb('created_at', '<', after.createdAt),
        eb.and([eb('created_at', '=', after.createdAt), eb('client_id', '<', after.clientId)]),
      ]),
    )
  }
  return select.orderBy('created_at', 'desc').orderBy('client_id', 'desc').limit(query.limit).execute()
}

/**
 * Compare-and-set: applies `changes` only while the row still holds what the caller read, so
 * two racing updates or rotations cannot both report success (one secret would be dead on
 * arrival). False when the row changed or is gone.
 */
export async function replaceClientRow(
  db: Kysely<DB>,
  read: ClientRow,
  changes: Updateable<OauthClientsTable>,
): Promise<boolean> {
  let update = db
    .updateTable('oauth_clients')
    .set(changes)
    .where('client_id', '=', read.client_id)
    .where('client_name', '=', read.client_name)
    .where('metadata', '=', read.metadata)
  update =
    read.client_secret === null
      ? update.where('client_secret', 'is', null)
      : update.where('client_secret', '=', read.client_secret)
  const result = await update.executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

export async function deleteClientRow(db: Kysely<DB>, clientId: string): Promise<ClientRow | undefined> {
  const row = await findClientRow(db, clientId)
  if (!row) return undefined
  const result = await db.deleteFrom('oauth_clients').where('client_id', '=', clientId).executeTakeFirst()
  return Number(result.numDeletedRows) === 1 ? row : undefined
}
