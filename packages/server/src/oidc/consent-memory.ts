/**
 * Remembered consent: when a user ticks "remember this decision", the scopes and API scopes they
 * granted a client are kept (for a year) and a later sign-in from a new browser session does not
 * ask again for what was already granted. Without it, consent lasts as long as the session.
 * The record is an `oidc_models` row (model `RememberedConsent`, id `<account>:<client>`), so it
 * goes when the account is disabled or deleted like everything else the provider holds.
 */
import type { Adapter, AdapterPayload, Grant, KoaContextWithOIDC } from 'oidc-provider'

const REMEMBER_FOR_SECONDS = 365 * 24 * 3600

export interface RememberedConsent {
  /** OIDC scopes, space-separated. */
  scope: string
  /** API scopes by resource indicator. */
  resources: Record<string, string>
}

/** `store`: the provider's storage for the `RememberedConsent` model (oidc/adapter.ts). */
export function createConsentMemory(store: Adapter) {
  const idOf = (accountId: string, clientId: string) => `${accountId}:${clientId}`

  async function recall(accountId: string, clientId: string): Promise<RememberedConsent | undefined> {
    return (await store.find(idOf(accountId, clientId))) as RememberedConsent | undefined
  }

  return {
    async remember(accountId: string, clientId: string, consent: RememberedConsent): Promise<void> {
      // `accountId` in the payload files the row under the account (oidc_models.account_id).
      const payload: AdapterPayload = { accountId, ...consent }
      await store.upsert(idOf(accountId, clientId), payload, REMEMBER_FOR_SECONDS)
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
