/**
 * What clients do with their grants after sign-in, through openid-client: refresh token rotation
 * and reuse detection, client credentials for a registered API (RFC 8707 + RFC 9068),
 * introspection (RFC 7662) and revocation (RFC 7009).
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import * as oidcClient from 'openid-client'
import { register, STRONG_PASSWORD } from '../../test/factories.ts'
import {
  browser,
  createRelyingParty,
  introspect,
  jwtParts,
  type OidcTestServer,
  type RelyingParty,
  signInThroughPages,
  startOidcServer,
} from '../../test/oidc.ts'

const API = 'https://invoices.example.com/'
const API_SCOPES = ['invoices:read', 'invoices:write']
const API_TTL = 600
const DEFAULT_TTL = 900

let t: OidcTestServer
let web: RelyingParty
let spa: RelyingParty
let service: RelyingParty

before(async () => {
  t = await startOidcServer()
  await t.createApi({ audience: API, name: 'Invoices', scopes: API_SCOPES, accessTokenTtl: API_TTL })
  web = await createRelyingParty(t, { client_name: 'Web', redirect_uris: ['http://127.0.0.1:8123/cb'] })
  spa = await createRelyingParty(t, {
    client_name: 'SPA',
    token_endpoint_auth_method: 'none',
    redirect_uris: ['http://127.0.0.1:8124/cb'],
  })
  service = await createRelyingParty(t, { client_name: 'Nightly job', grant_types: ['client_credentials'] })
})
after(() => t.close())

/** A user signed in to `rp` with a refresh token. */
async function signedIn(rp: RelyingParty) {
  const user = await register(t.app, { password: STRONG_PASSWORD })
  const { tokens } = await signInThroughPages(browser(t.issuer), rp, user, {
    scope: 'openid email offline_access',
    prompt: 'consent',
  })
  assert.ok(tokens.refresh_token)
  return { user, tokens, refreshToken: tokens.refresh_token }
}

/** The OAuth error of a rejected call (openid-client throws ResponseBodyError). */
async function oauthError(call: Promise<unknown>): Promise<string> {
  const err = (await call.then(
    () => assert.fail('expected an OAuth error'),
    (e: unknown) => e,
  )) as { error?: string }
  assert.ok(err instanceof oidcClient.ResponseBodyError, String(err))
  return err.error!
}

const userinfoStatus = async (accessToken: string) =>
  (await fetch(`${t.issuer}/oidc/me`, { headers: { authorization: `Bearer ${accessToken}` } })).status

describe('refresh tokens', () => {
  test('rotate on every use: each refresh returns a new one, and a spent one no longer works', async () => {
    const { user, refreshToken } = await signedIn(web)
    const first = await oidcClient.refreshTokenGrant(web.config, refreshToken)
    const second = await oidcClient.refreshTokenGrant(web.config, first.refresh_token!)
    const chain = [refreshToken, first.refresh_token, second.refresh_token]
    assert.equal(new Set(chain).size, 3, 'three different refresh tokens')
    assert.equal(second.claims()!.sub, user.user.id, 'a refreshed ID token for the same user')
    const info = await oidcClient.fetchUserInfo(web.config, second.access_token, user.user.id)
    assert.equal(info.email, user.email)

    assert.equal(await oauthError(oidcClient.refreshTokenGrant(web.config, refreshToken)), 'invalid_grant')
  })

  test('a rotated refresh token presented again revokes the whole grant', async () => {
    const { tokens, refreshToken } = await signedIn(web)
    const rotated = await oidcClient.refreshTokenGrant(web.config, refreshToken)
    assert.equal((await introspect(web, rotated.access_token)).active, true)

    // An attacker replays the stolen, already-rotated token: refused, and everything of the grant ends.
    assert.equal(await oauthError(oidcClient.refreshTokenGrant(web.config, refreshToken)), 'invalid_grant')
    assert.equal(
      await oauthError(oidcClient.refreshTokenGrant(web.config, rotated.refresh_token!)),
      'invalid_grant',
    )
    assert.equal((await introspect(web, rotated.access_token)).active, false)
    assert.equal((await introspect(web, tokens.access_token)).active, false)
    assert.equal(await userinfoStatus(rotated.access_token), 401)
  })
})

