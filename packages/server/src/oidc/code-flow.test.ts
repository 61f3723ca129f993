/**
 * The authorization code flow end to end with a real relying party (openid-client) driving the
 * hosted pages with plain form posts: discovery, PKCE, state and nonce, the ID token, userinfo
 * by scope, single sign-on, prompt=login and max_age, and remembered consent.
 */
import assert from 'node:assert/strict'
import { after, afterEach, before, describe, test } from 'node:test'
import * as oidcClient from 'openid-client'
import { register, STRONG_PASSWORD } from '../../test/factories.ts'
import {
  authorizationRequest,
  authorizeThroughPages,
  browser,
  createRelyingParty,
  jwtParts,
  type OidcTestServer,
  type RelyingParty,
  redeemCode,
  shiftWallClock,
  signInThroughPages,
  startOidcServer,
} from '../../test/oidc.ts'

let t: OidcTestServer
let rp: RelyingParty

before(async () => {
  t = await startOidcServer()
  rp = await createRelyingParty(t, {
    client_name: 'Portal',
    redirect_uris: ['http://127.0.0.1:8123/callback'],
    grant_types: ['authorization_code', 'refresh_token'],
  })
})
after(() => t.close())

const newUser = (name?: string) => register(t.app, { password: STRONG_PASSWORD, ...(name ? { name } : {}) })

describe('authorization code flow with PKCE through the hosted pages', () => {
  test('signs in, asks consent, and returns verified tokens', async () => {
    const user = await newUser()
    const b = browser(t.issuer)
    const request = await authorizationRequest(rp, {
      scope: 'openid profile email offline_access',
      prompt: 'consent',
    })
    const { redirect, pages } = await authorizeThroughPages(b, request.url, {
      email: user.email,
      password: user.password,
    })
    assert.deepEqual(pages, ['sign-in', 'consent'])
    assert.equal(redirect.searchParams.get('iss'), t.issuer, 'RFC 9207 iss in the response')
    const tokens = await redeemCode(rp, request, redirect)
    const claims = tokens.claims()!
    assert.equal(claims.sub, user.user.id)
    assert.equal(claims.iss, t.issuer)
    assert.ok(tokens.refresh_token)
    const info = await oidcClient.fetchUserInfo(rp.config, tokens.access_token, claims.sub)
    assert.equal(info.email, user.email)
    assert.equal(info.email_verified, false)
  })

  test('the ID token is for this client, this request and this user, and signed with the JWKS key', async () => {
    const user = await newUser('Ada Lovelace')
    const request = await authorizationRequest(rp, { scope: 'openid profile email' })
    const { redirect } = await authorizeThroughPages(browser(t.issuer), request.url, user)
    const tokens = await redeemCode(rp, request, redirect) // verifies the signature, iss, aud, nonce, exp
    const { header, payload } = jwtParts(tokens.id_token!)
    assert.equal(header.alg, 'EdDSA')
    assert.equal(payload.iss, t.issuer)
    assert.equal(payload.aud, rp.clientId)
    assert.equal(payload.sub, user.user.id)
    assert.equal(payload.nonce, request.nonce)
    assert.ok(Number(payload.exp) > Number(payload.iat))
    // With an access token issued, profile and email claims are fetched from userinfo, not carried here.
    for (const claim of ['email', 'name']) assert.equal(payload[claim], undefined, claim)
  })

  test('userinfo releases the claims of the granted scopes and nothing else', async () => {
    const user = await newUser('Grace Hopper')
    const claimsFor = async (scope: string) => {
      const { tokens } = await signInThroughPages(browser(t.issuer), rp, user, { scope })
      assert.equal(tokens.scope, scope)
      return oidcClient.fetchUserInfo(rp.config, tokens.access_token, user.user.id)
    }
    const email = await claimsFor('openid email')
    assert.deepEqual(email, { sub: user.user.id, email: user.email, email_verified: false })

    const profile = await claimsFor('openid profile')
    assert.equal(profile.name, 'Grace Hopper')
    assert.equal(typeof profile.updated_at, 'number')
    assert.equal(profile.email, undefined)
    assert.equal(profile.email_verified, undefined)

    assert.deepEqual(await claimsFor('openid'), { sub: user.user.id })
  })

  test('a second authorization in the same browser session skips sign-in and consent', async () => {
    const user = await newUser()
    const b = browser(t.issuer)
    const first = await signInThroughPages(b, rp, user, { scope: 'openid email' })
    assert.deepEqual(first.pages, ['sign-in', 'consent'])
    const second = await signInThroughPages(
      b,
      rp,
      { ...user, consent: 'unexpected' },
      { scope: 'openid email' },
    )
    assert.deepEqual(second.pages, [])
    assert.equal(second.tokens.claims()!.sub, user.user.id)
  })

  for (const [name, forcing] of [
    ['prompt=login', { prompt: 'login' }],
    ['max_age=0', { max_age: '0' }],
  ] as const) {
    test(`${name} shows the sign-in page even with a live session`, async () => {
      const user = await newUser()
      const b = browser(t.issuer)
      await signInThroughPages(b, rp, user, { scope: 'openid' })
      const again = await signInThroughPages(
        b,
        rp,
        { ...user, consent: 'unexpected' },
        { scope: 'openid', ...forcing },
      )
      assert.deepEqual(again.pages, ['sign-in'])
      assert.equal(again.tokens.claims()!.sub, user.user.id)
      assert.equal(typeof again.tokens.claims()!.auth_time, 'number', 'the RP learns when the user signed in')
    })
  }

  describe('max_age', () => {
    let restore: (() => void) | undefined
    afterEach(() => restore?.())

    test('a sign-in older than max_age is asked again; auth_time says when it happened', async () => {
      const user = await newUser()
      const b = browser(t.issuer)
      const first = await signInThroughPages(b, rp, user, { scope: 'openid', max_age: '3600' })
      const authTime = first.tokens.claims()!.auth_time!
      assert.equal(typeof authTime, 'number', 'max_age asks for auth_time')

      const recent = await signInThroughPages(
        b,
        rp,
        { ...user, consent: 'unexpected' },
        { scope: 'openid', max_age: '3600' },
      )
      assert.deepEqual(recent.pages, [], 'within max_age the session is enough')
      assert.equal(recent.tokens.claims()!.auth_time, authTime)

      restore = shiftWallClock(10) // the provider's clock is the wall clock
      const stale = await signInThroughPages(
        b,
        rp,
        { ...user, consent: 'unexpected' },
        { scope: 'openid', max_age: '5' },
      )
      assert.deepEqual(stale.pages, ['sign-in'])
      assert.ok(stale.tokens.claims()!.auth_time! >= authTime + 10)
    })
  })

  test('prompt=none: login_required without a session, a code without any page with one', async () => {
    const user = await newUser()
    const b = browser(t.issuer)
    const silent = await authorizationRequest(rp, { scope: 'openid', prompt: 'none' })
    const refused = await authorizeThroughPages(b, silent.url, { ...user, consent: 'unexpected' })
    assert.deepEqual(refused.pages, [])
    assert.equal(refused.redirect.searchParams.get('error'), 'login_required')
    assert.equal(refused.redirect.searchParams.get('state'), silent.state)

    await signInThroughPages(b, rp, user, { scope: 'openid' })
    const again = await signInThroughPages(
      b,
      rp,
      { ...user, consent: 'unexpected' },
      { scope: 'openid', prompt: 'none' },
    )
    assert.deepEqual(again.pages, [])
    assert.equal(again.tokens.claims()!.sub, user.user.id)
  })

  test('denying consent sends the user back to the client with access_denied and no code', async () => {
    const user = await newUser()
    const request = await authorizationRequest(rp, { scope: 'openid email' })
    const { redirect, pages } = await authorizeThroughPages(browser(t.issuer), request.url, {
      ...user,
      consent: 'deny',
    })
    assert.deepEqual(pages, ['sign-in', 'consent'])
    assert.equal(redirect.searchParams.get('error'), 'access_denied')
    assert.equal(redirect.searchParams.get('state'), request.state)
    assert.equal(redirect.searchParams.get('code'), null)
  })
})

