/**
 * Puts the OpenID Connect provider into the app: the provider itself, its endpoints, the hosted
 * interaction pages, and a timer that sweeps expired provider rows.
 *
 * The provider loads on the first request that needs it: about 70 ms, once, for that request,
 * and about 10 MB that a server no client has asked anything of does not hold (bench/). Tests
 * that never call the provider never build it.
 */
import type { FastifyInstance } from 'fastify'
import type { Kysely } from 'kysely'
import type { AccountService } from '../accounts/service.ts'
import { findApiResourceByAudience } from '../api-resources/store.ts'
import { findClientMetadata } from '../clients/store.ts'
import type { Clock } from '../core/clock.ts'
import type { Config } from '../core/config.ts'
import type { SecretBox } from '../core/crypto.ts'
import type { DB } from '../core/db-schema.ts'
import { securityHeaders } from '../core/http.ts'
import type { PasskeyService } from '../mfa/passkeys.ts'
import type { MfaService } from '../mfa/service.ts'
import type { SmsService } from '../mfa/sms.ts'
import { createCsrf } from '../pages/csrf.ts'
import { createInteractionViews, createProviderPages } from '../pages/interaction/views.ts'
import { signInAssetRoutes } from '../pages/sign-in/routes.ts'
import type { SessionService } from '../sessions/service.ts'
import type { KeyRing } from '../tokens/keys.ts'
import { createConsentMemory } from './consent-memory.ts'
import { interactionRoutes } from './interactions.ts'
import { cachedLookup } from './lookup-cache.ts'
import { sweepExpiredModels } from './models-store.ts'
import { mountProvider } from './mount.ts'
import type { OidcProvider } from './provider.ts'

const SWEEP_INTERVAL_MS = 10 * 60 * 1000
/** How long a client's or an API's registration is reused before it is read again. */
export const REGISTRATION_CACHE_MS = 2000
const lookupCache = { ttlMs: REGISTRATION_CACHE_MS, maxEntries: 10_000, now: () => performance.now() }

export interface OidcDeps {
  config: Config
  db: Kysely<DB>
  clock: Clock
  box: SecretBox
  keys: KeyRing
  accounts: AccountService
  sessions: SessionService
  passkeys: PasskeyService
  mfa: MfaService
  sms: SmsService
}

/** The provider, loaded on first use. */
export interface LazyOidc {
  load(): Promise<OidcProvider>
}

/** `app` is read when a provider page is first rendered, by when the root instance exists. */
export function createOidc(deps: OidcDeps, app: () => FastifyInstance): LazyOidc {
  let loading: Promise<OidcProvider> | undefined
  return {
    load: () =>
      (loading ??= buildOidc(deps, app).catch((err: unknown) => {
        loading = undefined // the next request tries again
        throw err
      })),
  }
}

async function buildOidc(deps: OidcDeps, app: () => FastifyInstance): Promise<OidcProvider> {
  const [{ createAdapterClass }, { createOidcProvider }] = await Promise.all([
    import('./adapter.ts'),
    import('./provider.ts'),
  ])
  const { config, db, clock } = deps
  const Adapter = createAdapterClass({
    db,
    clock,
    findClient: cachedLookup((clientId) => findClientMetadata(db, deps.box, clientId), lookupCache),
  })
  return createOidcProvider({
    issuer: config.publicUrl,
    keys: deps.keys,
    accounts: deps.accounts,
    masterKey: config.masterKey,
    signingAlg: config.signingAlg,
    apiAudience: config.apiAudience,
    accessTokenTtl: config.accessTokenTtl,
    sessionMaxTtl: config.sessionMaxTtl,
    refreshTokenIdleTtl: config.refreshTokenIdleTtl,
    Adapter,
    findApiResource: cachedLookup((audience) => findApiResourceByAudience(db, audience), lookupCache),
    consent: createConsentMemory(new Adapter('RememberedConsent')),
    pages: createProviderPages(app),
  })
}

export async function installOidc(app: FastifyInstance, oidc: LazyOidc, deps: OidcDeps): Promise<void> {
  const { config } = deps
  await mountProvider(app, {
    oidc,
    publicUrl: config.publicUrl,
    headers: securityHeaders(config.publicUrl.startsWith('https://')),
  })
  await app.register(signInAssetRoutes)
  const csrf = createCsrf(config.masterKey)
  await app.register(interactionRoutes, {
    oidc,
    sessions: deps.sessions,
    accounts: deps.accounts,
    passkeys: deps.passkeys,
    mfa: deps.mfa,
    sms: deps.sms,
    csrf,
    views: createInteractionViews({ oidc, csrf }),
    publicUrl: config.publicUrl,
  })
  const sweep = setInterval(
    () =>
      void sweepExpiredModels(deps.db, deps.clock.now()).catch((err) =>
        app.log.warn({ err }, 'oidc sweep failed'),
      ),
    SWEEP_INTERVAL_MS,
  )
  sweep.unref()
  app.addHook('onClose', async () => clearInterval(sweep))
}
