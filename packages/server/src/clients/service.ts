/**
 * OAuth 2 / OpenID Connect clients: register, list, inspect, update, delete, rotate the secret.
 *
 * - Secrets (client_secret_basic/post) are 256 random bits, shown once in the answer that
 *   issues them and kept only envelope-encrypted: oidc-provider compares the plain value itself,
 *   so a hash would not do. Moving to `none` or `private_key_jwt` drops the secret; moving back
 *   issues a new one.
 * - Every change passes the metadata rules (metadata.ts) and then oidc-provider's own validation
 *   (`validateMetadata`), from the admin API and `tessera clients create` alike, so nothing the
 *   provider would refuse is stored.
 * - Updates and rotations are compare-and-set on the row as read: of two racing requests one
 *   fails, instead of both reporting a secret of which only one works.
 * - Every change is audited with who made it; never with the secret.
 */
import type { Kysely } from 'kysely'
import type { AuditEventType, AuditLog } from '../audit/service.ts'
import type { Clock } from '../core/clock.ts'
import { randomToken, type SecretBox } from '../core/crypto.ts'
import type { DB } from '../core/db-schema.ts'
import { rowsToFetch, toPage } from '../core/paging.ts'
import type { Actor } from '../sessions/require-admin.ts'
import { clientErrors } from './errors.ts'
import {
  buildClientMetadata,
  type ClientMetadata,
  type ClientMetadataInput,
  providerMetadata,
  usesSecret,
} from './metadata.ts'
import {
  CLIENT_CURSOR_PATTERN,
  type ClientPage,
  type CreateClientBody,
  type ListClientsQuery,
  type OAuthClient,
  type OAuthClientWithSecret,
  type UpdateClientBody,
} from './schemas.ts'
import {
  type ClientRow,
  deleteClientRow,
  findClientRow,
  insertClientRow,
  listClientRows,
  parseClientMetadata,
  replaceClientRow,
  secretContext,
} from './store.ts'

/** 128 random bits: 22 base64url characters. */
const CLIENT_ID_BYTES = 16
/** 256 random bits: 43 base64url characters. */
const CLIENT_SECRET_BYTES = 32

/** oidc-provider's `Client.validate`: throws (with `error_description`) what the provider would refuse. */
export type ValidateMetadata = (metadata: Record<string, unknown>) => Promise<void>

/** Who made a change: an administrator over HTTP, or an operator at the `tessera` command line. */
export type ChangedBy = Actor | 'cli'

const iso = (ms: number) => new Date(ms).toISOString()

export function toClient(row: ClientRow): OAuthClient {
  return {
    client_id: row.client_id,
    client_name: row.client_name,
    ...parseClientMetadata(row),
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  }
}

const withSecret = (client: OAuthClient, secret: string | undefined): OAuthClientWithSecret =>
  secret ? { ...client, client_secret: secret } : client

/** The provider's one-line reason, never its stack. */
function describeRefusal(err: unknown): string {
  const e = err as { error_description?: unknown; message?: unknown } | null
  const text = [e?.error_description, e?.message].find((v): v is string => typeof v === 'string' && v !== '')
  return text?.split('\n', 1)[0] ?? 'the OpenID provider refused this client metadata'
}

/**
 * An update is a JSON merge patch over the stored metadata (null clears a field). `jwks` and
 * `jwks_uri` are alternatives: setting one retires the other, and leaving private_key_jwt
 * retires both, unless the update names them (and then the rules judge the result).
 */
function mergeMetadata(before: ClientMetadata, changes: Omit<UpdateClientBody, 'client_name'>) {
  const merged: ClientMetadataInput = { ...before, ...changes }
  const named = (field: string) => field in changes
  if (changes.jwks && !named('jwks_uri')) merged.jwks_uri = null
  if (changes.jwks_uri && !named('jwks')) merged.jwks = null
  if (merged.token_endpoint_auth_method !== 'private_key_jwt') {
    if (!named('jwks')) merged.jwks = null
    if (!named('jwks_uri')) merged.jwks_uri = null
  }
  return merged
}

/** Names of the fields an update changes (response_types follows grant_types and is not listed). */
function changedFields(before: ClientRow, name: string, after: ClientMetadata): string[] {
  const old = parseClientMetadata(before) as unknown as Record<string, unknown>
  const now = after as unknown as Record<string, unknown>
  const keys = [...new Set([...Object.keys(old), ...Object.keys(now)])].filter((k) => k !== 'response_types')
  const fields = keys.filter((k) => JSON.stringify(old[k]) !== JSON.stringify(now[k])).sort()
  return name === before.client_name ? fields : ['client_name', ...fields]
}

