/**
 * The built server (`npm run build`, which `npm start` runs) serves what the sources serve: its
 * modules find the files they read next to their sources, the packages left outside the bundle
 * load, so do the chunks it loads on first use (the OIDC provider, the mailer), and the libraries
 * that read class names at run time still find them (oidc-provider's token kinds).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { buildServer } from '../scripts/build.ts'
import { tessera } from './cli.ts'
import { STRONG_PASSWORD, uniqueEmail } from './factories.ts'
import { createPgSchema, TEST_DATABASE_URL, TEST_REDIS_URL } from './harness.ts'
import { linkIn, mailTo } from './mail.ts'
import { type ServerProcess, startTessera } from './server-process.ts'

// Inside the package, so that the bundle finds node_modules as dist/ does.
const SERVER_DIR = fileURLToPath(new URL('..', import.meta.url))

let outdir: string
let server: ServerProcess
let serverEnv: Record<string, string>
let dropSchema = async () => {}

/** PostgreSQL and Redis when the suite runs on them: pg and ioredis load from outside the bundle. */
async function serviceEnv(): Promise<{ env: Record<string, string>; drop(): Promise<void> }> {
  // Redis keeps the per-IP counters of earlier runs on this machine.
  const env: Record<string, string> = { TESSERA_AUTH_RATE_LIMIT: '1000' }
  if (TEST_REDIS_URL) env.REDIS_URL = TEST_REDIS_URL
  if (!TEST_DATABASE_URL) return { env, drop: async () => {} }
  const { schema, drop } = await createPgSchema(TEST_DATABASE_URL)
  const url = new URL(TEST_DATABASE_URL)
  url.searchParams.set('options', `-c search_path=${schema}`)
  return { env: { ...env, DATABASE_URL: url.href }, drop }
}

before(async () => {
  outdir = mkdtempSync(join(SERVER_DIR, 'dist-test-'))
  await buildServer(outdir)
  const services = await serviceEnv()
  serverEnv = services.env
  dropSchema = services.drop
  server = await startTessera(join(outdir, 'tessera.js'), serverEnv)
})

after(async () => {
  server?.dispose()
  rmSync(outdir, { recursive: true, force: true })
  await dropSchema()
})

/** The first value `read` resolves with within five seconds; the mail queue sends in the background. */
async function eventually<T>(read: () => Promise<T | undefined>): Promise<T> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const value = await read()
    if (value !== undefined) return value
    await sleep(50)
  }
  throw new Error('nothing arrived within five seconds')
}

function post(path: string, body: unknown): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
}

test('built: register (against the common-password list, with a verification mail), sign in and read the profile', async () => {
  const common = await post('/v1/auth/register', { email: uniqueEmail(), password: 'password1' })
  assert.equal(common.status, 400)
  assert.equal(((await common.json()) as { code: string }).code, 'weak_password')

  const email = uniqueEmail()
  const registered = await post('/v1/auth/register', { email, password: STRONG_PASSWORD })
  assert.equal(registered.status, 201)
  // The verification mail: nodemailer is a chunk of its own, loaded with the first message.
  const mail = await eventually(async () => (await mailTo(server.dataDir, email))[0])
  assert.match(linkIn(mail, '/verify-email').href, /^http:\/\/127\.0\.0\.1:\d+\/verify-email\?token=/)
  const login = await post('/v1/auth/login', { email, password: STRONG_PASSWORD })
  assert.equal(login.status, 200)
  const { accessToken } = (await login.json()) as { accessToken: string }
  const me = await fetch(`${server.url}/v1/me`, { headers: { authorization: `Bearer ${accessToken}` } })
  assert.equal(me.status, 200)
  assert.equal(((await me.json()) as { email: string }).email, email)
})

test('built: hosted pages render from their templates, with their styles and scripts', async () => {
  const page = await fetch(`${server.url}/forgot-password`)
  assert.equal(page.status, 200)
  assert.match(await page.text(), /<form[^>]+method="post"/i)
  for (const asset of ['/assets/page.css', '/assets/sign-in.js', '/assets/passkeys.js']) {
    const res = await fetch(`${server.url}${asset}`)
    assert.equal(res.status, 200, asset)
    assert.ok((await res.arrayBuffer()).byteLength > 100, asset)
  }
})

test('built: the OpenID Connect provider loads on first use; the API is documented', async () => {
  const discovery = await fetch(`${server.url}/.well-known/openid-configuration`)
  assert.equal(discovery.status, 200)
  assert.equal(((await discovery.json()) as { issuer: string }).issuer, server.url)

  const openapi = (await (await fetch(`${server.url}/openapi.json`)).json()) as {
    info: { title: string }
    paths: Record<string, unknown>
  }
  assert.equal(openapi.info.title, 'Tessera API')
  assert.ok(openapi.paths['/v1/auth/login'])
  const docs = await fetch(`${server.url}/docs`)
  assert.equal(docs.status, 200)
  assert.match(await docs.text(), /swagger/i)
})

test('built: a service gets a token by client credentials, and introspection finds it active', async () => {
  const created = await tessera(
    server.dataDir,
    ['clients', 'create', '--name', 'Service', '--grant', 'client_credentials'],
    {
      env: serverEnv,
    },
  )
  assert.equal(created.code, 0, created.stderr)
  const { client_id, client_secret } = JSON.parse(created.stdout) as {
    client_id: string
    client_secret: string
  }
  const basic = `Basic ${Buffer.from(`${client_id}:${client_secret}`).toString('base64')}`
  const form = (path: string, body: Record<string, string>) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(body),
    })

  const token = await form('/oidc/token', { grant_type: 'client_credentials' })
  assert.equal(token.status, 200)
  const { access_token } = (await token.json()) as { access_token: string }
  const introspection = await form('/oidc/token/introspection', { token: access_token })
  assert.equal(introspection.status, 200)
  assert.deepEqual(
    { ...((await introspection.json()) as object), exp: 0, iat: 0, jti: '' },
    { active: true, client_id, token_type: 'Bearer', iss: server.url, exp: 0, iat: 0, jti: '' },
  )
})

test('built: SIGTERM stops the server cleanly', async () => {
  server.child.kill('SIGTERM')
  assert.equal(await server.exited, 0)
})
