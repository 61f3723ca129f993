/**
 * Remembered consent: when a user ticks "remember this decision", the scopes and API scopes they
 * granted a client are kept (for a year) and a later sign-in from a new browser session does not
 * ask again for what was already granted. Without it, consent lasts as long as the session.
 * The record is an `oidc_models` row (model `RememberedConsent`, id `<account>:<client>`), so it
 * goes when the account is disabled or deleted like everything else the provider holds.
 */
import type { Kysely } from 'kysely'
import type { Grant, KoaContextWithOIDC } from 'oidc-provider'
import type { Clock } from '../core/clock.ts'
import type { DB } from '../core/db-schema.ts'

const MODEL = 'RememberedConsent'
const REMEMBER_FOR_MS = 365 * 24 * 3600 * 1000

export interface RememberedConsent {
  /** OIDC scopes, space-separated. */
  scope: string
  /** API scopes by resource indicator. */
  resources: Record<string, string>
}

export function createConsentMemory(deps: { db: Kysely<DB>; clock: Clock }) {
  const { db, clock } = deps
  const idOf = (accountId: string, clientId: string) => `${accountId}:${clientId}`

  async function recall(accountId: string, clientId: string): Promise<RememberedConsent | undefined> {
    const row = await db
      .selectFrom('oidc_models')
      .select(['payload', 'expires_at'])
      .where('model', '=', MODEL)
      .where('id', '=', idOf(accountId, clientId))
      .executeTakeFirst()
    if (!row || (row.expires_at !== null && row.expires_at <= clock.now())) return undefined
    return JSON.parse(row.payload) as RememberedConsent
  }

  return {
    async remember(accountId: string, clientId: string, consent: RememberedConsent): Promise<void> {
      const row = {
        payload: JSON.stringify(consent),
        account_id: accountId,
        expires_at: clock.now() + REMEMBER_FOR_MS,
      }
      await db
        .insertInto('oidc_models')
        .values({
          model: MODEL,
          id: idOf(accountId, clientId),
          grant_id: null,
          user_code: null,
          uid: null,
          consumed_at: null,
          ...row,
        })
        .onConflict((oc) => oc.columns(['model', 'id']).doUpdateSet(row))
        .execute()
    },

    /** oidc-provider's `loadExistingGrant`: this session's grant, else a remembered consent. */
    async loadExistingGrant(ctx: KoaContextWithOIDC): Promise<Grant | undefined> {
      const { client, session, provider } = ctx.oidc
      const grantId = ctx.oidc.result?.consent?.grantId ?? session!.grantIdFor(client!.clientId)
      if (grantId) return provider.Grant.find(grantId)
      const remembered = session?.accountId ? await recall(session.accountId, client!.clientId) : undefined
      if (!remembered) return undefined
      const grant = new provider.Grant({ accountId: session!.accountId, clientId: client!.clientId })
      grant.addOIDCScope(remembered.scope)
      for (const [resource, scope] of Object.entries(remembered.resources))
        grant.addResourceScope(resource, scope)
      await grant.save()
      return grant
    },
  }
}

export type ConsentMemory = ReturnType<typeof createConsentMemory>
