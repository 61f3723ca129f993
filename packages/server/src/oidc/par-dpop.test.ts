/**
 * Pushed authorization requests (RFC 9126) and DPoP (RFC 9449) with openid-client: the request
 * goes to the PAR endpoint and the browser only carries its request_uri; with a DPoP key the
 * tokens are bound to it, so a stolen access or refresh token is useless without the private key.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { calculateJwkThumbprint, exportJWK } from 'jose'
import * as oidcClient from 'openid-client'
import { register, STRONG_PASSWORD } from '../../test/factories.ts'
import {
  authorizeThroughPages,
  browser,
  createRelyingParty,
  introspect,
  jwtParts,
  type OidcTestServer,
  type RelyingParty,
  startOidcServer,
} from '../../test/oidc.ts'

const API = 'https://invoices.example.com/'

let t: OidcTestServer
let web: RelyingParty
let spa: RelyingParty

before(async () => {
  t = await startOidcServer()
  await t.createApi({ audience: API, name: 'Invoices', scopes: ['invoices:read'], accessTokenTtl: 600 })
  web = await createRelyingParty(t, { client_name: 'Web', redirect_uris: ['http://127.0.0.1:8123/cb'] })
  spa = await createRelyingParty(t, {
    client_name: 'SPA',
    token_endpoint_auth_method: 'none',
    redirect_uris: ['http://127.0.0.1:8124/cb'],
  })
})
after(() => t.close())

/** PAR, the hosted pages, then the code exchange (DPoP-bound when `dpop` is given). */
async function parFlow(rp: RelyingParty, params: Record<string, string>, dpop?: oidcClient.DPoPHandle) {
  const user = await register(t.app, { password: STRONG_PASSWORD })
  const verifier = oidcClient.randomPKCECodeVerifier()
  const state = oidcClient.randomState()
  const url = await oidcClient.buildAuthorizationUrlWithPAR(
    rp.config,
    {
      redirect_uri: rp.redirectUri,
      code_challenge: await oidcClient.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      ...params,
    },
    dpop ? { DPoP: dpop } : undefined,
  )
  const { redirect, pages } = await authorizeThroughPages(browser(t.issuer), url.href, user)
  const tokens = await oidcClient.authorizationCodeGrant(
    rp.config,
    redirect,
    { pkceCodeVerifier: verifier, expectedState: state },
    undefined,
    dpop ? { DPoP: dpop } : undefined,
  )
  return { user, url, pages, tokens }
}

const userinfoAsBearer = async (accessToken: string) =>
  (await fetch(`${t.issuer}/oidc/me`, { headers: { authorization: `Bearer ${accessToken}` } })).status

describe('pushed authorization requests', () => {
  test('the browser carries only a request_uri, and the flow completes', async () => {
    const { user, url, pages, tokens } = await parFlow(web, { scope: 'openid email' })
    assert.deepEqual([...url.searchParams.keys()].sort(), ['client_id', 'request_uri'])
    assert.match(url.searchParams.get('request_uri')!, /^urn:ietf:params:oauth:request_uri:/)
    assert.deepEqual(pages, ['sign-in', 'consent'])
    assert.equal(tokens.claims()!.sub, user.user.id)
    const info = await oidcClient.fetchUserInfo(web.config, tokens.access_token, user.user.id)
    assert.equal(info.email, user.email)
  })

  test('a request_uri is single-use', async () => {
    const { url } = await parFlow(web, { scope: 'openid' })
    const replay = await browser(t.issuer).get(url.href)
    assert.equal(replay.status, 400)
    assert.equal(replay.headers.get('location'), null)
  })
})

describe('DPoP', () => {
  test('the access token is DPoP-bound: works with the key at userinfo, not as a plain Bearer', async () => {
    const keyPair = await oidcClient.randomDPoPKeyPair('ES256')
    const dpop = oidcClient.getDPoPHandle(spa.config, keyPair)
    const { user, tokens } = await parFlow(
      spa,
      { scope: 'openid email offline_access', prompt: 'consent' },
      dpop,
    )
    assert.equal(tokens.token_type, 'dpop')

    const info = await oidcClient.fetchUserInfo(spa.config, tokens.access_token, user.user.id, { DPoP: dpop })
    assert.equal(info.email, user.email)
    assert.equal(
      await userinfoAsBearer(tokens.access_token),
      401,
      'a stolen DPoP token is not a Bearer token',
    )

    const introspected = await introspect(spa, tokens.access_token) // the client's own token
    assert.equal(introspected.active, true)
    assert.equal(introspected.token_type, 'DPoP')
    const jkt = await calculateJwkThumbprint(await exportJWK(keyPair.publicKey))
    assert.deepEqual(introspected.cnf, { jkt })
  })

  test('a JWT access token for an API carries cnf.jkt of the DPoP key', async () => {
    const keyPair = await oidcClient.randomDPoPKeyPair('ES256')
    const dpop = oidcClient.getDPoPHandle(spa.config, keyPair)
    const { tokens } = await parFlow(spa, { scope: 'openid invoices:read', resource: API }, dpop)
    assert.equal(tokens.token_type, 'dpop')
    const { header, payload } = jwtParts(tokens.access_token)
    assert.equal(header.typ, 'at+jwt')
    assert.equal(payload.aud, API)
    assert.deepEqual(payload.cnf, { jkt: await calculateJwkThumbprint(await exportJWK(keyPair.publicKey)) })
  })

  test("a public client's refresh token is bound to the key: refreshing needs the same key", async () => {
    const dpop = oidcClient.getDPoPHandle(spa.config, await oidcClient.randomDPoPKeyPair('ES256'))
    const { tokens } = await parFlow(spa, { scope: 'openid offline_access', prompt: 'consent' }, dpop)
    const otherKey = oidcClient.getDPoPHandle(spa.config, await oidcClient.randomDPoPKeyPair('ES256'))
    for (const options of [undefined, { DPoP: otherKey }]) {
      const err = await oidcClient
        .refreshTokenGrant(spa.config, tokens.refresh_token!, undefined, options)
        .then(
          () => assert.fail('refreshed without the key'),
          (e: unknown) => e as oidcClient.ResponseBodyError,
        )
      assert.equal(err.error, 'invalid_grant')
    }
    const refreshed = await oidcClient.refreshTokenGrant(spa.config, tokens.refresh_token!, undefined, {
      DPoP: dpop,
    })
    assert.equal(refreshed.token_type, 'dpop')
  })
})
