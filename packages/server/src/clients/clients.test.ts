import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { type Admin, bearer, buildAdminTestApp } from '../../test/factories.ts'
import { TEST_MASTER_KEY, type TestApp } from '../../test/harness.ts'
import { createValidatingProvider } from '../../test/validating-provider.ts'
import { createSecretBox } from '../core/crypto.ts'
import { findClientMetadata } from './store.ts'

describe('admin API: OAuth clients', () => {
  let t: TestApp
  let admin: Admin
  const box = createSecretBox(TEST_MASTER_KEY)
  before(async () => ({ t, admin } = await buildAdminTestApp()))
  after(() => t.close())

  const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
    t.app.inject({ method, url, headers: bearer(admin.accessToken), ...(payload ? { payload } : {}) })
  const create = async (payload: object) => {
    const res = await call('POST', '/v1/admin/clients', payload)
    assert.equal(res.statusCode, 201, res.body)
    return res.json()
  }
  const rowOf = (clientId: string) =>
    t.database.db
      .selectFrom('oauth_clients')
      .selectAll()
      .where('client_id', '=', clientId)
      .executeTakeFirstOrThrow()
  const auditOf = async (clientId: string) => {
    const rows = await t.database.db
      .selectFrom('audit_events')
      .selectAll()
      .where('type', 'like', 'client.%')
      .orderBy('id')
      .execute()
    return rows
      .map((r) => ({ ...r, data: JSON.parse(r.data) as Record<string, unknown> }))
      .filter((r) => r.data.clientId === clientId)
  }

  test('registers a confidential web client with the defaults; the secret is shown once and stored sealed', async () => {
    const client = await create({
      client_name: 'Billing',
      redirect_uris: ['https://billing.example.com/callback'],
      scope: 'openid profile email offline_access',
    })
    assert.match(client.client_id, /^[A-Za-z0-9_-]{22}$/)
    assert.match(client.client_secret, /^[A-Za-z0-9_-]{43}$/)
    assert.deepEqual(
      { ...client, client_id: undefined, client_secret: undefined },
      {
        client_id: undefined,
        client_secret: undefined,
        client_name: 'Billing',
        redirect_uris: ['https://billing.example.com/callback'],
        post_logout_redirect_uris: [],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        application_type: 'web',
        dpop_bound_access_tokens: false,
        scope: 'openid profile email offline_access',
        created_at: new Date(t.clock.now()).toISOString(),
        updated_at: new Date(t.clock.now()).toISOString(),
      },
    )

    const row = await rowOf(client.client_id)
    assert.ok(
      row.client_secret && !row.client_secret.includes(client.client_secret),
      'not stored in the clear',
    )
    assert.ok(!row.metadata.includes(client.client_secret))
    assert.equal(box.decrypt(row.client_secret, `client_secret:${client.client_id}`), client.client_secret)

    const got = await call('GET', `/v1/admin/clients/${client.client_id}`)
    assert.equal(got.statusCode, 200, got.body)
    const { client_secret: _shownOnce, ...withoutSecret } = client
    assert.deepEqual(got.json(), withoutSecret, 'the same client, never its secret')
    assert.doesNotMatch(got.body, /client_secret"/)
    const list = await call('GET', '/v1/admin/clients?limit=100')
    assert.ok(list.json().clients.some((c: { client_id: string }) => c.client_id === client.client_id))
    assert.ok(!list.body.includes(client.client_secret))
  })

  test('findClientMetadata gives oidc-provider the client with its secret, and the provider accepts it', async () => {
    const confidential = await create({ client_name: 'Web', redirect_uris: ['https://app.example.com/cb'] })
    const spa = await create({
      client_name: 'SPA',
      redirect_uris: ['http://localhost:5173/callback'],
      post_logout_redirect_uris: ['http://localhost:5173/'],
      token_endpoint_auth_method: 'none',
      dpop_bound_access_tokens: true,
    })
    const service = await create({
      client_name: 'Worker',
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_post',
      scope: 'profile',
    })
    const cli = await create({
      client_name: 'CLI',
      application_type: 'native',
      grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
    })
    assert.equal(spa.client_secret, undefined, 'public clients get no secret')
    assert.equal(cli.client_secret, undefined)
    assert.deepEqual(service.response_types, [])

    const found = await findClientMetadata(t.database.db, box, confidential.client_id)
    assert.deepEqual(found, {
      client_id: confidential.client_id,
      client_name: 'Web',
      redirect_uris: ['https://app.example.com/cb'],
      post_logout_redirect_uris: [],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      application_type: 'web',
      dpop_bound_access_tokens: false,
      client_secret: confidential.client_secret,
    })
    const publicOne = await findClientMetadata(t.database.db, box, spa.client_id)
    assert.ok(publicOne && !('client_secret' in publicOne))
    assert.equal(await findClientMetadata(t.database.db, box, 'AAAAAAAAAAAAAAAAAAAAAA'), undefined)

    const validate = await createValidatingProvider()
    for (const client of [confidential, spa, service, cli]) {
      await validate((await findClientMetadata(t.database.db, box, client.client_id))!)
    }
  })

  test('lists newest first in keyset pages', async () => {
    const ids: string[] = []
    for (let i = 0; i < 3; i++) {
      t.clock.advance(1000)
      ids.push((await create({ client_name: `Page ${i}`, grant_types: ['client_credentials'] })).client_id)
    }
    // Two clients created in the same millisecond are still both listed once.
    ids.push((await create({ client_name: 'Page 3', grant_types: ['client_credentials'] })).client_id)
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const res = await call('GET', `/v1/admin/clients?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
      assert.equal(res.statusCode, 200, res.body)
      seen.push(...res.json().clients.map((c: { client_id: string }) => c.client_id))
      cursor = res.json().nextCursor
    } while (cursor)
    const mine = seen.filter((id) => ids.includes(id))
    assert.deepEqual(mine.slice(0, 2).sort(), ids.slice(2).sort(), 'the two newest first')
    assert.deepEqual(mine.slice(2), [ids[1], ids[0]])
    assert.equal(new Set(seen).size, seen.length, 'no client twice')
    for (const qs of ['limit=0', 'limit=101', 'cursor=nope', 'extra=1'])
      assert.equal((await call('GET', `/v1/admin/clients?${qs}`)).statusCode, 400, qs)
  })

  test('updates are merge patches, audited by field; a no-op changes nothing', async () => {
    const client = await create({
      client_name: 'Portal',
      redirect_uris: ['https://portal.example.com/cb'],
      logo_uri: 'https://portal.example.com/logo.png',
    })
    const secretBefore = (await rowOf(client.client_id)).client_secret
    t.clock.advance(60_000)
    const res = await call('PATCH', `/v1/admin/clients/${client.client_id}`, {
      client_name: 'Portal 2',
      redirect_uris: ['https://portal.example.com/cb', 'https://portal.example.com/cb2'],
      logo_uri: null,
      scope: 'openid openid profile',
    })
    assert.equal(res.statusCode, 200, res.body)
    const body = res.json()
    assert.equal(body.client_name, 'Portal 2')
    assert.equal(body.logo_uri, undefined, 'null clears a field')
    assert.equal(body.scope, 'openid profile', 'repeated scopes are folded')
    assert.equal(body.client_secret, undefined, 'the secret is not shown again')
    assert.equal(body.updated_at, new Date(t.clock.now()).toISOString())
    assert.equal((await rowOf(client.client_id)).client_secret, secretBefore, 'the secret is kept')

    const again = await call('PATCH', `/v1/admin/clients/${client.client_id}`, { client_name: 'Portal 2' })
    assert.equal(again.statusCode, 200)
    const events = await auditOf(client.client_id)
    assert.deepEqual(
      events.map((e) => e.type),
      ['client.created', 'client.updated'],
    )
    assert.deepEqual(events[1]!.data, {
      clientId: client.client_id,
      fields: ['client_name', 'logo_uri', 'redirect_uris', 'scope'],
      adminId: admin.user.id,
    })
    assert.equal(events[1]!.account_id, null)
    assert.equal(
      (await call('PATCH', '/v1/admin/clients/AAAAAAAAAAAAAAAAAAAAAA', { client_name: 'x' })).statusCode,
      404,
    )
  })

  test('switching to none or private_key_jwt drops the secret; switching back issues a new one, shown once', async () => {
    const client = await create({ client_name: 'Switch', redirect_uris: ['https://switch.example.com/cb'] })
    const toPublic = await call('PATCH', `/v1/admin/clients/${client.client_id}`, {
      token_endpoint_auth_method: 'none',
    })
    assert.equal(toPublic.statusCode, 200, toPublic.body)
    assert.equal(toPublic.json().client_secret, undefined)
    assert.equal((await rowOf(client.client_id)).client_secret, null, 'the secret is gone')

    const back = await call('PATCH', `/v1/admin/clients/${client.client_id}`, {
      token_endpoint_auth_method: 'client_secret_post',
    })
    assert.equal(back.statusCode, 200, back.body)
    const issued = back.json().client_secret as string
    assert.match(issued, /^[A-Za-z0-9_-]{43}$/)
    assert.notEqual(issued, client.client_secret)
    assert.equal((await findClientMetadata(t.database.db, box, client.client_id))!.client_secret, issued)

    const jwks = { keys: [{ kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' }] }
    const toKeys = await call('PATCH', `/v1/admin/clients/${client.client_id}`, {
      token_endpoint_auth_method: 'private_key_jwt',
      jwks,
    })
    assert.equal(toKeys.statusCode, 200, toKeys.body)
    assert.deepEqual(toKeys.json().jwks, jwks)
    assert.equal((await rowOf(client.client_id)).client_secret, null)
    const toUri = await call('PATCH', `/v1/admin/clients/${client.client_id}`, {
      jwks_uri: 'https://switch.example.com/jwks.json',
    })
    assert.equal(toUri.statusCode, 200, toUri.body)
    assert.equal(toUri.json().jwks, undefined, 'jwks_uri replaces jwks')
    const leave = await call('PATCH', `/v1/admin/clients/${client.client_id}`, {
      token_endpoint_auth_method: 'none',
    })
    assert.equal(leave.json().jwks_uri, undefined, 'leaving private_key_jwt retires its keys')

    const events = (await auditOf(client.client_id)).filter((e) => e.type === 'client.updated')
    assert.deepEqual(
      events.map((e) => e.data.secret),
      ['dropped', 'issued', 'dropped', undefined, undefined],
    )
    for (const e of await auditOf(client.client_id)) assert.ok(!JSON.stringify(e).includes(issued))
  })

  test('rotating the secret replaces the stored one at once and is audited without it', async () => {
    const client = await create({ client_name: 'Rotate', grant_types: ['client_credentials'] })
    const before = await rowOf(client.client_id)
    t.clock.advance(1000)
    const res = await call('POST', `/v1/admin/clients/${client.client_id}/secret`)
    assert.equal(res.statusCode, 200, res.body)
    const rotated = res.json().client_secret as string
    assert.match(rotated, /^[A-Za-z0-9_-]{43}$/)
    assert.notEqual(rotated, client.client_secret)
    const after = await rowOf(client.client_id)
    assert.notEqual(after.client_secret, before.client_secret)
    assert.equal(after.metadata, before.metadata)
    assert.equal((await findClientMetadata(t.database.db, box, client.client_id))!.client_secret, rotated)
    assert.equal(res.json().updated_at, new Date(t.clock.now()).toISOString())

    const events = await auditOf(client.client_id)
    const event = events.find((e) => e.type === 'client.secret_rotated')
    assert.deepEqual(event?.data, { clientId: client.client_id, adminId: admin.user.id })
    for (const e of events) {
      assert.ok(!JSON.stringify(e.data).includes(rotated))
      assert.ok(!JSON.stringify(e.data).includes(client.client_secret))
    }

    const publicClient = await create({
      client_name: 'Public',
      redirect_uris: ['https://p.example.com/cb'],
      token_endpoint_auth_method: 'none',
    })
    const none = await call('POST', `/v1/admin/clients/${publicClient.client_id}/secret`)
    assert.equal(none.statusCode, 409)
    assert.equal(none.json().code, 'client_secret_not_used')
    assert.equal((await call('POST', '/v1/admin/clients/AAAAAAAAAAAAAAAAAAAAAA/secret')).statusCode, 404)
  })

  test('delete removes the client; the provider no longer finds it', async () => {
    const client = await create({ client_name: 'Gone', grant_types: ['client_credentials'] })
    const res = await call('DELETE', `/v1/admin/clients/${client.client_id}`)
    assert.equal(res.statusCode, 204, res.body)
    assert.equal(await findClientMetadata(t.database.db, box, client.client_id), undefined)
    const again = await call('GET', `/v1/admin/clients/${client.client_id}`)
    assert.equal(again.statusCode, 404)
    assert.equal(again.json().code, 'client_not_found')
    assert.equal((await call('DELETE', `/v1/admin/clients/${client.client_id}`)).statusCode, 404)
    const events = await auditOf(client.client_id)
    assert.deepEqual(events.at(-1)?.data, {
      clientId: client.client_id,
      clientName: 'Gone',
      adminId: admin.user.id,
    })
  })

  test('the routes are in the OpenAPI document, with bearer security', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json()
    for (const [path, method] of [
      ['/v1/admin/clients', 'post'],
      ['/v1/admin/clients', 'get'],
      ['/v1/admin/clients/{clientId}', 'get'],
      ['/v1/admin/clients/{clientId}', 'patch'],
      ['/v1/admin/clients/{clientId}', 'delete'],
      ['/v1/admin/clients/{clientId}/secret', 'post'],
    ] as const) {
      const operation = doc.paths[path]?.[method]
      assert.ok(operation, `${method} ${path}`)
      assert.deepEqual(operation.security, [{ bearer: [] }])
      assert.ok(operation.summary && operation.tags.includes('admin'))
      assert.ok(operation.responses['403'], 'documents admin_required')
    }
  })
})
