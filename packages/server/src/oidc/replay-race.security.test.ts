/**
 * Replays that race the legitimate request: the same authorization code, refresh token or
 * device code sent twice at the same moment. The provider checks "already used?" and then marks
 * the object used, so two requests in flight can both pass the check; only the storage's
 * conditional update (oidc/adapter.ts `consume`) can tell them apart. At most one may succeed,
 * and, as with a replay that comes later, the grant then ends (RFC 6749 §4.1.2; refresh token
 * reuse detection).
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import * as oauth from 'oauth4webapi'
import * as oidcClient from 'openid-client'
import { register, STRONG_PASSWORD } from '../../test/factories.ts'
import {
  authorizationRequest,
  authorizeThroughPages,
  browser,
  createRelyingParty,
  introspect,
  type OidcTestServer,
  type RelyingParty,
  startOidcServer,
} from '../../test/oidc.ts'

/** Enough rounds that an interleaving where both requests pass the check shows up. */
const ROUNDS = 3

let t: OidcTestServer
let rp: RelyingParty
let as: oauth.AuthorizationServer
const insecure = { [oauth.allowInsecureRequests]: true } as const

before(async () => {
  t = await startOidcServer()
  rp = await createRelyingParty(t, { client_name: 'Portal', redirect_uris: ['http://127.0.0.1:8123/cb'] })
  as = rp.config.serverMetadata()
})
after(() => t.close())

const client = () => ({ client_id: rp.clientId })
const auth = () => oauth.ClientSecretBasic(rp.clientSecret!)

/** A fresh code from the hosted pages, with what its exchange needs. */
async function freshCode() {
  const user = await register(t.app, { password: STRONG_PASSWORD })
  const request = await authorizationRequest(rp, { scope: 'openid offline_access', prompt: 'consent' })
  const { redirect } = await authorizeThroughPages(browser(t.issuer), request.url, user)
  return { request, params: oauth.validateAuthResponse(as, client(), redirect, request.state) }
}

type TokenBody = { error?: string; access_token?: string; refresh_token?: string }

/** Sends `send` twice at once: the two statuses and bodies. */
async function twice(send: () => Promise<Response>): Promise<{ status: number; body: TokenBody }[]> {
  const responses = await Promise.all([send(), send()])
  return Promise.all(
    responses.map(async (res) => ({ status: res.status, body: (await res.json()) as TokenBody })),
  )
}

const exchangeCode = ({ request, params }: Awaited<ReturnType<typeof freshCode>>) =>
  oauth.authorizationCodeGrantRequest(
    as,
    client(),
    auth(),
    params,
    rp.redirectUri,
    request.verifier,
    insecure,
  )

/** At most one of the two got tokens, the other invalid_grant, and nothing issued still works. */
async function assertOneUseThenRevoked(results: { status: number; body: TokenBody }[]) {
  const won = results.filter((r) => r.status === 200)
  assert.ok(won.length <= 1, `both requests got tokens: ${JSON.stringify(results.map((r) => r.status))}`)
  assert.ok(results.some((r) => r.body.error === 'invalid_grant'))
  for (const { body } of won) {
    assert.equal((await introspect(rp, body.access_token!)).active, false, 'the access token was revoked')
    assert.equal((await introspect(rp, body.refresh_token!)).active, false, 'the refresh token was revoked')
  }
}

describe('one-time credentials sent twice at once', () => {
  test('an authorization code exchanged twice concurrently yields at most one set of tokens, then none', async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const code = await freshCode()
      await assertOneUseThenRevoked(await twice(() => exchangeCode(code)))
    }
  })

  test('a refresh token used twice concurrently yields at most one new token, and the grant ends', async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const code = await freshCode()
      const tokens = await oauth.processAuthorizationCodeResponse(as, client(), await exchangeCode(code), {
        expectedNonce: code.request.nonce,
        requireIdToken: true,
      })
      const refresh = () =>
        oauth.refreshTokenGrantRequest(as, client(), auth(), tokens.refresh_token!, insecure)
      await assertOneUseThenRevoked(await twice(refresh))
      assert.equal((await introspect(rp, tokens.access_token)).active, false, 'the first access token too')
      const again = await oidcClient
        .refreshTokenGrant(rp.config, tokens.refresh_token!)
        .catch((e: unknown) => e)
      assert.equal((again as oidcClient.ResponseBodyError).error, 'invalid_grant')
    }
  })
})
