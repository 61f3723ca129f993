/**
 * oidc-provider's storage over Kysely: one `oidc_models` row per persisted object, on SQLite and
 * PostgreSQL alike. The provider calls `new Adapter(modelName)` and then the methods below;
 * payloads are stored as given, with the fields it looks objects up by copied into columns.
 *
 * Clients are not stored here: `Client` reads the admin-registered `oauth_clients` table.
 */

import type { Kysely } from 'kysely'
import { type Adapter, type AdapterPayload, errors } from 'oidc-provider'
import type { Clock } from '../core/clock.ts'
import type { DB, OidcModelsTable } from '../core/db-schema.ts'

export interface AdapterDeps {
  db: Kysely<DB>
  clock: Clock
  /** Client metadata by client_id (clients/store.ts), decrypted secret included. */
  findClient(clientId: string): Promise<Record<string, unknown> | undefined>
}

type Row = Pick<OidcModelsTable, 'payload' | 'expires_at' | 'consumed_at'>

/**
 * The models oidc-provider asks, all at once, for an opaque token it is given (introspection,
 * revocation, userinfo: helpers/token_find.js).
 */
const TOKEN_MODELS: ReadonlySet<string> = new Set(['AccessToken', 'ClientCredentials', 'RefreshToken'])

export function createAdapterClass(deps: AdapterDeps): new (name: string) => Adapter {
  const { db, clock } = deps
  const findToken = batchedTokenLookup(db)

  function payloadOf(row: Row | undefined): AdapterPayload | undefined {
    if (!row || (row.expires_at !== null && row.expires_at <= clock.now())) return undefined
    const payload = JSON.parse(row.payload) as AdapterPayload
    if (row.consumed_at !== null) payload.consumed = Math.floor(row.consumed_at / 1000)
    return payload
  }

  /** What the provider's own revoke() removes: every token of the grant, and the grant. */
  async function revokeGrant(grantId: string): Promise<void> {
    await db
      .deleteFrom('oidc_models')
      .where((eb) =>
        eb.or([eb('grant_id', '=', grantId), eb.and([eb('model', '=', 'Grant'), eb('id', '=', grantId)])]),
      )
      .execute()
  }

  return class KyselyAdapter implements Adapter {
    readonly model: string

    constructor(model: string) {
      this.model = model
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      const row = {
        payload: JSON.stringify(payload),
        grant_id: payload.grantId ?? null,
        user_code: payload.userCode ?? null,
        uid: payload.uid ?? null,
        account_id: payload.accountId ?? null,
        expires_at: expiresIn ? clock.now() + expiresIn * 1000 : null,
      }
      await db
        .insertInto('oidc_models')
        .values({ model: this.model, id, consumed_at: null, ...row })
        .onConflict((oc) => oc.columns(['model', 'id']).doUpdateSet(row))
        .execute()
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.model === 'Client') return deps.findClient(id) as Promise<AdapterPayload | undefined>
      if (TOKEN_MODELS.has(this.model)) return payloadOf(await findToken(this.model, id))
      return payloadOf(await this.select().where('id', '=', id).executeTakeFirst())
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return payloadOf(await this.select().where('user_code', '=', userCode).executeTakeFirst())
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return payloadOf(await this.select().where('uid', '=', uid).executeTakeFirst())
    }

    /**
     * Marks a one-time object (code, refresh token, device code, pushed request) used, only if
     * nothing did first. The provider checks `consumed` before calling this, but two requests in
     * flight with the same code or refresh token both pass that check; the conditional update
     * lets one through. The other is refused and ends the grant, as a later replay would
     * (RFC 6749 §4.1.2; refresh token reuse).
     */
    async consume(id: string): Promise<void> {
      const result = await db
        .updateTable('oidc_models')
        .set({ consumed_at: clock.now() })
        .where('model', '=', this.model)
        .where('id', '=', id)
        .where('consumed_at', 'is', null)
        .executeTakeFirst()
      if (Number(result.numUpdatedRows) > 0) return
      const row = await this.select().select('grant_id').where('id', '=', id).executeTakeFirst()
      if (row?.grant_id) await revokeGrant(row.grant_id)
      if (this.model === 'PushedAuthorizationRequest')
        throw new errors.InvalidRequestUri('request_uri is invalid, expired, or was already used')
      throw new errors.InvalidGrant(`${this.model} already consumed`)
    }

    async destroy(id: string): Promise<void> {
      await db.deleteFrom('oidc_models').where('model', '=', this.model).where('id', '=', id).execute()
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await db.deleteFrom('oidc_models').where('grant_id', '=', grantId).execute()
    }

    private select() {
      return db
        .selectFrom('oidc_models')
        .select(['payload', 'expires_at', 'consumed_at'])
        .where('model', '=', this.model)
    }
  }
}

/**
 * Token lookups by model and id, where the lookups of one id that start together (the provider
 * asks two or three models for the same token in one Promise.all) share one query. Each model
 * still gets only its own row; nothing is kept once the query has answered.
 */
function batchedTokenLookup(db: Kysely<DB>) {
  const batches = new Map<string, { models: string[]; rows: Promise<Map<string, Row>> }>()
  return async (model: string, id: string): Promise<Row | undefined> => {
    let batch = batches.get(id)
    if (!batch) {
      const models: string[] = []
      // Queued, not run: the sibling lookups of the same Promise.all join before it starts.
      const rows = Promise.resolve().then(async () => {
        batches.delete(id)
        const found = await db
          .selectFrom('oidc_models')
          .select(['model', 'payload', 'expires_at', 'consumed_at'])
          .where('model', 'in', models)
          .where('id', '=', id)
          .execute()
        return new Map(found.map((row) => [row.model, row]))
      })
      batch = { models, rows }
      batches.set(id, batch)
    }
    if (!batch.models.includes(model)) batch.models.push(model)
    return (await batch.rows).get(model)
  }
}
