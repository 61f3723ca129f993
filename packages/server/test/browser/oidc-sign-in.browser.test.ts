/**
 * An OIDC sign-in in a real browser: Debian's Chromium follows an authorization request from
 * openid-client through the hosted pages (sign in, the TOTP step, consent) with the keyboard
 * and the mouse, under the pages' strict CSP, and lands on the client's redirect URI with a code
 * that openid-client exchanges for tokens; and a passkey alone, through sign-in.js and a
 * virtual authenticator.
 */
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { after, before, describe, test } from 'node:test'
import * as oidcClient from 'openid-client'
import { type Browser, chromium } from 'playwright-core'
import { enrolTotp, register, STRONG_PASSWORD, totpCode } from '../factories.ts'
import { type OidcTestServer, startOidcServer } from '../oidc.ts'
import { freePort } from '../ports.ts'
import { CHROMIUM, CHROMIUM_ARGS, skipWithoutChromium as skip, watchProblems } from './chromium.ts'

describe('OIDC sign-in through the hosted pages in a real browser', { skip }, () => {
  let t: OidcTestServer
  let browser: Browser
  let callback: Server
  let redirectUri: string

  before(async () => {
    t = await startOidcServer({ config: { productName: 'Acme ID' } })
    const port = await freePort()
    redirectUri = `http://127.0.0.1:${port}/callback`
    callback = createServer((_req, res) => res.end('signed in'))
    await new Promise<void>((resolve) => callback.listen(port, '127.0.0.1', resolve))
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
  })
  after(async () => {
    await browser?.close()
    callback?.close()
    await t?.close()
  })

  test('password, TOTP step and consent, then the code exchange', async () => {
    const user = await register(t.app, { password: STRONG_PASSWORD })
    const { secret } = await enrolTotp(t, user.accessToken)
    const client = await t.createClient({ client_name: 'Acme Portal', redirect_uris: [redirectUri] })
    const rp = await oidcClient.discovery(
      new URL(t.issuer),
      client.client_id,
      { client_secret: client.client_secret, id_token_signed_response_alg: 'EdDSA' },
      undefined,
      { execute: [oidcClient.allowInsecureRequests] },
    )
    const verifier = oidcClient.randomPKCECodeVerifier()
    const state = oidcClient.randomState()
    const url = oidcClient.buildAuthorizationUrl(rp, {
      redirect_uri: redirectUri,
      scope: 'openid email profile',
      code_challenge: await oidcClient.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    })

    const context = await browser.newContext({ viewport: { width: 360, height: 740 } })
    try {
      const page = await context.newPage()
      const problems = watchProblems(page)
      await page.goto(url.href)
      assert.match(await page.locator('h1').innerText(), /sign in/i)
      assert.match(await page.content(), /to continue to Acme Portal/)

      // Keyboard only: the labels lead to the fields, Enter submits.
      await page.getByLabel('Email address').fill(user.email)
      await page.getByLabel('Password').fill(STRONG_PASSWORD)
      await page.keyboard.press('Enter')

      await page.waitForSelector('input[name="code"]')
      assert.match(await page.locator('h1').innerText(), /confirm/i)
      t.clock.advance(30_000) // the enrolment spent this time step's code
      await page.locator('input[name="code"]').fill(totpCode(secret, t.clock.now()))
      await page.getByRole('button', { name: 'Continue' }).click()

      await page.waitForSelector('form[action$="/consent"]')
      assert.match(await page.locator('h1').innerText(), /Acme Portal/)
      const scopes = await page.locator('ul.scopes li').allInnerTexts()
      assert.ok(scopes.includes('Your email address'), scopes.join(', '))
      await page.getByRole('button', { name: 'Allow' }).click()

      await page.waitForURL((u) => u.href.startsWith(redirectUri))
      const tokens = await oidcClient.authorizationCodeGrant(rp, new URL(page.url()), {
        pkceCodeVerifier: verifier,
        expectedState: state,
      })
      assert.equal(tokens.claims()!.sub, user.user.id)
      assert.deepEqual(tokens.claims()!.amr, ['pwd', 'otp', 'mfa'])
      assert.deepEqual(problems, [])
    } finally {
      await context.close()
    }
  })

  test('a passkey alone on the sign-in page (sign-in.js with a virtual authenticator)', async () => {
    const user = await register(t.app, { password: STRONG_PASSWORD })
    const client = await t.createClient({ client_name: 'Acme Portal', redirect_uris: [redirectUri] })
    const context = await browser.newContext()
    try {
      const page = await context.newPage()
      const problems = watchProblems(page)
      const cdp = await context.newCDPSession(page)
      await cdp.send('WebAuthn.enable')
      await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: {
          protocol: 'ctap2',
          transport: 'internal',
          hasResidentKey: true,
          hasUserVerification: true,
          isUserVerified: true,
        },
      })
      // The passkey is created on the account page, into the virtual authenticator.
      await page.goto(`${t.issuer}/passkeys`)
      await page.fill('#email', user.email)
      await page.fill('#password', STRONG_PASSWORD)
      await page.click('#password-sign-in')
      await page.locator('#signed-in').waitFor()
      await page.fill('#passkey-label', 'Laptop')
      await page.click('#add-passkey')
      await page.locator('#passkey-list li').first().waitFor()

      const query = new URLSearchParams({
        client_id: client.client_id,
        response_type: 'code',
        redirect_uri: redirectUri,
        scope: 'openid',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
        state: 'passkey',
      })
      await page.goto(`${t.issuer}/oidc/auth?${query}`)
      await page.getByRole('button', { name: 'Sign in with a passkey' }).click()
      await page.waitForSelector('form[action$="/consent"]')
      await page.getByRole('button', { name: 'Allow' }).click()
      await page.waitForURL((u) => u.href.startsWith(redirectUri))
      const back = new URL(page.url())
      assert.ok(back.searchParams.get('code'))
      assert.equal(back.searchParams.get('state'), 'passkey')
      assert.deepEqual(problems, [])
    } finally {
      await context.close()
    }
  })
})
