/**
 * The mailed-link pages in a real browser: Debian's Chromium opens the links from the outbox,
 * fills the native forms and submits them (no client JavaScript; strict CSP; `Origin: null`
 * under `Referrer-Policy: no-referrer` must still pass the same-origin check).
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { type Browser, chromium } from 'playwright-core'
import { bearer, login, register } from '../factories.ts'
import { buildTestApp, type TestApp } from '../harness.ts'
import { linkIn, mailTo } from '../mail.ts'
import { freePort } from '../ports.ts'
import { CHROMIUM, CHROMIUM_ARGS, skipWithoutChromium as skip, watchProblems } from './chromium.ts'

const NEW_PASSWORD = 'a brand new passphrase'

describe('mailed-link pages in a real browser', { skip }, () => {
  let t: TestApp
  let browser: Browser
  let origin: string

  before(async () => {
    const port = await freePort()
    origin = `http://localhost:${port}`
    t = await buildTestApp({ config: { publicUrl: origin, productName: 'Acme ID' } })
    await t.app.listen({ port, host: '127.0.0.1' })
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
  })
  after(async () => {
    await browser?.close()
    await t?.close()
  })

  async function latestLink(email: string, subject: string, path: string): Promise<string> {
    await t.mailer.idle()
    const mail = (await mailTo(t.dataDir, email)).filter((m) => m.subject.startsWith(subject)).at(-1)
    assert.ok(mail, `no "${subject}" mail to ${email}`)
    return linkIn(mail, path).href
  }

  test('open the mailed reset link, refuse a common password, then change it', async () => {
    const user = await register(t.app)
    const forgot = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/password/forgot',
      payload: { email: user.email },
    })
    assert.equal(forgot.statusCode, 202)
    const link = await latestLink(user.email, 'Reset your', '/reset-password')
    assert.ok(link.startsWith(`${origin}/reset-password?token=`), link)

    const context = await browser.newContext()
    try {
      const page = await context.newPage()
      const problems = watchProblems(page, [400])
      const posts: Promise<Record<string, string>>[] = []
      page.on('request', (request) => {
        if (request.method() === 'POST') posts.push(request.allHeaders())
      })

      await page.goto(link)
      assert.equal(await page.title(), 'Choose a new password · Acme ID')
      // The stylesheet loaded under the page's CSP.
      assert.equal(await page.evaluate("getComputedStyle(document.querySelector('main')).maxWidth"), '416px')

      await page.getByLabel('New password', { exact: true }).fill('password123')
      await page.getByLabel('Confirm the new password').fill('password123')
      await page.getByRole('button', { name: 'Change my password' }).click()
      await page.getByRole('alert').waitFor()
      assert.match((await page.getByRole('alert').textContent()) ?? '', /most commonly used/)
      assert.equal(await page.locator('#new-password').getAttribute('aria-invalid'), 'true')
      assert.equal(page.url(), `${origin}/reset-password`, 'the token is no longer in the address bar')

      await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD)
      await page.getByLabel('Confirm the new password').fill(NEW_PASSWORD)
      await page.getByRole('button', { name: 'Change my password' }).click()
      await page.getByRole('heading', { name: 'Your password has been changed' }).waitFor()
      assert.match((await page.textContent('main')) ?? '', /Every session of your account has ended/)

      assert.deepEqual(problems, [])
      assert.equal(posts.length, 2)
      // What the same-origin check has to go on: no-referrer pages post with `Origin: null`.
      for (const headers of await Promise.all(posts)) {
        assert.equal(headers.origin, 'null')
        assert.equal(headers['sec-fetch-site'], 'same-origin')
      }
    } finally {
      await context.close()
    }

    const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(user.accessToken) })
    assert.equal(me.statusCode, 401, 'the old session ended')
    assert.equal((await login(t.app, user.email, user.password)).statusCode, 401)
    assert.equal((await login(t.app, user.email, NEW_PASSWORD)).statusCode, 200)
  })

  test('open the mailed verification link and confirm the address', async () => {
    const user = await register(t.app)
    const link = await latestLink(user.email, 'Confirm your email address', '/verify-email')
    const context = await browser.newContext()
    try {
      const page = await context.newPage()
      const problems = watchProblems(page)
      await page.goto(link)
      assert.equal(await page.title(), 'Confirm your email address · Acme ID')
      await page.getByRole('button', { name: 'Confirm my email address' }).click()
      await page.getByRole('heading', { name: 'Your email address is confirmed' }).waitFor()
      assert.deepEqual(problems, [])
    } finally {
      await context.close()
    }
    const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(user.accessToken) })
    assert.equal(me.json().emailVerified, true)
  })
})
