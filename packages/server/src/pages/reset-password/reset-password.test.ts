import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
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

const NEW_PASSWORD = 'a brand new passphrase'

/** Asks for a reset link and returns it as a path + query to inject. */
async function mailedLink(t: TestApp, email: string): Promise<string> {
  const forgot = await t.app.inject({ method: 'POST', url: '/v1/auth/password/forgot', payload: { email } })
  assert.equal(forgot.statusCode, 202)
  await t.mailer.idle()
  const mail = (await mailTo(t.dataDir, email)).filter((m) => m.subject.startsWith('Reset your')).at(-1)
  assert.ok(mail, `no reset mail to ${email}`)
  const link = linkIn(mail, '/reset-password')
  assert.equal(link.origin, PAGE_ORIGIN)
  return `${link.pathname}${link.search}`
}

/** Opens the link like a browser and returns the token its form would post. */
async function openLink(t: TestApp, link: string): Promise<string> {
  const page = await t.app.inject({ method: 'GET', url: link })
  assert.equal(page.statusCode, 200, page.body)
  const token = hiddenToken(page.body)
  assert.ok(token, 'the form carries the token')
  return token
}

function submit(t: TestApp, token: string, newPassword: string, confirmPassword = newPassword) {
  return postForm(t.app, '/reset-password', { token, newPassword, confirmPassword })
}

/** The `<input>` tag of a field, by id. */
function inputTag(html: string, id: string): string {
  const tag = new RegExp(`<input id="${id}"[^>]*>`).exec(html)?.[0]
  assert.ok(tag, `no #${id} input`)
  return tag
}

