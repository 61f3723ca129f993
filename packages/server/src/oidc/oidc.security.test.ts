/**
 * Attacks on the OIDC provider and its hosted pages, one named test each, with a real relying
 * party (openid-client) and raw OAuth (oauth4webapi) where the error response itself is the
 * point: redirect URI tricks, PKCE downgrade, code replay, stolen client credentials and
 * refresh tokens, CSRF on the sign-in and consent forms, a disabled user, brute force.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import * as oauth from 'oauth4webapi'
import * as oidcClient from 'openid-client'
import { bearer, login, register, STRONG_PASSWORD } from '../../test/factories.ts'
import {
  authorizationRequest,
  authorizeThroughPages,
  type Browser,
  browser,
  createRelyingParty,
  hiddenField,
  introspect,
  type OidcTestServer,
  pageHeading,
  type RelyingParty,
  redeemCode,
  signInThroughPages,
  startOidcServer,
} from '../../test/oidc.ts'
import { en } from '../pages/strings.ts'

const REDIRECT_URI = 'http://127.0.0.1:8123/callback'
const MAX_FAILURES = 3
const WRONG = 'not the right password'

let t: OidcTestServer
let rp: RelyingParty
let other: RelyingParty

before(async () => {
  t = await startOidcServer({
    config: { loginMaxFailures: MAX_FAILURES, lockoutSeconds: 60, authRateLimitPerMinute: 10_000 },
  })
  rp = await createRelyingParty(t, { client_name: 'Portal', redirect_uris: [REDIRECT_URI] })
  other = await createRelyingParty(t, { client_name: 'Other', redirect_uris: ['http://127.0.0.1:8124/cb'] })
})
after(() => t.close())

const newUser = () => register(t.app, { password: STRONG_PASSWORD })
const userinfoStatus = async (accessToken: string) =>
  (await fetch(`${t.issuer}/oidc/me`, { headers: { authorization: `Bearer ${accessToken}` } })).status

/** Follows an authorization request to the first page Tessera shows (or a redirect away). */
async function firstPage(b: Browser, url: string): Promise<{ res: Response; html: string }> {
  let res = await b.get(url)
  while (res.status === 303 || res.status === 302) {
    const location = new URL(res.headers.get('location')!, t.issuer)
    if (location.origin !== t.issuer) break
    res = await b.get(location.href)
  }
  return { res, html: res.status === 200 ? await res.text() : '' }
}

/** The hosted page a new authorization lands on, with its form's action and CSRF token. */
async function interactionPage(b: Browser, params: Record<string, string> = {}) {
  const request = await authorizationRequest(rp, { scope: 'openid email', ...params })
  const { res, html } = await firstPage(b, request.url)
  assert.equal(res.status, 200)
  const action = (name: string) => new RegExp(`action="([^"]*/${name})"`).exec(html)?.[1]
  return { request, html, url: res.url, action, csrf: hiddenField(html, 'csrf') }
}

/** An authorization answered with an error redirect to the client: its OAuth error, and no code. */
async function errorRedirect(params: Record<string, string | undefined>): Promise<string | null> {
  const request = await authorizationRequest(rp, { scope: 'openid' })
  const url = new URL(request.url)
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined) url.searchParams.delete(name)
    else url.searchParams.set(name, value)
  }
  const res = await browser(t.issuer).get(url.href)
  assert.equal(res.status, 303)
  const location = new URL(res.headers.get('location')!)
  assert.equal(`${location.origin}${location.pathname}`, REDIRECT_URI)
  assert.equal(location.searchParams.get('code'), null, 'no code')
  return location.searchParams.get('error')
}

/** An authorization request that must end on Tessera's error page, never at the redirect URI. */
async function assertNoRedirect(redirectUri: string | undefined, error = 'invalid_redirect_uri') {
  const request = await authorizationRequest(rp, { redirect_uri: redirectUri ?? '' })
  const url = new URL(request.url)
  if (redirectUri === undefined) url.searchParams.delete('redirect_uri')
  const res = await browser(t.issuer).get(url.href)
  assert.equal(res.status, 400)
  assert.equal(res.headers.get('location'), null, 'no redirect')
  const html = await res.text()
  assert.equal(pageHeading(html), en.error.title)
  assert.ok(html.includes(`<code>${error}</code>`), html)
}

