/**
 * The metadata rules, one by one: each refusal is a 400 naming the field, and nothing is stored.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { type Admin, bearer, buildAdminTestApp } from '../../test/factories.ts'
import { buildTestApp, TEST_MASTER_KEY, type TestApp } from '../../test/harness.ts'
import { createValidatingProvider } from '../../test/validating-provider.ts'
import { createAuditLog } from '../audit/service.ts'
import { createSecretBox } from '../core/crypto.ts'
import { AppError } from '../core/errors.ts'
import { MAX_URI_LENGTH, MAX_URIS } from './metadata.ts'
import { createClientService, type ValidateMetadata } from './service.ts'
import { findClientMetadata } from './store.ts'

const WEB = { client_name: 'Rules' }
const CODE = { ...WEB, redirect_uris: ['https://app.example.com/cb'] }
const NATIVE = { ...WEB, application_type: 'native', token_endpoint_auth_method: 'none' }
const PUBLIC_JWK = { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' }

/** [what is wrong, body, the field the error must name] */
const REFUSED: [string, object, string][] = [
  ['a relative redirect URI', { ...WEB, redirect_uris: ['/callback'] }, 'redirect_uris/0'],
  ['a fragment', { ...WEB, redirect_uris: ['https://a.example.com/cb#x'] }, 'redirect_uris/0'],
  ['http on a public host', { ...WEB, redirect_uris: ['http://a.example.com/cb'] }, 'redirect_uris/0'],
  ['credentials in the URI', { ...WEB, redirect_uris: ['https://u:p@a.example.com/cb'] }, 'redirect_uris/0'],
  ['spaces', { ...WEB, redirect_uris: [' https://a.example.com/cb'] }, 'redirect_uris/0'],
  ['a control character', { ...WEB, redirect_uris: ['https://a.example.com/c\u0001b'] }, 'redirect_uris/0'],
  [
    'a URI that is too long',
    { ...WEB, redirect_uris: [`https://a.example.com/${'a'.repeat(MAX_URI_LENGTH)}`] },
    'redirect_uris/0',
  ],
  [
    'too many URIs',
    { ...WEB, redirect_uris: Array.from({ length: MAX_URIS + 1 }, (_, i) => `https://a.example.com/${i}`) },
    'redirect_uris',
  ],
  [
    'a private-use scheme on a web client',
    { ...WEB, redirect_uris: ['com.example.app:/cb'] },
    'redirect_uris/0',
  ],
  ['a private-use scheme that is no domain', { ...NATIVE, redirect_uris: ['myapp:/cb'] }, 'redirect_uris/0'],
  ['javascript:', { ...NATIVE, redirect_uris: ['javascript:alert(1)'] }, 'redirect_uris/0'],
  [
    'https on loopback for a native client',
    { ...NATIVE, redirect_uris: ['https://localhost/cb'] },
    'redirect_uris/0',
  ],
  [
    'a second bad redirect URI',
    { ...WEB, redirect_uris: ['https://a.example.com/cb', 'https://a.example.com/cb#x'] },
    'redirect_uris/1',
  ],
  [
    'a bad post-logout URI',
    { ...CODE, post_logout_redirect_uris: ['http://a.example.com/'] },
    'post_logout_redirect_uris/0',
  ],
  ['authorization_code without a redirect URI', { ...WEB }, 'redirect_uris'],
  [
    'client_credentials on a public client',
    { ...WEB, grant_types: ['client_credentials'], token_endpoint_auth_method: 'none' },
    'grant_types',
  ],
  ['refresh_token alone', { ...WEB, grant_types: ['refresh_token'] }, 'grant_types'],
  [
    'refresh_token with client_credentials',
    { ...WEB, grant_types: ['client_credentials', 'refresh_token'] },
    'grant_types',
  ],
  ['private_key_jwt without keys', { ...CODE, token_endpoint_auth_method: 'private_key_jwt' }, 'jwks'],
  [
    'private_key_jwt with both key sources',
    {
      ...CODE,
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [PUBLIC_JWK] },
      jwks_uri: 'https://a.example.com/jwks',
    },
    'jwks',
  ],
  [
    'a private key in jwks',
    {
      ...CODE,
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [{ ...PUBLIC_JWK, d: 'secret' }] },
    },
    'jwks/keys/0',
  ],
  [
    'a symmetric key in jwks',
    {
      ...CODE,
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] },
    },
    'jwks/keys/0',
  ],
  [
    'an empty jwks',
    { ...CODE, token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [] } },
    'jwks/keys',
  ],
  [
    'jwks_uri over http',
    { ...CODE, token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'http://localhost/jwks' },
    'jwks_uri',
  ],
  ['jwks with a secret method', { ...CODE, jwks: { keys: [PUBLIC_JWK] } }, 'jwks'],
  ['an http logo_uri', { ...CODE, logo_uri: 'http://a.example.com/logo.png' }, 'logo_uri'],
  ['an ftp tos_uri', { ...CODE, tos_uri: 'ftp://a.example.com/tos' }, 'tos_uri'],
]

