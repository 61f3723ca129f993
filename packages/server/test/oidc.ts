/**
 * A running Tessera for OIDC tests: real HTTP on a free port, with the public URL (the issuer)
 * pointing at it, an administrator to register clients and APIs, a cookie-keeping browser
 * stand-in for driving the hosted pages with plain form posts, and a relying party
 * (openid-client) for each registered client.
 */
import assert from 'node:assert/strict'
import * as oidcClient from 'openid-client'
import { bearer, registerAdmin } from './factories.ts'
import { buildTestApp, type TestApp, type TestAppOptions } from './harness.ts'
import { freePort } from './ports.ts'

export interface OidcTestServer extends TestApp {
  issuer: string
  adminToken: string
  /** Registers a client through the admin API; the answer includes `client_secret` once. */
  createClient(metadata: Record<string, unknown>): Promise<{ client_id: string; client_secret?: string }>
  createApi(api: {
    audience: string
    name: string
    scopes: string[]
    accessTokenTtl?: number
  }): Promise<{ id: string }>
}

export async function startOidcServer(options: TestAppOptions = {}): Promise<OidcTestServer> {
  const port = await freePort()
  const issuer = `http://localhost:${port}`
  const t = await buildTestApp({ ...options, config: { ...options.config, publicUrl: issuer } })
  await t.app.listen({ port, host: '127.0.0.1' })
  const admin = await registerAdmin(t)
  const adminPost = async (url: string, payload: object) => {
    const res = await t.app.inject({ method: 'POST', url, headers: bearer(admin.accessToken), payload })
    assert.equal(res.statusCode, 201, res.body)
    return res.json()
  }
  return {
    ...t,
    issuer,
    adminToken: admin.accessToken,
    createClient: (metadata) => adminPost('/v1/admin/clients', metadata),
    createApi: (api) => adminPost('/v1/admin/api-resources', api),
  }
}

/** What a browser accepts when it navigates (the provider answers it with pages, not JSON). */
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'

/** Cookie jar + fetch that follows nothing: each step of a browser flow is explicit. */
export function browser(origin: string) {
  const cookies = new Map<string, string>()
  async function request(url: string, init: RequestInit = {}): Promise<Response> {
    const target = new URL(url, origin)
    const headers = new Headers(init.headers)
    if (!headers.has('accept')) headers.set('accept', BROWSER_ACCEPT)
    if (cookies.size > 0 && target.origin === origin)
      headers.set('cookie', [...cookies].map(([k, v]) => `${k}=${v}`).join('; '))
    const res = await fetch(target, { ...init, headers, redirect: 'manual' })
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';', 1)
      const at = pair!.indexOf('=')
      const value = pair!.slice(at + 1)
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) cookies.delete(pair!.slice(0, at))
      else cookies.set(pair!.slice(0, at), value)
    }
    return res
  }
  return {
    cookies,
    /** Any request, with the jar's cookies (for posts that are not our own forms). */
    request,
    get: (url: string) => request(url),
    /** A form post from one of our pages (same origin, as a browser sends it). */
    post: (url: string, fields: Record<string, string>) =>
      request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
        body: new URLSearchParams(fields).toString(),
      }),
  }
}

/** The value of a hidden input in a page. */
export function hiddenField(html: string, name: string): string {
  const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(html)
  assert.ok(match, `no hidden ${name} in the page`)
  return match[1]!.replaceAll('&amp;', '&')
}

export type Browser = ReturnType<typeof browser>

export interface PageAnswers {
  email: string
  password: string
  /** Answers the MFA step with a code (TOTP or backup) when it is shown. */
  mfaCode?: () => string
  /** Consent: allow (default), deny, or fail the test if asked. */
  consent?: 'allow' | 'deny' | 'unexpected'
  /** Ticks "remember this decision" on the consent page unless false. */
  remember?: boolean
}

/**
 * Follows an authorization request through the hosted pages as a browser would, answering each
 * page it meets, until the provider redirects away from itself. Returns that redirect and the
 * titles of the pages seen, in order.
 */
export async function authorizeThroughPages(
  b: Browser,
  authorizationUrl: string,
  answers: PageAnswers,
): Promise<{ redirect: URL; pages: string[] }> {
  const { redirect, pages, html, status } = await answerPages(b, authorizationUrl, answers)
  assert.ok(redirect, `the flow ended on a ${status} page: ${html?.slice(0, 600)}`)
  return { redirect, pages }
}

/** The text of a page's `<h1>`. */
export function pageHeading(html: string): string | undefined {
  return /<h1[^>]*>([^<]*)<\/h1>/.exec(html)?.[1]?.trim()
}

/**
 * Like authorizeThroughPages, but a page that is not a sign-in step (the device flow's success
 * page, an error page) ends the walk too: then `html` is that page and `redirect` is undefined.
 */