describe('the /reset-password page', () => {
  let t: TestApp
  before(async () => {
    t = await buildTestApp({ config: { productName: 'Acme ID' } })
  })
  after(() => t.close())

  test('the mailed link renders the form; opening it spends nothing', async () => {
    const { email } = await register(t.app)
    const link = await mailedLink(t, email)
    const page = await t.app.inject({ method: 'GET', url: link })
    assert.equal(page.statusCode, 200)
    assertPageHeaders(page)
    assert.match(page.body, /<html lang="en">/)
    assert.match(page.body, /<meta name="viewport" content="width=device-width, initial-scale=1">/)
    assert.match(page.body, /<title>Choose a new password · Acme ID<\/title>/)
    assert.match(page.body, /<form method="post" action="\/reset-password">/)
    assert.doesNotMatch(page.body, /<script/i, 'no client JavaScript')
    assert.doesNotMatch(page.body, /role="alert"|aria-invalid/)
    for (const [id, name, label] of [
      ['new-password', 'newPassword', 'New password'],
      ['confirm-password', 'confirmPassword', 'Confirm the new password'],
    ] as const) {
      assert.ok(page.body.includes(`<label for="${id}">${label}</label>`), label)
      const input = inputTag(page.body, id)
      for (const attribute of [
        `name="${name}"`,
        'type="password"',
        'autocomplete="new-password"',
        'required',
        'minlength="8"',
        'maxlength="256"',
      ])
        assert.ok(input.includes(attribute), `${input} has ${attribute}`)
    }
    assert.match(inputTag(page.body, 'new-password'), /aria-describedby="new-password-hint"/)
    assert.equal(hiddenToken(page.body), new URL(link, PAGE_ORIGIN).searchParams.get('token'))

    await t.app.inject({ method: 'GET', url: link })
    await t.app.inject({ method: 'HEAD', url: link })
    const done = await submit(t, hiddenToken(page.body)!, NEW_PASSWORD)
    assert.equal(done.statusCode, 200, 'the token survived GET and HEAD')
  })

  test('success: the new password works and every old session is dead', async () => {
    const first = await register(t.app)
    const second = (await login(t.app, first.email, STRONG_PASSWORD)).json()
    const token = await openLink(t, await mailedLink(t, first.email))

    const done = await submit(t, token, NEW_PASSWORD)
    assert.equal(done.statusCode, 200, done.body)
    assertPageHeaders(done)
    assert.equal(heading(done.body), 'Your password has been changed')
    assert.match(done.body, /Every session of your account has ended/)

    for (const session of [first, second]) {
      const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(session.accessToken) })
      assert.equal(me.statusCode, 401, 'old access tokens are rejected')
      const refreshed = await t.app.inject({
        method: 'POST',
        url: '/v1/auth/refresh',
        payload: { refreshToken: session.refreshToken },
      })
      assert.equal(refreshed.statusCode, 401, 'old refresh tokens are rejected')
    }
    assert.equal((await login(t.app, first.email, STRONG_PASSWORD)).statusCode, 401)
    assert.equal((await login(t.app, first.email, NEW_PASSWORD)).statusCode, 200)
  })

  test('a used link: friendly 400 page', async () => {
    const { email } = await register(t.app)
    const token = await openLink(t, await mailedLink(t, email))
    assert.equal((await submit(t, token, NEW_PASSWORD)).statusCode, 200)
    assertFriendlyPage(
      await submit(t, token, 'yet another passphrase'),
      400,
      /^This reset link cannot be used$/,
    )
    assert.equal((await login(t.app, email, NEW_PASSWORD)).statusCode, 200, 'the first reset stands')
  })

  test('an expired, unknown or malformed token: the same friendly 400 page', async () => {
    const { email } = await register(t.app)
    const token = await openLink(t, await mailedLink(t, email))
    t.clock.advance(15 * 60 * 1000)
    for (const candidate of [token, 'A'.repeat(43), '<script>', '']) {
      assertFriendlyPage(await submit(t, candidate, NEW_PASSWORD), 400, /^This reset link cannot be used$/)
    }
    assert.equal((await login(t.app, email, STRONG_PASSWORD)).statusCode, 200, 'password unchanged')
  })

  test('a link without its token: friendly 400 page', async () => {
    assertFriendlyPage(await t.app.inject({ method: 'GET', url: '/reset-password' }), 400, /incomplete/)
  })

  test('a weak password re-renders the form with an accessible error; the link still works', async () => {
    const { email } = await register(t.app)
    const token = await openLink(t, await mailedLink(t, email))

    for (const weak of ['password123', 'short', email]) {
      const res = await submit(t, token, weak)
      assert.equal(res.statusCode, 400, res.body)
      assertPageHeaders(res)
      assert.equal(heading(res.body), 'Choose a new password')
      assert.match(res.body, /<div class="error-summary" role="alert"[^>]*>/)
      assert.match(res.body, /<a href="#new-password">This password cannot be used: [^<]+<\/a>/)
      const input = inputTag(res.body, 'new-password')
      assert.match(input, /aria-invalid="true"/)
      assert.match(input, /aria-describedby="new-password-hint new-password-error"/)
      assert.match(res.body, /<span class="field-error" id="new-password-error">/)
      assert.doesNotMatch(inputTag(res.body, 'confirm-password'), /aria-invalid/)
      assert.equal(hiddenToken(res.body), token, 'the form keeps the token')
      assert.ok(!res.body.includes(`value="${weak}"`), 'passwords are never echoed')
    }
    assert.match((await submit(t, token, 'password123')).body, /most commonly used/)

    const done = await submit(t, token, NEW_PASSWORD)
    assert.equal(done.statusCode, 200, done.body)
    assert.equal((await login(t.app, email, NEW_PASSWORD)).statusCode, 200)
  })

  test('mismatched or missing passwords re-render the form on the right field; the link still works', async () => {
    const { email } = await register(t.app)
    const token = await openLink(t, await mailedLink(t, email))

    const mismatch = await submit(t, token, NEW_PASSWORD, `${NEW_PASSWORD}!`)
    assert.equal(mismatch.statusCode, 400)
    assert.match(mismatch.body, /role="alert"/)
    assert.match(mismatch.body, /<a href="#confirm-password">The two passwords do not match.<\/a>/)
    assert.match(inputTag(mismatch.body, 'confirm-password'), /aria-invalid="true"/)
    assert.match(inputTag(mismatch.body, 'confirm-password'), /aria-describedby="confirm-password-error"/)
    assert.doesNotMatch(inputTag(mismatch.body, 'new-password'), /aria-invalid/)
    assert.equal(hiddenToken(mismatch.body), token)

    const missing = await postForm(t.app, '/reset-password', { token })
    assert.equal(missing.statusCode, 400)
    assert.match(missing.body, /<a href="#new-password">Enter a new password.<\/a>/)

    assert.equal((await submit(t, token, NEW_PASSWORD)).statusCode, 200)
    assert.equal((await login(t.app, email, NEW_PASSWORD)).statusCode, 200)
  })

  test('cross-site form posts are refused with a 403 page; the link still works afterwards', async () => {
    const { email } = await register(t.app)
    const token = await openLink(t, await mailedLink(t, email))
    const refused: Record<string, string>[] = [
      { origin: 'https://evil.example' },
      { 'sec-fetch-site': 'cross-site' },
      {},
    ]
    for (const headers of refused) {
      const res = await postForm(
        t.app,
        '/reset-password',
        { token, newPassword: 'attacker passphrase', confirmPassword: 'attacker passphrase' },
        headers,
      )
      assertFriendlyPage(res, 403, /^This form was sent from another site$/)
    }
    assert.equal((await login(t.app, email, STRONG_PASSWORD)).statusCode, 200, 'password unchanged')
    assert.equal((await submit(t, token, NEW_PASSWORD)).statusCode, 200)
  })

  test('every dynamic value is HTML-escaped', async () => {
    const evil = `"><script>alert(1)</script>`
    const page = await t.app.inject({
      method: 'GET',
      url: `/reset-password?token=${encodeURIComponent(evil)}`,
    })
    assert.equal(page.statusCode, 200)
    assert.doesNotMatch(page.body, /<script/i)
    assert.ok(page.body.includes('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"'))
    assert.equal(hiddenToken(page.body), evil)
  })

  test('rate limits answer with a friendly 429 page and Retry-After', async () => {
    const limited = await buildTestApp({ config: { authRateLimitPerMinute: 1 } })
    try {
      const fields = { token: 'A'.repeat(43), newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD }
      assert.equal((await postForm(limited.app, '/reset-password', fields)).statusCode, 400)
      const res = await postForm(limited.app, '/reset-password', fields)
      assertFriendlyPage(res, 429, /^Too many attempts$/)
      assert.ok(Number(res.headers['retry-after']) > 0)
    } finally {
      await limited.close()
    }
  })
})

