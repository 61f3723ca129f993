import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import {
  type CryptoKey,
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  exportSPKI,
  generateKeyPair,
  importJWK,
  type JWK,
  type JWTPayload,
  jwtVerify,
  SignJWT,
  UnsecuredJWT,
} from 'jose'
import { bearer, register } from '../../test/factories.ts'
import { buildTestApp, TEST_MASTER_KEY, type TestApp } from '../../test/harness.ts'
import { createSecretBox } from '../core/crypto.ts'

const ISSUER = 'http://localhost:3000'
const AUDIENCE = `${ISSUER}/v1`

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

async function jwks(t: TestApp): Promise<{ keys: JWK[] }> {
  const res = await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })
  assert.equal(res.statusCode, 200)
  return res.json()
}

describe('alg confusion and forged tokens', () => {
  let t: TestApp
  let token: string
  let claims: JWTPayload
  let kid: string
  let publicJwk: JWK
  let serverKey: CryptoKey
  before(async () => {
    t = await buildTestApp()
    token = (await register(t.app)).accessToken
    claims = decodeJwt(token)
    kid = decodeProtectedHeader(token).kid!
    publicJwk = (await jwks(t)).keys.find((k) => k.kid === kid)!
    // The server's own private key, straight from the database: lets the claim checks below be
    // tested in isolation from the signature check.
    const row = await t.database.db
      .selectFrom('signing_keys')
      .selectAll()
      .where('kid', '=', kid)
      .executeTakeFirstOrThrow()
    const privateJwk = JSON.parse(
      createSecretBox(TEST_MASTER_KEY).decrypt(row.private_jwk, `signing_key:${kid}`),
    )
    serverKey = (await importJWK(privateJwk, row.alg)) as CryptoKey
  })
  after(() => t.close())

  const me = (accessToken: string) =>
    t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(accessToken) })

  async function assertRejected(accessToken: string, code = 'invalid_token') {
    const res = await me(accessToken)
    assert.equal(res.statusCode, 401, res.body)
    assert.equal(res.json().code, code)
    assert.equal(res.json().email, undefined)
    assert.equal(res.headers['www-authenticate'], 'Bearer error="invalid_token"')
  }

  function nowSeconds() {
    return Math.floor(t.clock.now() / 1000)
  }

  /** A token like the real one, with `changes` applied, signed by `key` (the server's by default). */
  function sign(
    changes: { payload?: JWTPayload; header?: Record<string, unknown> } = {},
    key: CryptoKey | Uint8Array = serverKey,
  ) {
    return new SignJWT({ ...claims, jti: crypto.randomUUID(), ...changes.payload })
      .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'at+jwt', ...changes.header } as { alg: string })
      .sign(key)
  }

  test('control: a token built the same way with the server key is accepted', async () => {
    assert.equal((await me(token)).statusCode, 200)
    assert.equal((await me(await sign())).statusCode, 200)
  })

  test('alg none (unsecured JWT) is rejected', async () => {
    await assertRejected(new UnsecuredJWT(claims).encode())
    for (const alg of ['none', 'None', 'NONE']) {
      await assertRejected(`${b64({ alg, kid, typ: 'at+jwt' })}.${b64(claims)}.`)
      // ... also with the original signature left in place
      await assertRejected(`${b64({ alg, kid, typ: 'at+jwt' })}.${b64(claims)}.${token.split('.')[2]}`)
    }
  })

  test('HS256 signed with the public key as the HMAC secret is rejected', async () => {
    const publicKey = (await importJWK(publicJwk, 'EdDSA')) as CryptoKey
    const secrets = [
      Buffer.from(publicJwk.x!, 'base64url'),
      new TextEncoder().encode(publicJwk.x!),
      new TextEncoder().encode(JSON.stringify(publicJwk)),
      new TextEncoder().encode(await exportSPKI(publicKey)),
    ]
    for (const secret of secrets) {
      for (const alg of ['HS256', 'HS512']) {
        await assertRejected(await sign({ header: { alg } }, secret))
      }
    }
  })

  test("a token signed by another Ed25519 key under the server's kid is rejected", async () => {
    const attacker = await generateKeyPair('EdDSA')
    await assertRejected(await sign({}, attacker.privateKey))
    const sub = crypto.randomUUID()
    await assertRejected(await sign({ payload: { sub } }, attacker.privateKey))
  })

  test('a tampered payload with the original signature is rejected', async () => {
    const victim = await register(t.app)
    const [header, , signature] = token.split('.')
    const tampered = { ...claims, sub: victim.user.id, sid: decodeJwt(victim.accessToken).sid }
    await assertRejected(`${header}.${b64(tampered)}.${signature}`)
    await assertRejected(`${header}.${b64({ ...claims, scope: 'openid profile email admin' })}.${signature}`)
  })

  test('unknown or missing kid is rejected', async () => {
    await assertRejected(await sign({ header: { kid: crypto.randomUUID() } }))
    await assertRejected(await sign({ header: { kid: undefined } }))
  })

  test('correctly signed tokens with the wrong typ, aud or iss are rejected', async () => {
    await assertRejected(await sign({ header: { typ: 'JWT' } }), 'invalid_token')
    await assertRejected(await sign({ header: { typ: undefined } }), 'invalid_token')
    await assertRejected(await sign({ payload: { aud: 'https://other.example/v1' } }))
    await assertRejected(await sign({ payload: { aud: ISSUER } }))
    await assertRejected(await sign({ payload: { iss: 'https://evil.example' } }))
    await assertRejected(await sign({ payload: { sid: undefined } }))
  })

  test('an expired token is rejected with token_expired', async () => {
    const iat = nowSeconds() - 3600
    await assertRejected(await sign({ payload: { iat, exp: iat + 900 } }), 'token_expired')
    await assertRejected(await sign({ payload: { exp: nowSeconds() - 60 } }), 'token_expired')
  })

  test('garbage bearer values are rejected', async () => {
    for (const value of ['x', 'a.b.c', `${b64({ alg: 'EdDSA', kid })}.e30`, `${token}x`])
      await assertRejected(value)
  })
})

