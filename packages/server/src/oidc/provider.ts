/**
 * The OpenID Connect provider: oidc-provider configured for Tessera. The protocol is the
 * library's; this file only decides policy:
 * - authorization code only, with PKCE (S256) required of every client and exact redirect URIs;
 * - refresh tokens rotate on every use (the library revokes the grant when a rotated one returns);
 * - client credentials, device authorization, introspection, revocation, PAR, DPoP, RP-initiated
 *   logout; no dynamic registration (admins register clients), no implicit or hybrid flows;
 * - the signing keys are Tessera's key ring, so every token verifies against one JWKS; the
 *   provider is rebuilt when the ring rotates.
 */
import { hkdfSync } from 'node:crypto'
import Provider, { type Adapter, type Configuration } from 'oidc-provider'
import type { AccountService } from '../accounts/service.ts'
import type { KeyRing, SigningAlg } from '../tokens/keys.ts'
import type { ConsentMemory } from './consent-memory.ts'
import { createFindAccount, SCOPE_CLAIMS } from './find-account.ts'
import { OIDC_ROUTES } from './mount.ts'
import type { OidcPages } from './pages.ts'
import { createResourceServers, type ResourceDeps } from './resources.ts'
import { EXTERNAL_SIGNING_ACK, providerKeys } from './signing-keys.ts'

export interface ProviderDeps extends ResourceDeps {
  issuer: string
  keys: KeyRing
  accounts: AccountService
  masterKey: string
  signingAlg: SigningAlg
  sessionMaxTtl: number
  refreshTokenIdleTtl: number
  /** The provider's storage (oidc/adapter.ts). */
  Adapter: new (
    model: string,
  ) => Adapter
  consent: ConsentMemory
  pages: OidcPages
}

const DAY = 24 * 3600

/** Cookie signing keys derived from the master key: the same on every instance, never stored. */
function cookieKeys(masterKey: string): string[] {
  const ikm = Buffer.from(masterKey, 'base64url')
  return [
    Buffer.from(hkdfSync('sha256', ikm, Buffer.alloc(0), 'tessera oidc cookies', 32)).toString('base64url'),
  ]
}

function configuration(deps: ProviderDeps): Configuration {
  const resources = createResourceServers(deps)
  const secureCookies = deps.issuer.startsWith('https://')
  return {
    adapter: deps.Adapter,
    findAccount: createFindAccount(deps.accounts),
    jwks: { keys: providerKeys(deps.keys.signingKeys()) },
    routes: OIDC_ROUTES,
    scopes: ['openid', 'offline_access', 'profile', 'email'],
    claims: SCOPE_CLAIMS,
    responseTypes: ['code'],
    // No client_secret_jwt: it needs the plain secret on both sides for every request.
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
    pkce: { required: () => true },
    allowOmittingSingleRegisteredRedirectUri: false,
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: deps.signingAlg,
    },
    clientBasedCORS: (_ctx, origin, client) =>
      origin !== 'null' && client.redirectUris!.some((uri) => URL.parse(uri)?.origin === origin),
    cookies: {
      keys: cookieKeys(deps.masterKey),
      long: { httpOnly: true, sameSite: 'lax', secure: secureCookies },
      short: { httpOnly: true, sameSite: 'lax', secure: secureCookies },
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    loadExistingGrant: deps.consent.loadExistingGrant,
    rotateRefreshToken: true,
    features: {
      devInteractions: { enabled: false },
      externalSigningSupport: { enabled: true, ack: EXTERNAL_SIGNING_ACK },
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        // Any client may look at its own tokens. A confidential client (a resource server) may
        // also look at access tokens issued to others, never at their refresh tokens.
        allowedPolicy: async (_ctx, client, token) =>
          token.clientId === client.clientId ||
          (client.clientAuthMethod !== 'none' &&
            (token.kind === 'AccessToken' || token.kind === 'ClientCredentials')),
      },
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      deviceFlow: {
        enabled: true,
        userCodeInputSource: (ctx, form, _out, err) => deps.pages.deviceInput(ctx, form, err),
        userCodeConfirmSource: (ctx, form, client, _info, userCode) =>
          deps.pages.deviceConfirm(ctx, form, client.clientName ?? client.clientId, userCode),
        successSource: (ctx) => deps.pages.deviceSuccess(ctx),
      },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx, form) => deps.pages.logoutConfirm(ctx, form),
        postLogoutSuccessSource: (ctx) => deps.pages.loggedOut(ctx),
      },
      pushedAuthorizationRequests: { enabled: true },
      dPoP: { enabled: true },
      userinfo: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (_ctx, _client, oneOf) => oneOf,
        useGrantedResource: async () => true,
        getResourceServerInfo: resources.getResourceServerInfo,
      },
    },
    renderError: (ctx, out) => deps.pages.error(ctx, out),
    ttl: {
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? deps.accessTokenTtl,
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? deps.accessTokenTtl,
      AuthorizationCode: 60,
      DeviceCode: 600,
      IdToken: 3600,
      Interaction: 3600,
      RefreshToken: deps.refreshTokenIdleTtl,
      Session: deps.sessionMaxTtl,
      Grant: Math.max(deps.sessionMaxTtl, 14 * DAY),
    },
  }
}

export interface OidcProvider {
  /** The provider of the current key set (replaced when the key ring rotates). */
  current(): Provider
  consent: ConsentMemory
}

export function createOidcProvider(deps: ProviderDeps): OidcProvider {
  const build = () => {
    const provider = new Provider(deps.issuer, configuration(deps))
    // Tessera normalises Host, X-Forwarded-Proto and X-Forwarded-For before the provider sees a
    // request (oidc/mount.ts), so trusting them here is trusting Tessera's own proxy settings.
    provider.proxy = true
    return provider
  }
  let provider = build()
  deps.keys.onChange(() => {
    provider = build()
  })
  return { current: () => provider, consent: deps.consent }
}