describe('request logs', () => {
  test('one-time tokens in query strings are not logged; method, path and request id are', async () => {
    let log = ''
    const logStream = new Writable({
      write(chunk, _encoding, done) {
        log += chunk.toString()
        done()
      },
    })
    const t = await buildTestApp({ config: { logLevel: 'info' }, logStream })
    try {
      const secret = 'SECRETxSECRETxSECRETxSECRETxSECRET'
      const res = await t.app.inject({ method: 'GET', url: `/reset-password?token=${secret}` })
      assert.equal(res.statusCode, 200)
      await postForm(t.app, `/reset-password?token=${secret}`, { token: 'A'.repeat(43) })
      await t.app.inject({ method: 'GET', url: `/verify-email?token=${secret}&x=1` })
    } finally {
      await t.close()
    }
    assert.ok(!log.includes('SECRET'), log)
    const requests = log
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { msg: string; reqId?: string; req?: Record<string, unknown> })
      .filter((entry) => entry.msg === 'incoming request')
    assert.equal(requests.length, 3, log)
    assert.deepEqual(requests[0]!.req, { method: 'GET', path: '/reset-password', remoteAddress: '127.0.0.1' })
    assert.match(requests[0]!.reqId ?? '', /^[0-9a-f-]{36}$/)
  })
})