describe('remembered consent', () => {
  test('"remember" lets a new browser session of the same user skip the consent page', async () => {
    const user = await newUser()
    const first = await signInThroughPages(
      browser(t.issuer),
      rp,
      { ...user, remember: true },
      { scope: 'openid email' },
    )
    assert.deepEqual(first.pages, ['sign-in', 'consent'])

    const elsewhere = browser(t.issuer) // a new cookie jar: no session, no grant of its own
    const second = await signInThroughPages(
      elsewhere,
      rp,
      { ...user, consent: 'unexpected' },
      { scope: 'openid email' },
    )
    assert.deepEqual(second.pages, ['sign-in'])
    assert.equal(second.tokens.scope, 'openid email')
    const info = await oidcClient.fetchUserInfo(rp.config, second.tokens.access_token, user.user.id)
    assert.equal(info.email, user.email)
  })

  test('without "remember" a new browser session asks again', async () => {
    const user = await newUser()
    await signInThroughPages(browser(t.issuer), rp, { ...user, remember: false }, { scope: 'openid email' })
    const second = await signInThroughPages(browser(t.issuer), rp, user, { scope: 'openid email' })
    assert.deepEqual(second.pages, ['sign-in', 'consent'])
  })

  test('asking for more scopes than remembered asks again', async () => {
    const user = await newUser()
    await signInThroughPages(browser(t.issuer), rp, { ...user, remember: true }, { scope: 'openid email' })
    const more = await signInThroughPages(browser(t.issuer), rp, user, { scope: 'openid email profile' })
    assert.deepEqual(more.pages, ['sign-in', 'consent'])
    assert.equal(more.tokens.scope, 'openid email profile')
  })

  test('what one user remembered does not skip consent for another user of the same client', async () => {
    const ada = await newUser()
    const bob = await newUser()
    await signInThroughPages(browser(t.issuer), rp, { ...ada, remember: true }, { scope: 'openid email' })
    const bobs = await signInThroughPages(browser(t.issuer), rp, bob, { scope: 'openid email' })
    assert.deepEqual(bobs.pages, ['sign-in', 'consent'])
  })
})
