/**
 * Passkeys in a real browser: Debian's Chromium (driven by playwright-core) against a Tessera
 * listening on localhost, with a CDP virtual authenticator (CTAP2, resident keys, user
 * verification) standing in for the platform authenticator.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { type Browser, chromium } from 'playwright-core'
import { bearer, register } from '../factories.ts'
import { buildTestApp, type TestApp } from '../harness.ts'
import { freePort } from '../ports.ts'
import { CHROMIUM, CHROMIUM_ARGS, skipWithoutChromium as skip } from './chromium.ts'

describe('passkeys in a real browser', { skip }, () => {
  let t: TestApp
  let browser: Browser
  let origin: string

  before(async () => {
    const port = await freePort()
    // `localhost` is a secure context, so WebAuthn works over plain http; RP ID: localhost.
    origin = `http://localhost:${port}`
    t = await buildTestApp({ config: { publicUrl: origin } })
    await t.app.listen({ port, host: '127.0.0.1' })
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
  })
  after(async () => {
    await browser?.close()
    await t?.close()
  })

  test('the page and its scripts are served under a strict CSP', async () => {
    const page = await fetch(`${origin}/passkeys`)
    assert.equal(page.status, 200)
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/)
    const csp = page.headers.get('content-security-policy') ?? ''
    assert.match(csp, /default-src 'self'/)
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/)
    assert.doesNotMatch(await page.text(), /<script>|<style|on(click|submit|load)=/i, 'nothing inline')

    for (const path of ['/assets/passkeys.js', '/assets/simplewebauthn-browser/index.js']) {
      const script = await fetch(`${origin}${path}`)
      assert.equal(script.status, 200, path)
      assert.match(script.headers.get('content-type') ?? '', /^text\/javascript/)
    }
    for (const path of [
      '/assets/simplewebauthn-browser/../../server/package.json',
      '/assets/simplewebauthn-browser/%2e%2e/package.json',
      '/assets/simplewebauthn-browser/index.d.ts',
    ]) {
      assert.equal((await fetch(`${origin}${path}`)).status, 404, path)
    }
  })

  test('sign in with a password, add a passkey, sign out, sign in with the passkey alone', async () => {
    const user = await register(t.app)
    const context = await browser.newContext()
    try {
      const page = await context.newPage()
      const problems: string[] = []
      page.on('pageerror', (err) => problems.push(err.message))
      // The browser's own favicon request is no problem of the page's.
      const ours = (url: string) => !url.endsWith('/favicon.ico')
      page.on('console', (message) => {
        if (message.type() === 'error' && ours(message.location().url)) problems.push(message.text())
      })
      page.on('response', (response) => {
        if (response.status() >= 400 && ours(response.url()))
          problems.push(`${response.status()} ${response.url()}`)
      })

      const cdp = await context.newCDPSession(page)
      await cdp.send('WebAuthn.enable')
      const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: {
          protocol: 'ctap2',
          transport: 'internal',
          hasResidentKey: true,
          hasUserVerification: true,
          isUserVerified: true,
        },
      })

      await page.goto(`${origin}/passkeys`)
      await page.fill('#email', user.email)
      await page.fill('#password', user.password)
      await page.click('#password-sign-in')
      await page.locator('#signed-in').waitFor()
      assert.equal(await page.textContent('#signed-in-email'), user.email)

      await page.fill('#passkey-label', 'Virtual authenticator')
      await page.click('#add-passkey')
      await page.locator('#passkey-list li').first().waitFor()
      assert.equal(await page.textContent('#passkey-list li'), 'Virtual authenticator')
      assert.equal((await page.textContent('#backup-codes-list'))?.split('\n').length, 10)

      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId })
      assert.equal(credentials.length, 1)
      assert.equal(credentials[0]!.isResidentCredential, true, 'a discoverable credential')
      assert.equal(credentials[0]!.rpId, 'localhost')

      await page.click('#sign-out')
      await page.locator('#signed-out').waitFor()

      await page.click('#passkey-sign-in')
      await page.locator('#signed-in').waitFor()
      assert.equal(await page.textContent('#signed-in-email'), user.email)
      assert.deepEqual(problems, [])

      const listed = await t.app.inject({
        method: 'GET',
        url: '/v1/me/passkeys',
        headers: bearer(user.accessToken),
      })
      assert.equal(listed.statusCode, 200)
      const [passkey] = listed.json().passkeys
      assert.equal(passkey.label, 'Virtual authenticator')
      assert.notEqual(passkey.lastUsedAt, null, 'the passwordless sign-in used it')
      const stored = await t.database.db
        .selectFrom('passkeys')
        .select('credential_id')
        .where('id', '=', passkey.id)
        .executeTakeFirstOrThrow()
      // CDP reports the id in base64, WebAuthn JSON in base64url.
      assert.equal(
        stored.credential_id,
        Buffer.from(credentials[0]!.credentialId, 'base64').toString('base64url'),
      )

      const logins = await t.database.db
        .selectFrom('audit_events')
        .select('data')
        .where('account_id', '=', user.user.id)
        .where('type', '=', 'login.succeeded')
        .execute()
      assert.ok(
        logins.some((row) => JSON.stringify(JSON.parse(row.data).amr) === JSON.stringify(['hwk', 'user'])),
        'a passwordless login with user verification',
      )
    } finally {
      await context.close()
    }
  })
})
