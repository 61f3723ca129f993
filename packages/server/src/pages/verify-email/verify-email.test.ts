import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { bearer, login, register, STRONG_PASSWORD } from '../../../test/factories.ts'
import { buildTestApp, type TestApp } from '../../../test/harness.ts'
import { linkIn, mailTo } from '../../../test/mail.ts'
import {
  assertFriendlyPage,
  assertPageHeaders,
  heading,
  hiddenToken,
  PAGE_ORIGIN,
  postForm,
} from '../../../test/pages.ts'

const DAY_MS = 24 * 3600 * 1000

/** The verification link of the latest mail to `email`, as a path + query to inject. */
async function mailedLink(t: TestApp, email: string): Promise<string> {
  await t.mailer.idle()
  const mail = (await mailTo(t.dataDir, email))
    .filter((m) => m.subject.startsWith('Confirm your email address'))
    .at(-1)
  assert.ok(mail, `no verification mail to ${email}`)
  const link = linkIn(mail, '/verify-email')
  assert.equal(link.origin, PAGE_ORIGIN)
  return `${link.pathname}${link.search}`
}

async function emailVerified(t: TestApp, accessToken: string): Promise<boolean> {
  const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(accessToken) })
  assert.equal(me.statusCode, 200, me.body)
  return me.json().emailVerified
}

/** Opens the link like a browser and returns the token its form would post. */
async function openLink(t: TestApp, link: string): Promise<string> {
  const page = await t.app.inject({ method: 'GET', url: link })
  assert.equal(page.statusCode, 200, page.body)
  const token = hiddenToken(page.body)
  assert.ok(token, 'the form carries the token')
  return token
}