export function createClientService(deps: {
  db: Kysely<DB>
  box: SecretBox
  clock: Clock
  audit: AuditLog
  validateMetadata?: ValidateMetadata | undefined
}) {
  const { db, box, clock, audit } = deps

  async function existing(clientId: string): Promise<ClientRow> {
    const row = await findClientRow(db, clientId)
    if (!row) throw clientErrors.clientNotFound()
    return row
  }

  /** Why a compare-and-set failed: the client is gone, or another request changed it first. */
  async function lostRace(trx: Kysely<DB>, clientId: string) {
    return (await findClientRow(trx, clientId))
      ? clientErrors.changedMeanwhile()
      : clientErrors.clientNotFound()
  }

  async function validate(clientId: string, name: string, metadata: ClientMetadata, secret?: string) {
    if (!deps.validateMetadata) return
    try {
      await deps.validateMetadata(providerMetadata(clientId, name, metadata, secret))
    } catch (err) {
      throw clientErrors.refusedByProvider(describeRefusal(err))
    }
  }

  function record(by: ChangedBy, type: AuditEventType, data: Record<string, unknown>, trx: Kysely<DB>) {
    const who = by === 'cli' ? { by: 'cli' } : { adminId: by.accountId }
    return audit.record(
      { type, client: by === 'cli' ? undefined : by.client, data: { ...data, ...who } },
      trx,
    )
  }

  const seal = (clientId: string, secret: string) => box.encrypt(secret, secretContext(clientId))

  return {
    async createClient(by: ChangedBy, input: CreateClientBody): Promise<OAuthClientWithSecret> {
      const { client_name: name, ...fields } = input
      const metadata = buildClientMetadata(fields)
      const clientId = randomToken(CLIENT_ID_BYTES)
      const secret = usesSecret(metadata.token_endpoint_auth_method)
        ? randomToken(CLIENT_SECRET_BYTES)
        : undefined
      await validate(clientId, name, metadata, secret)
      const now = clock.now()
      const row: ClientRow = {
        client_id: clientId,
        client_name: name,
        metadata: JSON.stringify(metadata),
        client_secret: secret ? seal(clientId, secret) : null,
        created_at: now,
        updated_at: now,
      }
      await db.transaction().execute(async (trx) => {
        await insertClientRow(trx, row)
        const { grant_types: grantTypes, token_endpoint_auth_method: authMethod } = metadata
        await record(by, 'client.created', { clientId, clientName: name, grantTypes, authMethod }, trx)
      })
      return withSecret(toClient(row), secret)
    },

    async listClients(query: ListClientsQuery): Promise<ClientPage> {
      const limit = rowsToFetch(query.limit)
      const [, createdAt, clientId] = query.cursor
        ? (new RegExp(CLIENT_CURSOR_PATTERN).exec(query.cursor) ?? [])
        : []
      const after = createdAt && clientId ? { createdAt: Number(createdAt), clientId } : undefined
      const rows = await listClientRows(db, { after, limit })
      const { items, nextCursor } = toPage(rows, limit, (last) => `${last.created_at}.${last.client_id}`)
      return { clients: items.map(toClient), nextCursor }
    },

    async getClient(clientId: string): Promise<OAuthClient> {
      return toClient(await existing(clientId))
    },

    async updateClient(
      by: ChangedBy,
      clientId: string,
      patch: UpdateClientBody,
    ): Promise<OAuthClientWithSecret> {
      const row = await existing(clientId)
      const { client_name: newName, ...changes } = patch
      const name = newName ?? row.client_name
      const metadata = buildClientMetadata(mergeMetadata(parseClientMetadata(row), changes))
      const fields = changedFields(row, name, metadata)
      if (fields.length === 0) return toClient(row)

      const needsSecret = usesSecret(metadata.token_endpoint_auth_method)
      const kept =
        needsSecret && row.client_secret ? box.decrypt(row.client_secret, secretContext(clientId)) : undefined
      const issued = needsSecret && !kept ? randomToken(CLIENT_SECRET_BYTES) : undefined
      await validate(clientId, name, metadata, kept ?? issued)
      const changed = {
        client_name: name,
        metadata: JSON.stringify(metadata),
        client_secret: issued ? seal(clientId, issued) : needsSecret ? row.client_secret : null,
        updated_at: clock.now(),
      }
      const secret = issued ? 'issued' : !needsSecret && row.client_secret ? 'dropped' : undefined
      await db.transaction().execute(async (trx) => {
        if (!(await replaceClientRow(trx, row, changed))) throw await lostRace(trx, clientId)
        await record(by, 'client.updated', { clientId, fields, ...(secret ? { secret } : {}) }, trx)
      })
      return withSecret(toClient({ ...row, ...changed }), issued)
    },

    /**
     * Deletes the client. The provider finds no client for its tokens and grants from then on,
     * so they stop working at their next use.
     */
    async deleteClient(by: ChangedBy, clientId: string): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const row = await deleteClientRow(trx, clientId)
        if (!row) throw clientErrors.clientNotFound()
        await record(by, 'client.deleted', { clientId, clientName: row.client_name }, trx)
      })
    },

    /** A new secret, returned this once; the old one stops working at once (no overlap). */
    async rotateSecret(by: ChangedBy, clientId: string): Promise<OAuthClientWithSecret> {
      const row = await existing(clientId)
      if (!usesSecret(parseClientMetadata(row).token_endpoint_auth_method)) throw clientErrors.noSecret()
      const secret = randomToken(CLIENT_SECRET_BYTES)
      const changed = { client_secret: seal(clientId, secret), updated_at: clock.now() }
      await db.transaction().execute(async (trx) => {
        if (!(await replaceClientRow(trx, row, changed))) throw await lostRace(trx, clientId)
        await record(by, 'client.secret_rotated', { clientId }, trx)
      })
      return withSecret(toClient({ ...row, ...changed }), secret)
    },
  }
}

export type ClientService = ReturnType<typeof createClientService>