describe('offline verification against the published JWKS', () => {
  const algs = ['EdDSA', 'ES256', 'RS256'] as const
  const apps = new Map<string, TestApp>()
  before(async () => {
    // Built side by side: RSA key generation is the slow part.
    const built = await Promise.all(algs.map((signingAlg) => buildTestApp({ config: { signingAlg } })))
    for (const [i, alg] of algs.entries()) apps.set(alg, built[i]!)
  })
  after(() => Promise.all([...apps.values()].map((t) => t.close())))

  for (const signingAlg of algs) {
    test(`${signingAlg}: tokens verify offline with pinned issuer, audience and typ`, async () => {
      const t = apps.get(signingAlg)!
      const { accessToken, user } = await register(t.app)
      const published = await jwks(t)
      for (const key of published.keys) {
        for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) {
          assert.equal(key[secret as keyof JWK], undefined, `the JWKS never carries private member ${secret}`)
        }
      }
      const { payload, protectedHeader } = await jwtVerify(accessToken, createLocalJWKSet(published), {
        issuer: ISSUER,
        audience: AUDIENCE,
        typ: 'at+jwt',
        algorithms: [signingAlg],
        currentDate: new Date(t.clock.now()),
        requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'sid', 'scope', 'amr'],
      })
      assert.equal(protectedHeader.alg, signingAlg)
      assert.equal(protectedHeader.typ, 'at+jwt')
      assert.ok(published.keys.some((k) => k.kid === protectedHeader.kid && k.alg === signingAlg))
      assert.equal(payload.sub, user.id)
      assert.equal(payload.iat, Math.floor(t.clock.now() / 1000))
      assert.equal(payload.exp! - payload.iat!, 900)
      assert.equal(payload.scope, 'openid profile email')
      assert.deepEqual(payload.amr, ['pwd'])
      assert.equal(typeof payload.sid, 'string')
      assert.equal(typeof payload.jti, 'string')

      const discovery = await t.app.inject({ method: 'GET', url: '/.well-known/openid-configuration' })
      assert.deepEqual(discovery.json().id_token_signing_alg_values_supported, [signingAlg])
      assert.equal(discovery.json().issuer, ISSUER)
    })
  }
})