export async function answerPages(
  b: Browser,
  url: string,
  answers: PageAnswers,
): Promise<{ redirect?: URL; html?: string; status: number; pages: string[] }> {
  const pages: string[] = []
  const origin = new URL(url).origin
  let res = await b.get(url)
  for (let step = 0; step < 20; step++) {
    if (res.status >= 300 && res.status < 400) {
      const location = new URL(res.headers.get('location')!, origin)
      if (location.origin !== origin) return { redirect: location, status: res.status, pages }
      res = await b.get(location.href)
      continue
    }
    const html = await res.text()
    const action = (name: string) => new RegExp(`action="([^"]*/${name})"`).exec(html)?.[1]
    const csrf = () => hiddenField(html, 'csrf')
    if (res.status === 200 && action('mfa')) {
      pages.push('mfa')
      assert.ok(answers.mfaCode, 'the MFA step was not expected')
      res = await b.post(action('mfa')!, {
        csrf: csrf(),
        mfaToken: hiddenField(html, 'mfaToken'),
        method: 'totp',
        code: answers.mfaCode(),
      })
    } else if (res.status === 200 && action('login')) {
      pages.push('sign-in')
      res = await b.post(action('login')!, { csrf: csrf(), email: answers.email, password: answers.password })
    } else if (res.status === 200 && action('consent')) {
      pages.push('consent')
      assert.notEqual(answers.consent, 'unexpected', 'consent was asked again')
      if (answers.consent === 'deny') res = await b.post(action('abort')!, { csrf: csrf() })
      else
        res = await b.post(action('consent')!, {
          csrf: csrf(),
          ...(answers.remember === false ? {} : { remember: 'yes' }),
        })
    } else {
      return { html, status: res.status, pages }
    }
  }
  assert.fail('too many steps')
}

/** A registered client and openid-client's view of it (discovery done, plain http allowed). */
export interface RelyingParty {
  config: oidcClient.Configuration
  clientId: string
  clientSecret?: string
  /** The first registered redirect URI. */
  redirectUri: string
}

/** Registers a client through the admin API and discovers the provider as that client. */
export async function createRelyingParty(
  t: OidcTestServer,
  metadata: Record<string, unknown>,
): Promise<RelyingParty> {
  const client = await t.createClient(metadata)
  const isPublic = metadata.token_endpoint_auth_method === 'none'
  const config = await oidcClient.discovery(
    new URL(t.issuer),
    client.client_id,
    {
      ...(client.client_secret ? { client_secret: client.client_secret } : {}),
      id_token_signed_response_alg: 'EdDSA',
    },
    isPublic ? oidcClient.None() : undefined,
    { execute: [oidcClient.allowInsecureRequests] },
  )
  const redirectUris = (metadata.redirect_uris as string[] | undefined) ?? []
  return {
    config,
    clientId: client.client_id,
    ...(client.client_secret ? { clientSecret: client.client_secret } : {}),
    redirectUri: redirectUris[0] ?? '',
  }
}

/** An authorization request with PKCE (S256), state and nonce, and what the callback checks need. */
export async function authorizationRequest(rp: RelyingParty, params: Record<string, string> = {}) {
  const verifier = oidcClient.randomPKCECodeVerifier()
  const state = oidcClient.randomState()
  const nonce = oidcClient.randomNonce()
  const url = oidcClient.buildAuthorizationUrl(rp.config, {
    redirect_uri: rp.redirectUri,
    scope: 'openid',
    code_challenge: await oidcClient.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...params,
  })
  return { url: url.href, verifier, state, nonce }
}

export type AuthorizationRequest = Awaited<ReturnType<typeof authorizationRequest>>

/** Exchanges the code of a callback for tokens, checking PKCE, state, nonce and the ID token. */
export function redeemCode(rp: RelyingParty, request: AuthorizationRequest, callback: URL) {
  return oidcClient.authorizationCodeGrant(rp.config, callback, {
    pkceCodeVerifier: request.verifier,
    expectedState: request.state,
    expectedNonce: request.nonce,
  })
}

/**
 * One authorization through the hosted pages, then the code exchange: the tokens and the pages
 * the browser went through.
 */
export async function signInThroughPages(
  b: Browser,
  rp: RelyingParty,
  answers: PageAnswers,
  params: Record<string, string> = {},
) {
  const request = await authorizationRequest(rp, params)
  const { redirect, pages } = await authorizeThroughPages(b, request.url, answers)
  return { tokens: await redeemCode(rp, request, redirect), pages }
}

/** RFC 7662 introspection, authenticated as `rp`'s client. */
export async function introspect(rp: RelyingParty, token: string) {
  return oidcClient.tokenIntrospection(rp.config, token)
}

/** The claims of a JWT, unverified (for asserting what a token carries; verify elsewhere). */
export function jwtParts(jwt: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [header, payload] = jwt.split('.')
  const decode = (part: string | undefined) =>
    JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8'))
  return { header: decode(header), payload: decode(payload) }
}

/**
 * Moves `Date.now()` forward by `seconds` for the provider, which reads the wall clock (Tessera's
 * own services use the harness's manual clock). Returns the function that puts it back.
 */
export function shiftWallClock(seconds: number): () => void {
  const realNow = Date.now
  Date.now = () => realNow() + seconds * 1000
  return () => {
    Date.now = realNow
  }
}