describe('client credentials', () => {
  test('for an API resource: an at+jwt for its audience, its scopes only, its lifetime', async () => {
    const issued = await oidcClient.clientCredentialsGrant(service.config, {
      resource: API,
      scope: 'invoices:read invoices:write openid email',
    })
    assert.equal(issued.token_type, 'bearer')
    assert.equal(issued.expires_in, API_TTL)
    assert.equal(issued.scope, 'invoices:read invoices:write', 'scopes the API does not define are dropped')
    const { payload, protectedHeader } = await jwtVerify(
      issued.access_token,
      createRemoteJWKSet(new URL(`${t.issuer}/.well-known/jwks.json`)),
      { issuer: t.issuer, audience: API, typ: 'at+jwt' },
    )
    assert.equal(protectedHeader.typ, 'at+jwt')
    assert.equal(payload.aud, API)
    assert.equal(payload.scope, 'invoices:read invoices:write')
    assert.equal(payload.client_id, service.clientId)
    assert.equal(payload.exp! - payload.iat!, API_TTL)

    const narrow = await oidcClient.clientCredentialsGrant(service.config, {
      resource: API,
      scope: 'invoices:read',
    })
    assert.equal(jwtParts(narrow.access_token).payload.scope, 'invoices:read')
  })

  test('an unregistered resource is refused with invalid_target', async () => {
    const call = oidcClient.clientCredentialsGrant(service.config, {
      resource: 'https://unknown.example.com/',
    })
    assert.equal(await oauthError(call), 'invalid_target')
  })

  test('without a resource: an opaque token that introspects as this client', async () => {
    const issued = await oidcClient.clientCredentialsGrant(service.config)
    assert.equal(issued.access_token.split('.').length, 1, 'not a JWT')
    assert.equal(issued.expires_in, DEFAULT_TTL)
    const info = await introspect(service, issued.access_token)
    assert.equal(info.active, true)
    assert.equal(info.client_id, service.clientId)
    assert.equal(info.token_type, 'Bearer')
  })

  test('a client not registered for client credentials is refused', async () => {
    // oidc-provider answers invalid_request ("requested grant type is not allowed for this client").
    assert.equal(await oauthError(oidcClient.clientCredentialsGrant(web.config)), 'invalid_request')
  })
})

describe('introspection and revocation', () => {
  test('a confidential client introspects an opaque access token: active, then inactive once revoked', async () => {
    const { user, tokens, refreshToken } = await signedIn(web)
    assert.equal(tokens.access_token.split('.').length, 1, 'userinfo tokens are opaque')
    const active = await introspect(service, tokens.access_token) // a resource server, another client
    assert.equal(active.active, true)
    assert.equal(active.sub, user.user.id)
    assert.equal(active.client_id, web.clientId)
    assert.equal(active.scope, 'openid email offline_access')
    assert.equal(active.iss, t.issuer)
    assert.equal(typeof active.exp, 'number')

    await oidcClient.tokenRevocation(web.config, tokens.access_token)
    assert.deepEqual(await introspect(service, tokens.access_token), { active: false })
    assert.equal(await userinfoStatus(tokens.access_token), 401)
    // Revoking an access token ends its grant: the refresh token goes with it.
    assert.equal(await oauthError(oidcClient.refreshTokenGrant(web.config, refreshToken)), 'invalid_grant')
  })

  test('a revoked refresh token cannot be used', async () => {
    const { refreshToken } = await signedIn(web)
    assert.equal((await introspect(web, refreshToken)).active, true)
    await oidcClient.tokenRevocation(web.config, refreshToken, { token_type_hint: 'refresh_token' })
    assert.equal((await introspect(web, refreshToken)).active, false)
    assert.equal(await oauthError(oidcClient.refreshTokenGrant(web.config, refreshToken)), 'invalid_grant')
  })

  test('revoking an unknown token answers 200 (RFC 7009 §2.2)', async () => {
    await oidcClient.tokenRevocation(web.config, 'no-such-token')
  })

  test('another client cannot revoke a token it was not issued', async () => {
    const { tokens, refreshToken } = await signedIn(web)
    // RFC 7009 §2.2: the answer is 200 either way, so it tells the caller nothing; nothing is revoked.
    await oidcClient.tokenRevocation(service.config, tokens.access_token)
    await oidcClient.tokenRevocation(spa.config, refreshToken)
    assert.equal((await introspect(web, tokens.access_token)).active, true)
    assert.ok((await oidcClient.refreshTokenGrant(web.config, refreshToken)).access_token)
  })

  test("a public client may introspect its own tokens, never another client's", async () => {
    const own = await signedIn(spa)
    assert.equal((await introspect(spa, own.tokens.access_token)).active, true)
    const others = await signedIn(web)
    assert.deepEqual(await introspect(spa, others.tokens.access_token), { active: false })
    assert.deepEqual(await introspect(spa, others.refreshToken), { active: false })
    assert.equal(
      (await introspect(service, others.tokens.access_token)).active,
      true,
      'still active for its owner',
    )
    assert.deepEqual(
      await introspect(service, others.refreshToken),
      { active: false },
      "a resource server sees access tokens, not another client's refresh tokens",
    )
  })
})
