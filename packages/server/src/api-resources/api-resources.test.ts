import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { type Admin, bearer, buildAdminTestApp, register, registerAdmin } from '../../test/factories.ts'
import { buildTestApp, type TestApp } from '../../test/harness.ts'
import { findApiResourceByAudience } from './store.ts'

const UNKNOWN_ID = '01890a5d-ac96-774b-bcce-b302099a8057'
let counter = 0
const audience = (label = 'api') => `https://${label}-${process.pid}-${++counter}.example.com/`

describe('admin API: API resources', () => {
  let t: TestApp
  let admin: Admin
  before(async () => ({ t, admin } = await buildAdminTestApp()))
  after(() => t.close())

  const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
    t.app.inject({ method, url, headers: bearer(admin.accessToken), ...(payload ? { payload } : {}) })
  const create = async (payload: object) => {
    const res = await call('POST', '/v1/admin/api-resources', payload)
    assert.equal(res.statusCode, 201, res.body)
    return res.json()
  }
  const auditOf = async (apiResourceId: string) => {
    const rows = await t.database.db
      .selectFrom('audit_events')
      .selectAll()
      .where('type', 'like', 'api_resource.%')
      .orderBy('id')
      .execute()
    return rows
      .map((r) => ({ type: r.type, data: JSON.parse(r.data) as Record<string, unknown> }))
      .filter((r) => r.data.apiResourceId === apiResourceId)
  }

  test('registers, reads, updates and deletes an API; the provider finds it by audience; all audited', async () => {
    const aud = audience('invoices')
    const created = await create({
      audience: aud,
      name: 'Invoices',
      scopes: ['invoices:read', 'invoices:write'],
    })
    const now = new Date(t.clock.now()).toISOString()
    assert.deepEqual(created, {
      id: created.id,
      audience: aud,
      name: 'Invoices',
      scopes: ['invoices:read', 'invoices:write'],
      accessTokenTtl: 900,
      createdAt: now,
      updatedAt: now,
    })
    assert.deepEqual(await findApiResourceByAudience(t.database.db, aud), {
      id: created.id,
      audience: aud,
      name: 'Invoices',
      scopes: ['invoices:read', 'invoices:write'],
      accessTokenTtl: 900,
    })
    assert.equal(
      await findApiResourceByAudience(t.database.db, aud.slice(0, -1)),
      undefined,
      'compared exactly',
    )
    assert.deepEqual((await call('GET', `/v1/admin/api-resources/${created.id}`)).json(), created)

    t.clock.advance(1000)
    const patched = await call('PATCH', `/v1/admin/api-resources/${created.id}`, {
      scopes: ['invoices:read'],
      accessTokenTtl: 300,
    })
    assert.equal(patched.statusCode, 200, patched.body)
    assert.deepEqual(patched.json().scopes, ['invoices:read'])
    assert.equal(patched.json().accessTokenTtl, 300)
    assert.equal(patched.json().updatedAt, new Date(t.clock.now()).toISOString())
    const same = await call('PATCH', `/v1/admin/api-resources/${created.id}`, { accessTokenTtl: 300 })
    assert.equal(same.statusCode, 200, 'a no-op is fine, and not audited')

    const deleted = await call('DELETE', `/v1/admin/api-resources/${created.id}`)
    assert.equal(deleted.statusCode, 204, deleted.body)
    assert.equal(await findApiResourceByAudience(t.database.db, aud), undefined)
    const gone = await call('GET', `/v1/admin/api-resources/${created.id}`)
    assert.equal(gone.statusCode, 404)
    assert.equal(gone.json().code, 'api_resource_not_found')
    assert.equal((await call('DELETE', `/v1/admin/api-resources/${created.id}`)).statusCode, 404)
    assert.equal(
      (await call('PATCH', `/v1/admin/api-resources/${UNKNOWN_ID}`, { name: 'x' })).statusCode,
      404,
    )

    assert.deepEqual(await auditOf(created.id), [
      {
        type: 'api_resource.created',
        data: { apiResourceId: created.id, audience: aud, adminId: admin.user.id },
      },
      {
        type: 'api_resource.updated',
        data: { apiResourceId: created.id, fields: ['accessTokenTtl', 'scopes'], adminId: admin.user.id },
      },
      {
        type: 'api_resource.deleted',
        data: { apiResourceId: created.id, audience: aud, adminId: admin.user.id },
      },
    ])
  })

  test('the name defaults to the audience; lists newest first in pages', async () => {
    const ids: string[] = []
    for (let i = 0; i < 3; i++) ids.push((await create({ audience: audience('page') })).id)
    const first = (await call('GET', `/v1/admin/api-resources/${ids[0]}`)).json()
    assert.equal(first.name, first.audience)
    assert.deepEqual(first.scopes, [])
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const res = await call('GET', `/v1/admin/api-resources?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
      assert.equal(res.statusCode, 200, res.body)
      seen.push(...res.json().apiResources.map((r: { id: string }) => r.id))
      cursor = res.json().nextCursor
    } while (cursor)
    assert.deepEqual(
      seen.filter((id) => ids.includes(id)),
      [...ids].reverse(),
    )
  })

  test('audiences are unique, and the first-party API audience is built in', async () => {
    const aud = audience('unique')
    const first = await create({ audience: aud })
    const again = await call('POST', '/v1/admin/api-resources', { audience: aud })
    assert.equal(again.statusCode, 409)
    assert.equal(again.json().code, 'audience_taken')
    for (const builtIn of ['http://localhost:3000/v1', 'HTTP://LOCALHOST:3000/v1']) {
      const res = await call('POST', '/v1/admin/api-resources', { audience: builtIn })
      assert.equal(res.statusCode, 409, builtIn)
      assert.equal(res.json().code, 'audience_taken')
    }
    const other = await create({ audience: audience('other') })
    const clash = await call('PATCH', `/v1/admin/api-resources/${other.id}`, { audience: aud })
    assert.equal(clash.statusCode, 409)
    assert.equal(clash.json().code, 'audience_taken')
    const toBuiltIn = await call('PATCH', `/v1/admin/api-resources/${first.id}`, {
      audience: 'http://localhost:3000/v1',
    })
    assert.equal(toBuiltIn.statusCode, 409)
    const moved = await call('PATCH', `/v1/admin/api-resources/${other.id}`, { audience: `${aud}v2` })
    assert.equal(moved.statusCode, 200, moved.body)
  })

  test('audience, scopes and lifetime are validated', async () => {
    for (const [body, pointer] of [
      [{ audience: 'api.example.com' }, '/body/audience'],
      [{ audience: 'urn:example:api' }, '/body/audience'],
      [{ audience: 'http://api.example.com/' }, '/body/audience'],
      [{ audience: 'https://api.example.com/#x' }, '/body/audience'],
      [{ audience: 'https://api.example.com/?v=1' }, '/body/audience'],
      [{ audience: 'https://u:p@api.example.com/' }, '/body/audience'],
      [{ audience: ' https://api.example.com/' }, '/body/audience'],
      [{ audience: `https://api.example.com/${'a'.repeat(600)}` }, '/body/audience'],
      [{ audience: audience(), scopes: ['openid'] }, '/body/scopes/0'],
      [{ audience: audience(), scopes: ['read', 'offline_access'] }, '/body/scopes/1'],
      [{ audience: audience(), scopes: ['has space'] }, '/body/scopes/0'],
      [{ audience: audience(), scopes: ['quote"d'] }, '/body/scopes/0'],
      [{ audience: audience(), scopes: ['back\\slash'] }, '/body/scopes/0'],
      [{ audience: audience(), scopes: [''] }, '/body/scopes/0'],
      [{ audience: audience(), accessTokenTtl: 59 }, '/body/accessTokenTtl'],
      [{ audience: audience(), accessTokenTtl: 86_401 }, '/body/accessTokenTtl'],
      [{ audience: audience(), accessTokenTtl: 90.5 }, '/body/accessTokenTtl'],
      [{ audience: audience(), extra: true }, '/body/extra'],
      [{ name: 'No audience' }, '/body/audience'],
    ] as const) {
      const res = await call('POST', '/v1/admin/api-resources', body)
      assert.equal(res.statusCode, 400, JSON.stringify(body))
      assert.equal(res.json().code, 'validation_failed')
      assert.ok(
        res.json().errors.some((e: { pointer: string }) => e.pointer === pointer),
        `${JSON.stringify(body)}: ${res.body}`,
      )
    }
    const tooMany = Array.from({ length: 101 }, (_, i) => `s${i}`)
    assert.equal(
      (await call('POST', '/v1/admin/api-resources', { audience: audience(), scopes: tooMany })).statusCode,
      400,
    )
    const dupes = { audience: audience(), scopes: ['a', 'a'] }
    assert.equal((await call('POST', '/v1/admin/api-resources', dupes)).statusCode, 400)
    const max = await create({ audience: audience(), scopes: tooMany.slice(1), accessTokenTtl: 86_400 })
    assert.equal(max.scopes.length, 100)
    assert.equal(
      (await call('PATCH', `/v1/admin/api-resources/${max.id}`, {})).statusCode,
      400,
      'an empty patch',
    )
    const dev = await call('POST', '/v1/admin/api-resources', { audience: 'http://localhost:4000/api' })
    assert.equal(dev.statusCode, 201, 'http on localhost outside production')
  })

  test('a user gets 403 and nobody 401 on every route; the routes are documented', async () => {
    const target = await create({ audience: audience('target') })
    const user = await register(t.app)
    for (const id of [target.id, UNKNOWN_ID]) {
      for (const route of [
        { method: 'POST', url: '/v1/admin/api-resources', payload: { audience: audience() } },
        { method: 'GET', url: '/v1/admin/api-resources' },
        { method: 'GET', url: `/v1/admin/api-resources/${id}` },
        { method: 'PATCH', url: `/v1/admin/api-resources/${id}`, payload: { name: 'Taken over' } },
        { method: 'DELETE', url: `/v1/admin/api-resources/${id}` },
      ] as const) {
        const res = await t.app.inject({ ...route, headers: bearer(user.accessToken) })
        assert.equal(res.statusCode, 403, `${route.method} ${route.url}`)
        assert.equal(res.json().code, 'admin_required')
        assert.equal((await t.app.inject(route)).statusCode, 401, `${route.method} ${route.url} anonymous`)
      }
    }
    assert.equal((await call('GET', `/v1/admin/api-resources/${target.id}`)).json().name, target.name)

    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json()
    for (const [path, method] of [
      ['/v1/admin/api-resources', 'post'],
      ['/v1/admin/api-resources', 'get'],
      ['/v1/admin/api-resources/{id}', 'get'],
      ['/v1/admin/api-resources/{id}', 'patch'],
      ['/v1/admin/api-resources/{id}', 'delete'],
    ] as const) {
      const operation = doc.paths[path]?.[method]
      assert.ok(operation?.summary, `${method} ${path}`)
      assert.deepEqual(operation.security, [{ bearer: [] }])
    }
  })
})

describe('API resources in production', () => {
  test('http audiences are refused, even on localhost', async () => {
    const t = await buildTestApp({ config: { production: true } })
    try {
      const admin = await registerAdmin(t)
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/admin/api-resources',
        headers: bearer(admin.accessToken),
        payload: { audience: 'http://localhost:4000/api' },
      })
      assert.equal(res.statusCode, 400, res.body)
      assert.equal(res.json().detail, 'audience: must use https:')
    } finally {
      await t.close()
    }
  })
})