const ACCEPTED: [string, object][] = [
  [
    'http on every loopback host, any port',
    {
      ...WEB,
      redirect_uris: ['http://localhost:8080/cb', 'http://127.0.0.1:5000/cb', 'http://[::1]:3000/cb'],
    },
  ],
  ['a native private-use scheme', { ...NATIVE, redirect_uris: ['com.example.app:/callback'] }],
  ['a native loopback redirect', { ...NATIVE, redirect_uris: ['http://127.0.0.1/callback'] }],
  ['a claimed https URI', { ...NATIVE, redirect_uris: ['https://app.example.com/native'] }],
  [
    'a device-code CLI',
    { ...NATIVE, grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'] },
  ],
  [
    'private_key_jwt with jwks_uri',
    { ...CODE, token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://a.example.com/jwks' },
  ],
  ['a service with client_credentials', { ...WEB, grant_types: ['client_credentials'] }],
]

describe('admin API: client metadata rules', () => {
  let t: TestApp
  let admin: Admin
  before(async () => ({ t, admin } = await buildAdminTestApp()))
  after(() => t.close())

  const call = (method: 'POST' | 'PATCH', url: string, payload: object) =>
    t.app.inject({ method, url, headers: bearer(admin.accessToken), payload })
  const countClients = async () =>
    Number(
      (
        await t.database.db
          .selectFrom('oauth_clients')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    )

  test('each rule refuses with 400 invalid_client_metadata naming the field; nothing is stored', async () => {
    const stored = await countClients()
    for (const [what, body, field] of REFUSED) {
      const res = await call('POST', '/v1/admin/clients', body)
      assert.equal(res.statusCode, 400, `${what}: ${res.body}`)
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/)
      const problem = res.json()
      assert.equal(problem.code, 'invalid_client_metadata', what)
      assert.ok(problem.detail.startsWith(`${field}: `), `${what}: ${problem.detail}`)
      assert.deepEqual(
        problem.errors.map((e: { pointer: string }) => e.pointer),
        [`/body/${field}`],
        what,
      )
    }
    assert.equal(await countClients(), stored)
  })

  test('what the rules allow is accepted, and oidc-provider accepts it too', async () => {
    const validate = await createValidatingProvider()
    const box = createSecretBox(TEST_MASTER_KEY)
    for (const [what, body] of ACCEPTED) {
      const res = await call('POST', '/v1/admin/clients', body)
      assert.equal(res.statusCode, 201, `${what}: ${res.body}`)
      await validate((await findClientMetadata(t.database.db, box, res.json().client_id))!)
    }
  })

  test('unknown fields, wrong types and unknown values are refused by the schema', async () => {
    for (const body of [
      { ...CODE, response_types: ['code'] },
      { ...CODE, client_secret: 'chosen-by-me' },
      { ...CODE, client_id: 'mine' },
      { ...CODE, first_party: true },
      { ...CODE, grant_types: ['password'] },
      { ...CODE, grant_types: ['implicit'] },
      { ...CODE, grant_types: [] },
      { ...CODE, grant_types: ['client_credentials', 'client_credentials'] },
      { ...CODE, token_endpoint_auth_method: 'client_secret_jwt' },
      { ...CODE, application_type: 'desktop' },
      { ...CODE, scope: 'openid  profile' },
      { ...CODE, scope: 'bad"scope' },
      { ...CODE, dpop_bound_access_tokens: 'yes' },
      { ...CODE, redirect_uris: 'https://a.example.com/cb' },
      { ...CODE, client_name: '' },
      { redirect_uris: ['https://a.example.com/cb'] },
    ]) {
      const res = await call('POST', '/v1/admin/clients', body)
      assert.equal(res.statusCode, 400, JSON.stringify(body))
      assert.equal(res.json().code, 'validation_failed', JSON.stringify(body))
    }
    const unknown = await call('POST', '/v1/admin/clients', { ...CODE, backchannel_logout_uri: 'https://x' })
    assert.deepEqual(unknown.json().errors, [
      { pointer: '/body/backchannel_logout_uri', detail: 'unknown field' },
    ])
  })

  test('an update is checked as a whole and leaves the client alone when refused', async () => {
    const created = await call('POST', '/v1/admin/clients', CODE)
    const { client_id: id } = created.json()
    const url = `/v1/admin/clients/${id}`
    const row = () =>
      t.database.db
        .selectFrom('oauth_clients')
        .selectAll()
        .where('client_id', '=', id)
        .executeTakeFirstOrThrow()
    const before = await row()
    for (const [patch, field] of [
      [{ redirect_uris: [] }, 'redirect_uris'],
      [{ token_endpoint_auth_method: 'none', grant_types: ['client_credentials'] }, 'grant_types'],
      [{ token_endpoint_auth_method: 'private_key_jwt' }, 'jwks'],
      [{ application_type: 'native', redirect_uris: ['https://localhost/cb'] }, 'redirect_uris/0'],
    ] as const) {
      const res = await call('PATCH', url, patch)
      assert.equal(res.statusCode, 400, JSON.stringify(patch))
      assert.equal(res.json().code, 'invalid_client_metadata')
      assert.ok(res.json().detail.startsWith(`${field}: `), res.json().detail)
    }
    assert.deepEqual(await row(), before)
    for (const patch of [{}, { client_secret: 'x' }, { redirect_uris: null }, { client_name: null }]) {
      const res = await call('PATCH', url, patch)
      assert.equal(res.statusCode, 400, JSON.stringify(patch))
      assert.equal(res.json().code, 'validation_failed')
    }
  })
})

describe('client registration checked by oidc-provider (validateMetadata)', () => {
  let t: TestApp
  before(async () => {
    t = await buildTestApp()
  })
  after(() => t.close())

  const admin = {
    accountId: '01890a5d-ac96-774b-bcce-b302099a8057',
    client: { ip: '203.0.113.9', userAgent: null },
  }
  const serviceWith = (validateMetadata: ValidateMetadata) =>
    createClientService({
      db: t.database.db,
      box: createSecretBox(TEST_MASTER_KEY),
      clock: t.clock,
      audit: createAuditLog({ db: t.database.db, clock: t.clock }),
      validateMetadata,
    })
  const refusal = async (promise: Promise<unknown>) => {
    const err = await promise.then(
      () => assert.fail('expected a refusal'),
      (e: unknown) => e,
    )
    assert.ok(err instanceof AppError, String(err))
    return err
  }

  test('what the provider refuses is refused with its error_description, and not stored', async () => {
    const clients = serviceWith(await createValidatingProvider())
    const err = await refusal(clients.createClient(admin, { ...CODE, scope: 'openid invoices:read' }))
    assert.equal(err.status, 400)
    assert.equal(err.code, 'invalid_client_metadata')
    assert.equal(err.detail, 'scope must only contain Authorization Server supported scope values')
    const rows = await t.database.db.selectFrom('oauth_clients').select('client_id').execute()
    assert.equal(rows.length, 0)

    const ok = await clients.createClient(admin, { ...CODE, scope: 'openid profile' })
    const patched = await refusal(clients.updateClient(admin, ok.client_id, { scope: 'openid payroll' }))
    assert.equal(patched.code, 'invalid_client_metadata')
    assert.equal((await clients.getClient(ok.client_id)).scope, 'openid profile')
  })

  test('the provider sees the whole client, secret included; a thrown stack never reaches the answer', async () => {
    const seen: Record<string, unknown>[] = []
    const clients = serviceWith(async (metadata) => {
      seen.push(metadata)
      if (metadata.client_name === 'Refuse me')
        throw new Error('first line\n    at secretFunction (/srv/x.js:1:1)')
      if (metadata.client_name === 'Refuse silently') throw { nothing: true }
    })
    const created = await clients.createClient(admin, CODE)
    assert.equal(seen[0]?.client_id, created.client_id)
    assert.equal(seen[0]?.client_secret, created.client_secret)
    assert.deepEqual(seen[0]?.response_types, ['code'])
    await clients.updateClient(admin, created.client_id, { client_name: 'Renamed' })
    assert.equal(seen[1]?.client_secret, created.client_secret, 'the kept secret, for the provider to check')

    const stack = await refusal(clients.createClient(admin, { ...CODE, client_name: 'Refuse me' }))
    assert.equal(stack.detail, 'first line')
    const opaque = await refusal(clients.createClient(admin, { ...CODE, client_name: 'Refuse silently' }))
    assert.equal(opaque.detail, 'the OpenID provider refused this client metadata')
  })
})
