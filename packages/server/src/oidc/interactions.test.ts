/**
 * The hosted sign-in steps themselves, driven with plain form posts: what each page says when
 * something is wrong, creating an account, backup codes, a passkey alone, forgot password.
 * (The protocol around them is in code-flow.test.ts and the other OIDC tests.)
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { enrolTotp, register, STRONG_PASSWORD, uniqueEmail } from '../../test/factories.ts'
import { type FakeTwilio, startFakeTwilio } from '../../test/fake-twilio.ts'
import { mailTo } from '../../test/mail.ts'
import { browser, hiddenField, type OidcTestServer, startOidcServer } from '../../test/oidc.ts'
import { addPasskey, type passwordlessOptions } from '../../test/passkeys.ts'
import { enrolSms } from '../../test/sms.ts'
import { createSoftwareAuthenticator } from '../../test/webauthn-authenticator.ts'

const REDIRECT_URI = 'http://127.0.0.1:8124/cb'

let t: OidcTestServer
let twilio: FakeTwilio
let clientId: string

before(async () => {
  twilio = await startFakeTwilio()
  t = await startOidcServer({ config: twilio.config })
  clientId = (await t.createClient({ client_name: 'Portal', redirect_uris: [REDIRECT_URI] })).client_id
})
after(async () => {
  await t.close()
  await twilio.close()
})

/** A fresh browser at the sign-in page of a new authorization request. */
async function signInPage() {
  const b = browser(t.issuer)
  const query = new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: 'openid email',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
    state: 'xyz',
  })
  const start = await b.get(`/oidc/auth?${query}`)
  assert.equal(start.status, 303)
  const url = new URL(start.headers.get('location')!, t.issuer).pathname
  const page = await b.get(url)
  const html = await page.text()
  assert.equal(page.status, 200)
  return { b, url, html, csrf: hiddenField(html, 'csrf'), authorizeUrl: `${t.issuer}/oidc/auth?${query}` }
}

type PasswordlessOptions = Awaited<ReturnType<typeof passwordlessOptions>>

const alert = (html: string) =>
  /role="alert"[\s\S]*?<ul>([\s\S]*?)<\/ul>/
    .exec(html)?.[1]
    ?.replace(/<[^>]+>/g, '')
    .trim()

describe('sign-in page', () => {
  test('a wrong password and an unknown email get the same 401 page and words', async () => {
    const user = await register(t.app)
    const answers = []
    for (const email of [user.email, uniqueEmail('nobody')]) {
      const { b, url, csrf } = await signInPage()
      const res = await b.post(`${url}/login`, { csrf, email, password: 'not the password at all' })
      answers.push({ status: res.status, alert: alert(await res.text()) })
    }
    assert.equal(answers[0]!.status, 401)
    assert.deepEqual(answers[0], answers[1])
    assert.match(answers[0]!.alert!, /not right/)
  })

  test('an empty field is named in the error summary and the form keeps the email', async () => {
    const { b, url, csrf } = await signInPage()
    const res = await b.post(`${url}/login`, { csrf, email: 'someone@example.com', password: '' })
    const html = await res.text()
    assert.equal(res.status, 400)
    assert.match(alert(html)!, /Enter your password/)
    assert.match(html, /value="someone@example.com"/)
    assert.match(html, /id="password"[^>]*aria-invalid="true"/)
  })

  test('the page is a strict-CSP page that allows the redirect back to the client only', async () => {
    const { b, url } = await signInPage()
    const res = await b.get(url)
    const csp = res.headers.get('content-security-policy')!
    assert.match(csp, /form-action 'self' http:\/\/127\.0\.0\.1:8124(;|$)/)
    assert.match(csp, /frame-ancestors 'none'/)
    assert.equal(res.headers.get('cache-control'), 'no-store')
  })
})

