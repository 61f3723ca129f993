import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { serveOn, tessera } from '../../test/cli.ts'
import { bearer, registerAdmin } from '../../test/factories.ts'
import { TEST_MASTER_KEY, type TestApp } from '../../test/harness.ts'
import { createSecretBox } from '../core/crypto.ts'
import { findClientMetadata } from './store.ts'

const DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code'

describe('tessera clients', () => {
  let dataDir: string
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'tessera-clients-cli-'))
  })
  after(() => rmSync(dataDir, { recursive: true, force: true }))

  const serve = <T>(use: (t: TestApp) => Promise<T>) => serveOn(dataDir, use)

  test('create registers a confidential client and prints it as JSON with its secret, once', async () => {
    const res = await tessera(dataDir, [
      'clients',
      'create',
      '--name',
      'Billing',
      '--redirect-uri',
      'https://billing.example.com/cb',
      '--redirect-uri',
      'http://localhost:8080/cb',
      '--post-logout-redirect-uri',
      'https://billing.example.com/',
      '--scope',
      'openid profile offline_access',
    ])
    assert.equal(res.code, 0, res.stderr)
    const client = JSON.parse(res.stdout)
    assert.match(client.client_id, /^[A-Za-z0-9_-]{22}$/)
    assert.match(client.client_secret, /^[A-Za-z0-9_-]{43}$/)
    assert.deepEqual(client.redirect_uris, ['https://billing.example.com/cb', 'http://localhost:8080/cb'])
    assert.deepEqual(client.post_logout_redirect_uris, ['https://billing.example.com/'])
    assert.deepEqual(client.grant_types, ['authorization_code', 'refresh_token'])
    assert.equal(client.token_endpoint_auth_method, 'client_secret_basic')
    assert.equal(client.scope, 'openid profile offline_access')
    assert.match(res.stderr, /shown only once/)

    await serve(async (t) => {
      const { db } = t.database
      const found = await findClientMetadata(db, createSecretBox(TEST_MASTER_KEY), client.client_id)
      assert.equal(found?.client_secret, client.client_secret)
      const row = await db
        .selectFrom('oauth_clients')
        .selectAll()
        .where('client_id', '=', client.client_id)
        .executeTakeFirstOrThrow()
      assert.ok(!JSON.stringify(row).includes(client.client_secret), 'sealed at rest')
      const audit = await db
        .selectFrom('audit_events')
        .selectAll()
        .where('type', '=', 'client.created')
        .execute()
      const event = audit.map((a) => JSON.parse(a.data)).find((d) => d.clientId === client.client_id)
      assert.equal(event?.by, 'cli')
      assert.ok(!audit.some((a) => a.data.includes(client.client_secret)))

      const admin = await registerAdmin(t)
      const got = await t.app.inject({
        method: 'GET',
        url: `/v1/admin/clients/${client.client_id}`,
        headers: bearer(admin.accessToken),
      })
      assert.equal(got.statusCode, 200, got.body)
      assert.equal(got.json().client_name, 'Billing')
    })
  })

  test('create registers a public native client without a secret; list prints every client, no secret', async () => {
    const res = await tessera(dataDir, [
      'clients',
      'create',
      '--name',
      'Terminal',
      '--grant',
      DEVICE_CODE,
      '--grant',
      'refresh_token',
      '--auth-method',
      'none',
      '--application-type',
      'native',
    ])
    assert.equal(res.code, 0, res.stderr)
    const cli = JSON.parse(res.stdout)
    assert.equal(cli.client_secret, undefined)
    assert.deepEqual(cli.grant_types, [DEVICE_CODE, 'refresh_token'])
    assert.deepEqual(cli.response_types, [])
    assert.equal(cli.application_type, 'native')
    assert.doesNotMatch(res.stderr, /shown only once/)

    const list = await tessera(dataDir, ['clients', 'list'])
    assert.equal(list.code, 0, list.stderr)
    const clients = JSON.parse(list.stdout) as { client_id: string; client_name: string }[]
    assert.equal(clients[0]?.client_id, cli.client_id, 'newest first')
    assert.ok(clients.some((c) => c.client_name === 'Billing'))
    assert.doesNotMatch(list.stdout, /"client_secret"/)
  })

  test('bad flags exit 2 with the usage, broken rules exit 1 naming the field; nothing is stored', async () => {
    const before = JSON.parse((await tessera(dataDir, ['clients', 'list'])).stdout).length
    for (const args of [
      ['clients'],
      ['clients', 'frobnicate'],
      ['clients', 'create'],
      ['clients', 'create', '--name', ''],
      ['clients', 'create', '--name', 'X', '--grant', 'password'],
      ['clients', 'create', '--name', 'X', '--application-type', 'desktop'],
      ['clients', 'create', '--name', 'X', '--scope', 'openid  profile'],
    ]) {
      const res = await tessera(dataDir, args)
      assert.equal(res.code, 2, `${args.join(' ')}: ${res.stderr}`)
      assert.match(res.stderr, /usage: tessera/)
    }
    const grant = await tessera(dataDir, ['clients', 'create', '--name', 'X', '--grant', 'password'])
    assert.match(grant.stderr, /--grant: must be one of authorization_code, refresh_token/)

    for (const [args, field] of [
      [['--redirect-uri', 'http://app.example.com/cb'], 'redirect_uris/0'],
      [[], 'redirect_uris'],
      [['--grant', 'client_credentials', '--auth-method', 'none'], 'grant_types'],
      [['--redirect-uri', 'com.example.app:/cb'], 'redirect_uris/0'],
    ] as const) {
      const res = await tessera(dataDir, ['clients', 'create', '--name', 'X', ...args])
      assert.equal(res.code, 1, `${args.join(' ')}: ${res.stderr}`)
      assert.match(res.stderr, new RegExp(`invalid_client_metadata: ${field}: `))
    }
    // Tessera's rules pass, the provider's do not: refused as the admin API refuses it.
    const unsupported = await tessera(dataDir, [
      'clients',
      'create',
      '--name',
      'X',
      '--redirect-uri',
      'https://x.example.com/cb',
      '--scope',
      'openid invoices:read',
    ])
    assert.equal(unsupported.code, 1, unsupported.stderr)
    assert.match(unsupported.stderr, /invalid_client_metadata: scope must only contain/)
    assert.equal(JSON.parse((await tessera(dataDir, ['clients', 'list'])).stdout).length, before)
    const help = await tessera(dataDir, ['--help'])
    assert.match(help.stdout, /clients create --name <name>/)
    assert.match(help.stdout, /clients list/)
  })
})
