import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { decodeJwt } from 'jose'
import { serveOn, tessera } from '../../test/cli.ts'
import { bearer, login, register, STRONG_PASSWORD, uniqueEmail } from '../../test/factories.ts'
import type { TestApp } from '../../test/harness.ts'

describe('tessera admin create', () => {
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

  test('usage errors exit 2 with the usage', async () => {
    for (const args of [
      ['admin'],
      ['admin', 'create'],
      ['admin', 'create', '--email', 'not-an-address'],
      ['admin', 'frobnicate', '--email', 'x@example.com'],
    ]) {
      const res = await tessera(dataDir, args)
      assert.equal(res.code, 2, args.join(' '))
      assert.match(res.stderr, /usage: tessera/)
    }
    const help = await tessera(dataDir, ['--help'])
    assert.match(help.stdout, /admin create --email/)
  })
})
