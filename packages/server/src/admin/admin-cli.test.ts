import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { decodeJwt } from 'jose'
import { serveOn, tessera } from '../../test/cli.ts'
import { bearer, login, register, STRONG_PASSWORD, uniqueEmail } from '../../test/factories.ts'
import type { TestApp } from '../../test/harness.ts'

describe('tessera admin create and remove', () => {
  let dataDir: string
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'tessera-admin-cli-'))
  })
  after(() => rmSync(dataDir, { recursive: true, force: true }))

  const serve = <T>(use: (t: TestApp) => Promise<T>) => serveOn(dataDir, use)

  test('creates an administrator with a generated password, shown once; a rerun changes nothing', async () => {
    const created = await tessera(dataDir, [
      'admin',
      'create',
      '--email',
      'Root@Example.com',
      '--name',
      'Root',
    ])
    assert.equal(created.code, 0, created.stderr)
    assert.match(created.stdout, /created administrator Root@Example\.com \(/)
    const password = /^password: (\S+)$/m.exec(created.stdout)?.[1]
    assert.ok(password && password.length >= 24, created.stdout)

    const rerun = await tessera(dataDir, ['admin', 'create', '--email', 'root@example.com'])
    assert.equal(rerun.code, 0, rerun.stderr)
    assert.match(rerun.stdout, /already an administrator; nothing changed/)
    assert.doesNotMatch(rerun.stdout, /password: /)

    await serve(async (t) => {
      const res = await login(t.app, 'root@example.com', password)
      assert.equal(res.statusCode, 200, res.body)
      assert.deepEqual(decodeJwt(res.json().accessToken).roles, ['admin'])
      assert.equal(res.json().user.name, 'Root')
      const list = await t.app.inject({
        method: 'GET',
        url: '/v1/admin/users',
        headers: bearer(res.json().accessToken),
      })
      assert.equal(list.statusCode, 200, list.body)
    })
  })

  test("promotes an existing account, and takes a new account's password from standard input", async () => {
    const existing = uniqueEmail('existing')
    await serve(async (t) => {
      await register(t.app, { email: existing })
    })
    const promoted = await tessera(dataDir, ['admin', 'create', '--email', existing, '--password-stdin'], {
      stdin: 'ignored password\n',
    })
    assert.equal(promoted.code, 0, promoted.stderr)
    assert.match(promoted.stdout, /promoted existing account/)
    assert.match(promoted.stdout, /password was not changed/)

    const weak = await tessera(
      dataDir,
      ['admin', 'create', '--email', 'weak@example.com', '--password-stdin'],
      { stdin: 'password\n' },
    )
    assert.equal(weak.code, 1)
    assert.match(weak.stderr, /weak_password/)
    const empty = await tessera(
      dataDir,
      ['admin', 'create', '--email', 'empty@example.com', '--password-stdin'],
      { stdin: '' },
    )
    assert.equal(empty.code, 2)
    const piped = await tessera(
      dataDir,
      ['admin', 'create', '--email', 'piped@example.com', '--password-stdin'],
      { stdin: `${STRONG_PASSWORD}\n` },
    )
    assert.equal(piped.code, 0, piped.stderr)
    assert.doesNotMatch(piped.stdout, /password: /, 'a piped password is never echoed')

    await serve(async (t) => {
      const old = await login(t.app, existing, STRONG_PASSWORD)
      assert.equal(old.statusCode, 200, 'the existing password still works')
      assert.deepEqual(decodeJwt(old.json().accessToken).roles, ['admin'])
      const res = await login(t.app, 'piped@example.com', STRONG_PASSWORD)
      assert.equal(res.statusCode, 200, res.body)
      assert.equal(
        (await login(t.app, 'weak@example.com', 'password')).statusCode,
        401,
        'nothing was created',
      )
    })
  })

  test('remove takes the role away and ends the sessions, so the admin tokens stop at once', async () => {
    const email = uniqueEmail('former-admin')
    const stdin = `${STRONG_PASSWORD}\n`
    assert.equal(
      (await tessera(dataDir, ['admin', 'create', '--email', email, '--password-stdin'], { stdin })).code,
      0,
    )
    const before = await serve(async (t) => (await login(t.app, email, STRONG_PASSWORD)).json())
    assert.deepEqual(decodeJwt(before.accessToken).roles, ['admin'])

    const removed = await tessera(dataDir, ['admin', 'remove', '--email', email])
    assert.equal(removed.code, 0, removed.stderr)
    assert.match(removed.stdout, /is no longer an administrator; its sessions have ended/)
    const again = await tessera(dataDir, ['admin', 'remove', '--email', email])
    assert.match(again.stdout, /is not an administrator; nothing changed/)
    const nobody = await tessera(dataDir, ['admin', 'remove', '--email', uniqueEmail('nobody')])
    assert.equal(nobody.code, 1)
    assert.match(nobody.stderr, /user_not_found/)

    await serve(async (t) => {
      const users = (token: string) =>
        t.app.inject({ method: 'GET', url: '/v1/admin/users', headers: bearer(token) })
      assert.equal((await users(before.accessToken)).statusCode, 401, 'the admin token died with its session')
      const refreshed = await t.app.inject({
        method: 'POST',
        url: '/v1/auth/refresh',
        payload: { refreshToken: before.refreshToken },
      })
      assert.equal(refreshed.statusCode, 401)
      const after = await login(t.app, email, STRONG_PASSWORD)
      assert.equal(after.statusCode, 200, 'the account itself stays')
      assert.equal(decodeJwt(after.json().accessToken).roles, undefined)
      assert.equal((await users(after.json().accessToken)).statusCode, 403)
      const events = await t.database.db
        .selectFrom('audit_events')
        .select('type')
        .where('type', '=', 'admin.role_revoked')
        .execute()
      assert.equal(events.length, 1)
    })
  })

  test('usage errors exit 2 with the usage', async () => {
    for (const args of [
      ['admin'],
      ['admin', 'create'],
      ['admin', 'remove'],
      ['admin', 'create', '--email', 'not-an-address'],
      ['admin', 'frobnicate', '--email', 'x@example.com'],
    ]) {
      const res = await tessera(dataDir, args)
      assert.equal(res.code, 2, args.join(' '))
      assert.match(res.stderr, /usage: tessera/)
    }
    const help = await tessera(dataDir, ['--help'])
    assert.match(help.stdout, /admin create --email/)
    assert.match(help.stdout, /admin remove --email/)
  })
})