describe('redirect URIs are matched exactly', () => {
  test('a redirect URI that is not registered gets an error page, not a redirect', async () => {
    await assertNoRedirect('https://evil.example/callback')
  })

  test('a prefix or an extension of the registered redirect URI is not registered', async () => {
    for (const uri of [
      REDIRECT_URI.slice(0, -1),
      `${REDIRECT_URI}/evil`,
      `${REDIRECT_URI}?next=https://evil.example/`,
      `${REDIRECT_URI}#x`,
      'http://127.0.0.1:8124/callback',
      'http://127.0.0.1:8123/callback/../evil',
    ])
      await assertNoRedirect(uri)
  })

  test('a request without redirect_uri is refused even though the client has only one', async () => {
    await assertNoRedirect(undefined, 'invalid_request')
  })
})

describe('PKCE is required, and only S256', () => {
  test('an authorization request without a code_challenge is refused', async () => {
    assert.equal(
      await errorRedirect({ code_challenge: undefined, code_challenge_method: undefined }),
      'invalid_request',
    )
  })

  test('code_challenge_method=plain is refused', async () => {
    const challenge = oidcClient.randomPKCECodeVerifier()
    assert.equal(
      await errorRedirect({ code_challenge: challenge, code_challenge_method: 'plain' }),
      'invalid_request',
    )
  })

  test('a code exchanged with the wrong code_verifier is refused', async () => {
    const user = await newUser()
    const request = await authorizationRequest(rp, { scope: 'openid' })
    const { redirect } = await authorizeThroughPages(browser(t.issuer), request.url, user)
    const wrong = { ...request, verifier: oidcClient.randomPKCECodeVerifier() }
    const err = await redeemCode(rp, wrong, redirect).catch((e: unknown) => e as oidcClient.ResponseBodyError)
    assert.equal((err as oidcClient.ResponseBodyError).error, 'invalid_grant')
  })
})

describe('authorization codes', () => {
  test('code replay: the second exchange fails and the tokens of the first are revoked', async () => {
    const user = await newUser()
    const request = await authorizationRequest(rp, { scope: 'openid offline_access', prompt: 'consent' })
    const { redirect } = await authorizeThroughPages(browser(t.issuer), request.url, user)
    const tokens = await redeemCode(rp, request, redirect)
    assert.equal((await introspect(rp, tokens.access_token)).active, true)

    const replay = await redeemCode(rp, request, redirect).catch(
      (e: unknown) => e as oidcClient.ResponseBodyError,
    )
    assert.equal((replay as oidcClient.ResponseBodyError).error, 'invalid_grant')
    assert.equal((await introspect(rp, tokens.access_token)).active, false)
    assert.equal((await introspect(rp, tokens.refresh_token!)).active, false)
    assert.equal(await userinfoStatus(tokens.access_token), 401)
  })

  test('a code issued to one client cannot be redeemed by another', async () => {
    const user = await newUser()
    const request = await authorizationRequest(rp, { scope: 'openid' })
    const { redirect } = await authorizeThroughPages(browser(t.issuer), request.url, user)
    const stolen = await oidcClient
      .authorizationCodeGrant(other.config, redirect, {
        pkceCodeVerifier: request.verifier,
        expectedState: request.state,
      })
      .catch((e: unknown) => e as oidcClient.ResponseBodyError)
    assert.equal((stolen as oidcClient.ResponseBodyError).error, 'invalid_grant')
  })

  test('wrong client secret: 401 invalid_client, and the code is not spent', async () => {
    const user = await newUser()
    const request = await authorizationRequest(rp, { scope: 'openid' })
    const { redirect } = await authorizeThroughPages(browser(t.issuer), request.url, user)
    const as = rp.config.serverMetadata()
    const client = { client_id: rp.clientId }
    const params = oauth.validateAuthResponse(as, client, redirect, request.state)
    const res = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      oauth.ClientSecretBasic('not-the-secret'),
      params,
      REDIRECT_URI,
      request.verifier,
      { [oauth.allowInsecureRequests]: true },
    )
    assert.equal(res.status, 401)
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_client')
    const tokens = await redeemCode(rp, request, redirect)
    assert.equal(tokens.claims()!.sub, user.user.id)
  })
})