describe('the /verify-email page', () => {
  let t: TestApp
  before(async () => {
    t = await buildTestApp({ config: { productName: 'Acme ID' } })
  })
  after(() => t.close())

  test('the mailed link renders a confirm button; opening it (as a mail scanner does) spends nothing', async () => {
    const { email, accessToken } = await register(t.app)
    const link = await mailedLink(t, email)
    const page = await t.app.inject({ method: 'GET', url: link })
    assert.equal(page.statusCode, 200)
    assertPageHeaders(page)
    assert.match(page.body, /<html lang="en">/)
    assert.match(page.body, /<meta name="viewport" content="width=device-width, initial-scale=1">/)
    assert.match(page.body, /<title>Confirm your email address · Acme ID<\/title>/)
    assert.match(page.body, /<link rel="stylesheet" href="\/assets\/page.css">/)
    assert.match(page.body, /<form method="post" action="\/verify-email">/)
    assert.match(page.body, /<button type="submit">Confirm my email address<\/button>/)
    assert.doesNotMatch(page.body, /<script/i, 'no client JavaScript')
    assert.equal(hiddenToken(page.body), new URL(link, PAGE_ORIGIN).searchParams.get('token'))

    await t.app.inject({ method: 'GET', url: link })
    await t.app.inject({ method: 'HEAD', url: link })
    assert.equal(await emailVerified(t, accessToken), false, 'GET and HEAD do not verify')

    const done = await postForm(t.app, '/verify-email', { token: hiddenToken(page.body)! })
    assert.equal(done.statusCode, 200, done.body)
    assertPageHeaders(done)
    assert.equal(heading(done.body), 'Your email address is confirmed')
    assert.ok(done.body.includes(email))
    assert.equal(await emailVerified(t, accessToken), true)
  })

  test('a used link: friendly 400 page, no internal detail', async () => {
    const { email } = await register(t.app)
    const token = await openLink(t, await mailedLink(t, email))
    assert.equal((await postForm(t.app, '/verify-email', { token })).statusCode, 200)
    assertFriendlyPage(
      await postForm(t.app, '/verify-email', { token }),
      400,
      /^This confirmation link cannot be used$/,
    )
  })

  test('an expired, unknown or malformed token: the same friendly 400 page', async () => {
    const { email } = await register(t.app)
    const token = await openLink(t, await mailedLink(t, email))
    t.clock.advance(DAY_MS + 1)
    for (const candidate of [token, 'A'.repeat(43), 'not a token', '']) {
      assertFriendlyPage(
        await postForm(t.app, '/verify-email', { token: candidate }),
        400,
        /^This confirmation link cannot be used$/,
      )
    }
    assertFriendlyPage(await postForm(t.app, '/verify-email', {}), 400, /cannot be used/)
    const signedIn = await login(t.app, email, STRONG_PASSWORD) // the first access token has expired
    assert.equal(await emailVerified(t, signedIn.json().accessToken), false)
  })

  test('a link without its token: friendly 400 page', async () => {
    for (const url of ['/verify-email', '/verify-email?token=', '/verify-email?token=a&token=b']) {
      assertFriendlyPage(await t.app.inject({ method: 'GET', url }), 400, /^This link is incomplete$/)
    }
  })

  test('cross-site form posts are refused with a 403 page; the link still works afterwards', async () => {
    const { email, accessToken } = await register(t.app)
    const token = await openLink(t, await mailedLink(t, email))
    const refused: Record<string, string>[] = [
      { origin: 'https://evil.example' },
      { origin: 'http://localhost:3000.evil.example' },
      { origin: 'https://localhost:3000' },
      { origin: 'null', 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      { 'sec-fetch-site': 'none' },
      {}, // neither header
    ]
    for (const headers of refused) {
      const res = await postForm(t.app, '/verify-email', { token }, headers)
      assertFriendlyPage(res, 403, /^This form was sent from another site$/)
    }
    assert.equal(await emailVerified(t, accessToken), false)

    // Under `Referrer-Policy: no-referrer` browsers send `Origin: null`; Fetch Metadata vouches.
    const ok = await postForm(
      t.app,
      '/verify-email',
      { token },
      { origin: 'null', 'sec-fetch-site': 'same-origin' },
    )
    assert.equal(ok.statusCode, 200, ok.body)
    assert.equal(await emailVerified(t, accessToken), true)
  })

  test('every dynamic value is HTML-escaped', async () => {
    const evil = `"><script>alert(1)</script><img src=x onerror='alert(2)'>&`
    const page = await t.app.inject({
      method: 'GET',
      url: `/verify-email?token=${encodeURIComponent(evil)}`,
    })
    assert.equal(page.statusCode, 200)
    assert.doesNotMatch(page.body, /<script|<img/i)
    assert.ok(
      page.body.includes('&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=&#39;'),
    )
    assert.equal(hiddenToken(page.body), evil, 'the browser gets the value back intact')

    const named = await buildTestApp({ config: { productName: '<b>Evil & Co</b>' } })
    try {
      const res = await named.app.inject({ method: 'GET', url: '/verify-email?token=abc' })
      assert.ok(
        res.body.includes('<title>Confirm your email address · &lt;b&gt;Evil &amp; Co&lt;/b&gt;</title>'),
      )
      assert.doesNotMatch(res.body, /<b>/)
    } finally {
      await named.close()
    }
  })

  test('form bodies only here: the JSON API keeps answering 415, the page refuses JSON and big bodies', async () => {
    const api = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/email/verify',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'token=abc',
    })
    assert.equal(api.statusCode, 415)
    assert.equal(api.json().code, 'unsupported_media_type')

    const json = await t.app.inject({
      method: 'POST',
      url: '/verify-email',
      headers: { origin: PAGE_ORIGIN },
      payload: { token: 'A'.repeat(43) },
    })
    assertFriendlyPage(json, 415, /could not be processed/)

    const big = await postForm(t.app, '/verify-email', { token: 'A'.repeat(43), pad: 'x'.repeat(9 * 1024) })
    assertFriendlyPage(big, 413, /could not be processed/)
  })

  test('the shared stylesheet is served', async () => {
    const css = await t.app.inject({ method: 'GET', url: '/assets/page.css' })
    assert.equal(css.statusCode, 200)
    assert.match(css.headers['content-type'] as string, /^text\/css/)
    assert.match(css.body, /\.error-summary/)
  })
})
