/**
 * RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): the sign-out confirmation page,
 * then a redirect back to the client only for a post_logout_redirect_uri registered exactly as
 * sent. Anything else (another site, a prefix or an extension of the registered URI) would make
 * the end-session endpoint an open redirect, so it gets no redirect at all. And a password
 * change, which must end the provider sessions and grants of the old password too.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import * as oidcClient from 'openid-client'
import { bearer, register, STRONG_PASSWORD } from '../../test/factories.ts'
import {
  type Browser,
  browser,
  createRelyingParty,
  hiddenField,
  type OidcTestServer,
  pageHeading,
  type RelyingParty,
  signInThroughPages,
  startOidcServer,
} from '../../test/oidc.ts'
import { en } from '../pages/strings.ts'

const AFTER_LOGOUT = 'http://127.0.0.1:8123/signed-out'

let t: OidcTestServer
let rp: RelyingParty

before(async () => {
  t = await startOidcServer()
  rp = await createRelyingParty(t, {
    client_name: 'Portal',
    redirect_uris: ['http://127.0.0.1:8123/cb'],
    post_logout_redirect_uris: [AFTER_LOGOUT],
  })
})
after(() => t.close())

/** A browser signed in to the portal, and its ID token. */
async function signedInBrowser() {
  const user = await register(t.app, { password: STRONG_PASSWORD })
  const b = browser(t.issuer)
  const { tokens } = await signInThroughPages(b, rp, user, { scope: 'openid' })
  return { b, user, idToken: tokens.id_token! }
}

/** Presses "Sign out" on the confirmation page. */
async function confirmSignOut(b: Browser, page: Response) {
  assert.equal(page.status, 200)
  const html = await page.text()
  assert.equal(pageHeading(html), en.signOut.title)
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1]
  assert.ok(action)
  return b.post(action, { xsrf: hiddenField(html, 'xsrf'), logout: 'yes' })
}

/** Whether the browser's provider session still signs it in without the sign-in page. */
async function stillSignedIn(b: Browser, user: { email: string; password: string }) {
  const { pages } = await signInThroughPages(b, rp, user, { scope: 'openid' })
  return !pages.includes('sign-in')
}

describe('RP-initiated logout', () => {
  test('the registered post_logout_redirect_uri gets the browser back, with state, after the confirmation', async () => {
    const { b, user, idToken } = await signedInBrowser()
    const url = oidcClient.buildEndSessionUrl(rp.config, {
      id_token_hint: idToken,
      post_logout_redirect_uri: AFTER_LOGOUT,
      state: 'after-logout-state',
    })
    const done = await confirmSignOut(b, await b.get(url.href))
    assert.equal(done.status, 303)
    const back = new URL(done.headers.get('location')!)
    assert.equal(`${back.origin}${back.pathname}`, AFTER_LOGOUT)
    assert.equal(back.searchParams.get('state'), 'after-logout-state')
    assert.equal(await stillSignedIn(b, user), false, 'the provider session ended')
  })

  test('without a redirect URI the user sees the signed-out page', async () => {
    const { b, user } = await signedInBrowser()
    const url = oidcClient.buildEndSessionUrl(rp.config, { client_id: rp.clientId })
    const done = await confirmSignOut(b, await b.get(url.href))
    const location = new URL(done.headers.get('location')!, t.issuer)
    assert.equal(location.origin, t.issuer, 'stays on Tessera')
    const page = await b.get(location.href)
    assert.equal(pageHeading(await page.text()), en.signOut.doneTitle)
    assert.equal(await stillSignedIn(b, user), false)
  })

  test('"Stay signed in" keeps the session', async () => {
    const { b, user, idToken } = await signedInBrowser()
    const url = oidcClient.buildEndSessionUrl(rp.config, {
      id_token_hint: idToken,
      post_logout_redirect_uri: AFTER_LOGOUT,
    })
    const html = await (await b.get(url.href)).text()
    const action = /<form method="post" action="([^"]+)"/.exec(html)![1]!
    await b.post(action, { xsrf: hiddenField(html, 'xsrf') })
    assert.equal(await stillSignedIn(b, user), true)
  })

  for (const [attack, target] of [
    ['another site', 'https://evil.example/signed-out'],
    ['a prefix of the registered URI', AFTER_LOGOUT.slice(0, -1)],
    ['an extension of the registered URI', `${AFTER_LOGOUT}/../../evil`],
    ['a longer path', `${AFTER_LOGOUT}/more`],
    ['an added query', `${AFTER_LOGOUT}?next=https://evil.example/`],
  ]) {
    test(`open redirect: ${attack} as post_logout_redirect_uri is refused, with no redirect`, async () => {
      const { b, user, idToken } = await signedInBrowser()
      const url = oidcClient.buildEndSessionUrl(rp.config, {
        id_token_hint: idToken,
        post_logout_redirect_uri: target!,
        state: 's',
      })
      const res = await b.get(url.href)
      assert.equal(res.status, 400)
      assert.equal(res.headers.get('location'), null)
      const html = await res.text()
      assert.equal(pageHeading(html), en.error.title)
      assert.ok(!html.includes('evil.example'), 'the page does not link to the target')
      assert.equal(await stillSignedIn(b, user), true, 'nothing happened to the session')
    })
  }
})

describe('a password change', () => {
  test('ends the SSO session and the OIDC refresh tokens of the old password', async () => {
    const user = await register(t.app, { password: STRONG_PASSWORD })
    const attacker = browser(t.issuer) // signed in with the stolen old password
    const { tokens } = await signInThroughPages(attacker, rp, user, {
      scope: 'openid offline_access',
      prompt: 'consent',
    })
    const newPassword = `${STRONG_PASSWORD} changed`
    const changed = await t.app.inject({
      method: 'POST',
      url: '/v1/me/password',
      headers: bearer(user.accessToken),
      payload: { currentPassword: user.password, newPassword },
    })
    assert.equal(changed.statusCode, 204, changed.body)
    const refreshed = await oidcClient
      .refreshTokenGrant(rp.config, tokens.refresh_token!)
      .catch((e: unknown) => e)
    assert.equal((refreshed as oidcClient.ResponseBodyError).error, 'invalid_grant')
    assert.equal(await stillSignedIn(attacker, { email: user.email, password: newPassword }), false)
  })
})