describe('create an account from the sign-in page', () => {
  test('registers, signs in and continues to consent', async () => {
    const { b, url, csrf } = await signInPage()
    const email = uniqueEmail('new')
    const form = await (await b.get(`${url}/register`)).text()
    assert.match(form, /Create your account/)
    const res = await b.post(`${url}/register`, { csrf, name: 'Ada', email, password: STRONG_PASSWORD })
    assert.equal(res.status, 303)
    const next = await b.get(new URL(res.headers.get('location')!, t.issuer).href)
    assert.equal(next.status, 303) // back through the provider, on to consent
  })

  test('a name too long, a common password and a taken email are explained beside their field', async () => {
    const taken = await register(t.app)
    const { b, url, csrf } = await signInPage()
    const long = await b.post(`${url}/register`, {
      csrf,
      name: 'A'.repeat(201),
      email: uniqueEmail(),
      password: STRONG_PASSWORD,
    })
    assert.equal(long.status, 400)
    const longPage = await long.text()
    assert.match(longPage, /id="name"[^>]*aria-invalid="true"/)
    assert.doesNotMatch(longPage, /id="email"[^>]*aria-invalid="true"/)
    const weak = await b.post(`${url}/register`, { csrf, email: uniqueEmail(), password: 'password123' })
    assert.equal(weak.status, 400)
    assert.match(await weak.text(), /id="password"[^>]*aria-invalid="true"/)
    const dup = await b.post(`${url}/register`, { csrf, email: taken.email, password: STRONG_PASSWORD })
    assert.equal(dup.status, 409)
    assert.match(alert(await dup.text())!, /already exists/)
  })
})

describe('second factor and passkeys on the hosted pages', () => {
  test('a backup code completes the MFA step, once', async () => {
    const user = await register(t.app, { password: STRONG_PASSWORD })
    const { backupCodes } = await enrolTotp(t, user.accessToken)
    const useBackupCode = async () => {
      const { b, url, csrf } = await signInPage()
      const step = await (
        await b.post(`${url}/login`, { csrf, email: user.email, password: STRONG_PASSWORD })
      ).text()
      assert.match(step, /Confirm it/)
      const mfaToken = hiddenField(step, 'mfaToken')
      return b.post(`${url}/mfa`, { csrf, mfaToken, method: 'backup_code', code: backupCodes[0]! })
    }
    assert.equal((await useBackupCode()).status, 303)
    const again = await useBackupCode()
    assert.equal(again.status, 400)
    assert.match(alert(await again.text())!, /not right/)
  })

  test('the MFA step offers only the second steps the account has', async () => {
    const passwordStep = async (user: { email: string }) => {
      const { b, url, csrf } = await signInPage()
      return (await b.post(`${url}/login`, { csrf, email: user.email, password: STRONG_PASSWORD })).text()
    }
    const withApp = await register(t.app, { password: STRONG_PASSWORD })
    await enrolTotp(t, withApp.accessToken)
    const appStep = await passwordStep(withApp)
    assert.match(appStep, /Code from your authenticator app/)
    assert.match(appStep, /Use a backup code/)
    assert.doesNotMatch(appStep, /Use a passkey/)

    const withPasskey = await register(t.app, { password: STRONG_PASSWORD })
    const authenticator = createSoftwareAuthenticator({ origin: t.issuer })
    assert.equal((await addPasskey(t, withPasskey, authenticator)).statusCode, 201)
    const passkeyStep = await passwordStep(withPasskey)
    assert.match(passkeyStep, /Confirm it/)
    assert.match(passkeyStep, /Use a passkey/)
    assert.doesNotMatch(passkeyStep, /authenticator app/)
  })

  test('an account with a phone is texted a code only when it asks, and the code completes the step', async () => {
    const user = await register(t.app, { password: STRONG_PASSWORD })
    const { phone } = await enrolSms(t, twilio, user.accessToken)
    const { b, url, csrf } = await signInPage()
    const step = await (
      await b.post(`${url}/login`, { csrf, email: user.email, password: STRONG_PASSWORD })
    ).text()
    assert.match(step, /Text me a code/)
    assert.match(step, /Use a backup code/)
    assert.doesNotMatch(step, /id="code"/, 'no code field before a code was sent')
    const sentBefore = twilio.messages.length
    const form = { csrf, mfaToken: hiddenField(step, 'mfaToken'), methods: hiddenField(step, 'methods') }

    const texted = await b.post(`${url}/mfa`, { ...form, switch: 'sms' })
    assert.equal(texted.status, 200)
    const codePage = await texted.text()
    assert.equal(twilio.messages.length, sentBefore + 1)
    assert.match(codePage, /We texted a code to \+•+\d{4}\./)
    assert.match(codePage, /Code from the text message/)
    assert.match(codePage, /Text me a new code/)

    const code = twilio.codeFor(phone)
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0')
    const missed = await b.post(`${url}/mfa`, { ...form, method: 'sms', code: wrong })
    assert.equal(missed.status, 400)
    assert.match(alert(await missed.text())!, /not right/)
    const done = await b.post(`${url}/mfa`, { ...form, method: 'sms', code })
    assert.equal(done.status, 303, await done.text())
  })

  test('when the text cannot be sent, the page says so and offers the other ways', async () => {
    const user = await register(t.app, { password: STRONG_PASSWORD })
    await enrolSms(t, twilio, user.accessToken)
    const { b, url, csrf } = await signInPage()
    const step = await (
      await b.post(`${url}/login`, { csrf, email: user.email, password: STRONG_PASSWORD })
    ).text()
    twilio.failNext(500)
    const res = await b.post(`${url}/mfa`, {
      csrf,
      mfaToken: hiddenField(step, 'mfaToken'),
      methods: hiddenField(step, 'methods'),
      switch: 'sms',
    })
    assert.equal(res.status, 502)
    const html = await res.text()
    assert.match(alert(html)!, /could not send a text message/)
    assert.match(html, /Text me a code/)
    assert.match(html, /Use a backup code/)
    assert.doesNotMatch(html, /account AC|secret detail/, 'nothing of the provider error leaks')
  })

  test('a passkey alone signs in (discoverable credential, user verified)', async () => {
    const user = await register(t.app)
    const authenticator = createSoftwareAuthenticator({ origin: t.issuer })
    assert.equal((await addPasskey(t, user, authenticator)).statusCode, 201)
    const { b, url, csrf } = await signInPage()
    const options = (await (
      await fetch(`${t.issuer}/v1/auth/passkey/options`, { method: 'POST' })
    ).json()) as PasswordlessOptions
    const credential = authenticator.authenticate(options.options)
    const res = await b.post(`${url}/passkey`, {
      csrf,
      challengeId: options.challengeId,
      credential: JSON.stringify(credential),
    })
    assert.equal(res.status, 303, await res.text())
  })

  test('a forged assertion is refused with the passkey message', async () => {
    const { b, url, csrf } = await signInPage()
    const options = (await (
      await fetch(`${t.issuer}/v1/auth/passkey/options`, { method: 'POST' })
    ).json()) as PasswordlessOptions
    const stranger = createSoftwareAuthenticator({ origin: t.issuer })
    const res = await b.post(`${url}/passkey`, {
      csrf,
      challengeId: options.challengeId,
      credential: JSON.stringify(stranger.authenticate(options.options)),
    })
    assert.equal(res.status, 401)
    assert.match(alert(await res.text())!, /passkey could not be used/)
  })
})

