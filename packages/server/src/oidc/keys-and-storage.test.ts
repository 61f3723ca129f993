/**
 * One key set for every token, rotating together; and the provider's storage cleaning up after
 * itself.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from 'jose'
import { register } from '../../test/factories.ts'
import { TEST_MASTER_KEY } from '../../test/harness.ts'
import { type OidcTestServer, startOidcServer } from '../../test/oidc.ts'
import { createSecretBox } from '../core/crypto.ts'
import { rotateSigningKeys } from '../tokens/keys.ts'
import { sweepExpiredModels } from './models-store.ts'

const API = 'https://api.example.com'
let t: OidcTestServer
let client: { client_id: string; client_secret?: string }

before(async () => {
  t = await startOidcServer({ config: { keyReloadInterval: 1 } })
  client = await t.createClient({ client_name: 'Worker', grant_types: ['client_credentials'] })
  await t.createApi({ audience: API, name: 'API', scopes: ['read'] })
})
after(() => t.close())

async function clientCredentialsToken(server = t, worker = client): Promise<string> {
  const res = await fetch(`${server.issuer}/oidc/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${worker.client_id}:${worker.client_secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: API, scope: 'read' }),
  })
  assert.equal(res.status, 200)
  return ((await res.json()) as { access_token: string }).access_token
}

const jwks = async (server = t) =>
  (await (await fetch(`${server.issuer}/.well-known/jwks.json`)).json()) as JSONWebKeySet

test('a key rotation reaches the provider: new tokens use the new key, old ones still verify', async () => {
  const before = await clientCredentialsToken()
  const oldKid = decodeProtectedHeader(before).kid
  await rotateSigningKeys({
    db: t.database.db,
    box: createSecretBox(TEST_MASTER_KEY),
    clock: t.clock,
    alg: 'EdDSA',
    accessTokenTtl: 900,
    keyReloadInterval: 1,
  })
  await sleep(1500) // the key ring's reload interval
  const afterRotation = await clientCredentialsToken()
  const newKid = decodeProtectedHeader(afterRotation).kid
  assert.notEqual(newKid, oldKid)
  const keys = createLocalJWKSet(await jwks())
  for (const token of [before, afterRotation]) {
    const { payload } = await jwtVerify(token, keys, { issuer: t.issuer, audience: API, typ: 'at+jwt' })
    assert.equal(payload.client_id, client.client_id)
  }
  // The first-party API signs with the same new key, verified against the same JWKS.
  const firstParty = (await register(t.app)).accessToken
  assert.equal(decodeProtectedHeader(firstParty).kid, newKid)
  await jwtVerify(firstParty, keys, { issuer: t.issuer, typ: 'at+jwt', currentDate: new Date(t.clock.now()) })
})

test('expired provider rows are swept; live ones stay', async () => {
  const { db } = t.database
  const now = t.clock.now()
  const row = (id: string, expiresAt: number) => ({
    model: 'AccessToken',
    id,
    payload: '{}',
    grant_id: null,
    user_code: null,
    uid: null,
    account_id: null,
    expires_at: expiresAt,
    consumed_at: null,
  })
  await db
    .insertInto('oidc_models')
    .values([row('old', now - 3_600_000), row('live', now + 3_600_000)])
    .execute()
  assert.ok((await sweepExpiredModels(db, now)) >= 1)
  const ids = (
    await db.selectFrom('oidc_models').select('id').where('id', 'in', ['old', 'live']).execute()
  ).map((r) => r.id)
  assert.deepEqual(ids, ['live'])
})

for (const signingAlg of ['ES256', 'RS256'] as const) {
  test(`${signingAlg}: the provider signs with the key ring's ${signingAlg} key, verified against the JWKS`, async () => {
    const server = await startOidcServer({ config: { signingAlg } })
    try {
      const worker = await server.createClient({ client_name: 'Worker', grant_types: ['client_credentials'] })
      await server.createApi({ audience: API, name: 'API', scopes: ['read'] })
      const token = await clientCredentialsToken(server, worker)
      const { protectedHeader } = await jwtVerify(token, createLocalJWKSet(await jwks(server)), {
        issuer: server.issuer,
        audience: API,
        typ: 'at+jwt',
        algorithms: [signingAlg],
      })
      assert.equal(protectedHeader.alg, signingAlg)
    } finally {
      await server.close()
    }
  })
}