describe('refresh tokens', () => {
  test("a refresh token presented by another client is refused, and stays its owner's", async () => {
    const user = await newUser()
    const { tokens } = await signInThroughPages(browser(t.issuer), rp, user, {
      scope: 'openid offline_access',
      prompt: 'consent',
    })
    const stolen = await oidcClient
      .refreshTokenGrant(other.config, tokens.refresh_token!)
      .catch((e: unknown) => e as oidcClient.ResponseBodyError)
    assert.equal((stolen as oidcClient.ResponseBodyError).error, 'invalid_grant')
    const refreshed = await oidcClient.refreshTokenGrant(rp.config, tokens.refresh_token!)
    assert.equal(refreshed.claims()!.sub, user.user.id)
  })
})

describe('CSRF on the hosted forms', () => {
  /** Posts a form field set to `url`, as a browser would, with `origin` as the Origin header. */
  const postFrom = (b: Browser, url: string, fields: Record<string, string>, origin = t.issuer) =>
    b.request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
      body: new URLSearchParams(fields).toString(),
    })

  test('sign-in form: a missing, foreign or cross-site CSRF token is refused with 403 and signs nobody in', async () => {
    const user = await newUser()
    const b = browser(t.issuer)
    const page = await interactionPage(b)
    const foreign = await interactionPage(browser(t.issuer)) // another interaction's token
    const loginAction = page.action('login')!
    const credentials = { email: user.email, password: user.password }
    for (const attempt of [
      postFrom(b, loginAction, credentials),
      postFrom(b, loginAction, { ...credentials, csrf: foreign.csrf }),
      postFrom(b, loginAction, { ...credentials, csrf: page.csrf }, 'https://evil.example'),
    ]) {
      const res = await attempt
      assert.equal(res.status, 403)
      assert.equal(res.headers.get('location'), null)
    }
    const again = await firstPage(b, page.url)
    assert.ok(again.html.includes('/login"'), 'still the sign-in page: nobody is signed in')
    const genuine = await b.post(loginAction, { ...credentials, csrf: page.csrf })
    assert.equal(genuine.status, 303, 'the same post with its own token from our origin works')
  })

  test('consent form: a missing, foreign or cross-site CSRF token is refused with 403 and grants nothing', async () => {
    const user = await newUser()
    const b = browser(t.issuer)
    const signInPage = await interactionPage(b)
    const signedIn = await b.post(signInPage.action('login')!, {
      csrf: signInPage.csrf,
      email: user.email,
      password: user.password,
    })
    const consentPage = await firstPage(b, new URL(signedIn.headers.get('location')!, t.issuer).href)
    const consent = /action="([^"]*\/consent)"/.exec(consentPage.html)?.[1]
    assert.ok(consent, 'the consent page')
    const csrf = hiddenField(consentPage.html, 'csrf')
    const foreign = await interactionPage(browser(t.issuer))
    for (const [fields, origin] of [
      [{ remember: 'yes' }, t.issuer],
      [{ remember: 'yes', csrf: foreign.csrf }, t.issuer],
      [{ remember: 'yes', csrf }, 'https://evil.example'],
    ] as const) {
      const res = await postFrom(b, consent, fields, origin)
      assert.equal(res.status, 403)
      assert.equal(res.headers.get('location'), null)
    }
    const again = await firstPage(b, consentPage.res.url)
    assert.ok(again.html.includes('/consent"'), 'still asking for consent')
    const fresh = await signInThroughPages(
      browser(t.issuer),
      rp,
      { ...user, remember: false },
      { scope: 'openid email' },
    )
    assert.deepEqual(fresh.pages, ['sign-in', 'consent'], 'no consent was remembered')

    const genuine = await b.post(consent, { remember: 'yes', csrf })
    assert.equal(genuine.status, 303, 'the same post with its own token from our origin works')
    const { redirect } = await authorizeThroughPages(
      b,
      new URL(genuine.headers.get('location')!, t.issuer).href,
      user,
    )
    assert.ok(redirect.searchParams.get('code'))
  })
})