describe('forgot password page', () => {
  test('mails a reset link to an account and says the same for an unknown address', async () => {
    const user = await register(t.app)
    const b = browser(t.issuer)
    const pages = []
    for (const email of [user.email, uniqueEmail('ghost')]) {
      const res = await b.post('/forgot-password', { email })
      pages.push({ status: res.status, body: await res.text() })
    }
    assert.equal(pages[0]!.status, 202)
    assert.deepEqual(pages[0], pages[1])
    await t.mailer.idle()
    const mails = await mailTo(t.dataDir, user.email)
    assert.ok(mails.some((m) => m.subject.startsWith('Reset your')))
  })

  test('a post from another site is refused', async () => {
    const res = await fetch(`${t.issuer}/forgot-password`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
      body: 'email=a%40example.com',
      redirect: 'manual',
    })
    assert.equal(res.status, 403)
  })
})

describe("the provider's own forms", () => {
  test('a device-code or sign-out post from another site is refused before the provider sees it', async () => {
    for (const path of ['/oidc/device', '/oidc/session/end/confirm']) {
      const res = await fetch(`${t.issuer}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
        body: 'xsrf=x&user_code=ABCD-EFGH&logout=yes',
        redirect: 'manual',
      })
      assert.equal(res.status, 403, path)
    }
  })
})
