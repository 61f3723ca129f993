/**
 * Attacks on client administration: privilege escalation (a user or nobody calling the admin
 * routes), a client secret leaking after the one answer that shows it, a sealed secret moved to
 * another client, and a lost update racing a secret rotation.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { type Admin, bearer, buildAdminTestApp, register } from '../../test/factories.ts'
import { TEST_MASTER_KEY, type TestApp } from '../../test/harness.ts'
import { createAuditLog } from '../audit/service.ts'
import { createSecretBox } from '../core/crypto.ts'
import { AppError } from '../core/errors.ts'
import { createClientService } from './service.ts'
import { findClientMetadata } from './store.ts'

const UNKNOWN_CLIENT = 'AAAAAAAAAAAAAAAAAAAAAA'
const body = { client_name: 'Target', redirect_uris: ['https://target.example.com/cb'] }

function clientRoutes(clientId: string) {
  return [
    { method: 'POST', url: '/v1/admin/clients', payload: body },
    { method: 'GET', url: '/v1/admin/clients' },
    { method: 'GET', url: `/v1/admin/clients/${clientId}` },
    { method: 'PATCH', url: `/v1/admin/clients/${clientId}`, payload: { client_name: 'Taken over' } },
    { method: 'DELETE', url: `/v1/admin/clients/${clientId}` },
    { method: 'POST', url: `/v1/admin/clients/${clientId}/secret` },
  ] as const
}

describe('client administration security', () => {
  let t: TestApp
  let admin: Admin
  const box = createSecretBox(TEST_MASTER_KEY)
  before(async () => ({ t, admin } = await buildAdminTestApp()))
  after(() => t.close())

  const create = async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/admin/clients',
      headers: bearer(admin.accessToken),
      payload: body,
    })
    assert.equal(res.statusCode, 201, res.body)
    return res.json() as { client_id: string; client_secret: string }
  }
  const rowOf = (clientId: string) =>
    t.database.db
      .selectFrom('oauth_clients')
      .selectAll()
      .where('client_id', '=', clientId)
      .executeTakeFirstOrThrow()

  test('privilege escalation: a user gets 403 admin_required and nobody gets 401, on every route', async () => {
    const target = await create()
    const before = await rowOf(target.client_id)
    const user = await register(t.app)
    for (const route of [...clientRoutes(target.client_id), ...clientRoutes(UNKNOWN_CLIENT)]) {
      const res = await t.app.inject({ ...route, headers: bearer(user.accessToken) })
      assert.equal(res.statusCode, 403, `${route.method} ${route.url}`)
      assert.equal(res.json().code, 'admin_required')
      const anonymous = await t.app.inject(route)
      assert.equal(anonymous.statusCode, 401, `${route.method} ${route.url} without a token`)
      assert.equal(anonymous.json().code, 'unauthorized')
    }
    // Input is not even looked at: an invalid body still gets 403, not a validation answer.
    const invalid = await t.app.inject({
      method: 'POST',
      url: '/v1/admin/clients',
      headers: bearer(user.accessToken),
      payload: { bogus: true },
    })
    assert.equal(invalid.statusCode, 403)
    assert.deepEqual(await rowOf(target.client_id), before, 'the client was not touched')
  })

  test('the secret is in the create answer only: not in reads, updates, listings, audit rows or the row', async () => {
    const { client_id: id, client_secret: secret } = await create()
    const answers = [
      await t.app.inject({
        method: 'GET',
        url: `/v1/admin/clients/${id}`,
        headers: bearer(admin.accessToken),
      }),
      await t.app.inject({
        method: 'GET',
        url: '/v1/admin/clients?limit=100',
        headers: bearer(admin.accessToken),
      }),
      await t.app.inject({
        method: 'PATCH',
        url: `/v1/admin/clients/${id}`,
        headers: bearer(admin.accessToken),
        payload: { client_name: 'Renamed', dpop_bound_access_tokens: true },
      }),
    ]
    for (const [index, res] of answers.entries()) {
      assert.equal(res.statusCode, 200, res.body)
      assert.ok(!res.body.includes(secret), `answer ${index}`)
      assert.ok(!res.body.includes('"client_secret":'), 'not even an empty field')
    }
    const audits = await createAuditLog({ db: t.database.db, clock: t.clock }).listForAccount(admin.user.id)
    const rows = await t.database.db
      .selectFrom('audit_events')
      .select('data')
      .where('type', 'like', 'client.%')
      .execute()
    for (const row of [...rows, ...audits]) assert.ok(!JSON.stringify(row).includes(secret))
    const stored = await rowOf(id)
    assert.ok(!JSON.stringify(stored).includes(secret), 'sealed at rest')
  })

  test('a sealed secret copied onto another client does not open there', async () => {
    const first = await create()
    const second = await create()
    const sealed = (await rowOf(first.client_id)).client_secret
    await t.database.db
      .updateTable('oauth_clients')
      .set({ client_secret: sealed })
      .where('client_id', '=', second.client_id)
      .execute()
    await assert.rejects(findClientMetadata(t.database.db, box, second.client_id))
    const otherKey = createSecretBox(Buffer.alloc(32, 9).toString('base64url'))
    await assert.rejects(findClientMetadata(t.database.db, otherKey, first.client_id), /master key/)
  })

  test('lost update: an update racing a rotation fails instead of undoing it', async () => {
    const audit = createAuditLog({ db: t.database.db, clock: t.clock })
    const actor = { accountId: admin.user.id, client: { ip: '203.0.113.7', userAgent: null } }
    let race: (() => Promise<void>) | undefined
    let rotated: string | undefined
    const clients = createClientService({
      db: t.database.db,
      box,
      clock: t.clock,
      audit,
      // Runs after an update has read the row and before it writes: the race lands in between.
      validateMetadata: async () => {
        const run = race
        race = undefined
        await run?.()
      },
    })
    const target = await clients.createClient(actor, { ...body, grant_types: ['client_credentials'] })
    race = async () => {
      rotated = (await clients.rotateSecret(actor, target.client_id)).client_secret
    }
    const err = await clients
      .updateClient(actor, target.client_id, {
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code'],
      })
      .then(
        () => assert.fail('the stale update must not apply'),
        (e: unknown) => e,
      )
    assert.ok(err instanceof AppError)
    assert.equal(err.status, 409)
    assert.equal(err.code, 'client_changed')
    const found = await findClientMetadata(t.database.db, box, target.client_id)
    assert.equal(found?.client_secret, rotated, 'the rotated secret is the one that works')
    assert.equal(found?.token_endpoint_auth_method, 'client_secret_basic')
  })
})