describe('a disabled user', () => {
  test('loses refresh and userinfo at once, and cannot sign in again on the pages', async () => {
    const user = await newUser()
    const b = browser(t.issuer)
    const { tokens } = await signInThroughPages(b, rp, user, {
      scope: 'openid email offline_access',
      prompt: 'consent',
    })
    assert.equal(await userinfoStatus(tokens.access_token), 200)

    const disabled = await t.app.inject({
      method: 'POST',
      url: `/v1/admin/users/${user.user.id}/disable`,
      headers: bearer(t.adminToken),
    })
    assert.equal(disabled.statusCode, 200, disabled.body)

    const refresh = await oidcClient
      .refreshTokenGrant(rp.config, tokens.refresh_token!)
      .catch((e: unknown) => e as oidcClient.ResponseBodyError)
    assert.equal((refresh as oidcClient.ResponseBodyError).error, 'invalid_grant')
    assert.equal(await userinfoStatus(tokens.access_token), 401)
    assert.equal((await introspect(rp, tokens.access_token)).active, false, 'resource servers see it too')

    const page = await interactionPage(b) // the same browser, its provider session still in its cookies
    assert.ok(page.action('login'), 'the sign-in page, not single sign-on')
    const refused = await b.post(page.action('login')!, {
      csrf: page.csrf,
      email: user.email,
      password: user.password,
    })
    assert.equal(refused.status, 403)
    assert.ok((await refused.text()).includes(en.signIn.accountDisabled))
  })
})

describe('brute force on the sign-in page', () => {
  /** Posts a password on a new sign-in page: the status and the page. */
  async function signInOnPage(email: string, password: string) {
    const b = browser(t.issuer)
    const page = await interactionPage(b)
    const res = await b.post(page.action('login')!, { csrf: page.csrf, email, password })
    return { res, html: res.status === 303 ? '' : await res.text() }
  }

  test(`after ${MAX_FAILURES} wrong passwords even the right one is refused with the too-many-attempts message`, async () => {
    const user = await newUser()
    for (let i = 0; i < MAX_FAILURES; i += 1) {
      const { res, html } = await signInOnPage(user.email, `${WRONG} ${i}`)
      assert.equal(res.status, 401)
      assert.ok(html.includes(en.signIn.invalidCredentials))
    }
    const locked = await signInOnPage(user.email, user.password)
    assert.equal(locked.res.status, 429)
    assert.equal(locked.res.headers.get('retry-after'), '60')
    assert.ok(locked.html.includes(en.signIn.tooManyAttempts(60)))
    assert.equal(locked.res.headers.get('location'), null, 'not signed in')

    const api = await login(t.app, user.email, user.password)
    assert.equal(api.statusCode, 429, 'the API sees the same lock')
    assert.equal(api.json().code, 'account_locked')
  })

  test('wrong passwords on the API and on the page count towards one lock', async () => {
    const user = await newUser()
    for (let i = 0; i < MAX_FAILURES - 1; i += 1)
      assert.equal((await login(t.app, user.email, `${WRONG} ${i}`)).statusCode, 401)
    assert.equal((await signInOnPage(user.email, WRONG)).res.status, 401)
    const locked = await signInOnPage(user.email, user.password)
    assert.equal(locked.res.status, 429)
    assert.ok(locked.html.includes(en.signIn.tooManyAttempts(60)))
  })
})
