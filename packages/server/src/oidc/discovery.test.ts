/**
 * Discovery and keys as a relying party and a resource server see them: the metadata only
 * offers the flows Tessera allows, every endpoint lives under the issuer, and the one JWKS at
 * /.well-known/jwks.json verifies both first-party access tokens (POST /v1/auth/login) and the
 * OIDC provider's JWT access tokens, so a resource server needs a single key set.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose'
import * as oidcClient from 'openid-client'
import { login, register } from '../../test/factories.ts'
import { createRelyingParty, type OidcTestServer, startOidcServer } from '../../test/oidc.ts'

const API = 'https://invoices.example.com/'
const API_TTL = 600

let t: OidcTestServer
let metadata: Record<string, unknown>

before(async () => {
  t = await startOidcServer()
  const res = await fetch(`${t.issuer}/.well-known/openid-configuration`)
  assert.equal(res.status, 200)
  metadata = (await res.json()) as Record<string, unknown>
})
after(() => t.close())

describe('discovery', () => {
  test('names the issuer, and every endpoint is under it', () => {
    assert.equal(metadata.issuer, t.issuer)
    const endpoints = Object.entries(metadata).filter(
      ([name]) => name.endsWith('_endpoint') || name === 'jwks_uri',
    )
    assert.deepEqual(endpoints.map(([name]) => name).sort(), [
      'authorization_endpoint',
      'device_authorization_endpoint',
      'end_session_endpoint',
      'introspection_endpoint',
      'jwks_uri',
      'pushed_authorization_request_endpoint',
      'revocation_endpoint',
      'token_endpoint',
      'userinfo_endpoint',
    ])
    for (const [name, url] of endpoints) assert.ok(String(url).startsWith(`${t.issuer}/`), `${name}: ${url}`)
    assert.equal(metadata.jwks_uri, `${t.issuer}/.well-known/jwks.json`)
    assert.equal(metadata.registration_endpoint, undefined, 'no dynamic client registration')
  })

  test('offers only the code flow, with PKCE S256', () => {
    assert.deepEqual(metadata.code_challenge_methods_supported, ['S256'])
    assert.deepEqual(metadata.response_types_supported, ['code'])
    assert.deepEqual(metadata.scopes_supported, ['openid', 'offline_access', 'profile', 'email'])
    assert.deepEqual(metadata.grant_types_supported, [
      'authorization_code',
      'refresh_token',
      'client_credentials',
      'urn:ietf:params:oauth:grant-type:device_code',
    ])
    assert.equal(metadata.authorization_response_iss_parameter_supported, true, 'RFC 9207 mix-up defence')
    assert.ok(!(metadata.token_endpoint_auth_methods_supported as string[]).includes('client_secret_jwt'))
  })

  test('openid-client accepts the metadata for this issuer', async () => {
    const rp = await createRelyingParty(t, {
      client_name: 'Discovery',
      redirect_uris: ['http://127.0.0.1:8123/cb'],
    })
    const server = rp.config.serverMetadata()
    assert.equal(server.issuer, t.issuer)
    assert.ok(server.supportsPKCE('S256'))
    assert.ok(!server.supportsPKCE('plain'))
  })
})

describe('one JWKS for every Tessera token', () => {
  test('publishes public keys only', async () => {
    const res = await fetch(`${t.issuer}/.well-known/jwks.json`)
    assert.equal(res.status, 200)
    const { keys } = (await res.json()) as { keys: Record<string, unknown>[] }
    assert.ok(keys.length >= 1)
    for (const key of keys) {
      assert.equal(typeof key.kid, 'string')
      for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'])
        assert.equal(key[secret], undefined, `no ${secret}`)
    }
  })

  test('a first-party access token and an OIDC client-credentials JWT verify against the same key set', async () => {
    const jwks = createRemoteJWKSet(new URL(metadata.jwks_uri as string))

    const user = await register(t.app)
    const signedIn = await login(t.app, user.email, user.password)
    assert.equal(signedIn.statusCode, 200, signedIn.body)
    const firstParty = (signedIn.json() as { accessToken: string }).accessToken
    // First-party tokens are stamped with the app's (fixed) test clock.
    const fp = await jwtVerify(firstParty, jwks, {
      issuer: t.issuer,
      audience: `${t.issuer}/v1`,
      typ: 'at+jwt',
      currentDate: new Date(t.clock.now()),
    })
    assert.equal(fp.protectedHeader.typ, 'at+jwt')
    assert.deepEqual(Object.keys(fp.payload).sort(), [
      'amr',
      'aud',
      'exp',
      'iat',
      'iss',
      'jti',
      'scope',
      'sid',
      'sub',
    ])
    assert.equal(fp.payload.sub, user.user.id)
    assert.equal(typeof fp.payload.sid, 'string')

    await t.createApi({ audience: API, name: 'Invoices', scopes: ['invoices:read'], accessTokenTtl: API_TTL })
    const service = await createRelyingParty(t, {
      client_name: 'Nightly job',
      grant_types: ['client_credentials'],
    })
    const issued = await oidcClient.clientCredentialsGrant(service.config, {
      resource: API,
      scope: 'invoices:read',
    })
    const cc = await jwtVerify(issued.access_token, jwks, { issuer: t.issuer, audience: API, typ: 'at+jwt' })
    assert.equal(cc.protectedHeader.typ, 'at+jwt')
    assert.deepEqual(Object.keys(cc.payload).sort(), [
      'aud',
      'client_id',
      'exp',
      'iat',
      'iss',
      'jti',
      'scope',
      'sub',
    ])
    assert.equal(cc.payload.client_id, service.clientId)
    assert.equal(cc.payload.sub, service.clientId, 'a client acting for itself is its own subject')

    assert.equal(
      decodeProtectedHeader(firstParty).kid,
      decodeProtectedHeader(issued.access_token).kid,
      'one signing key',
    )
  })
})
