import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { bearer, login, register, STRONG_PASSWORD, uniqueEmail } from '../../test/factories.ts'
import { buildTestApp, type TestApp } from '../../test/harness.ts'
import { mailTo, tokenIn } from '../../test/mail.ts'
import { randomToken } from '../core/crypto.ts'

const DAY_MS = 24 * 3600 * 1000

/** The token of the latest verification link mailed to `email`. */
async function verificationToken(t: TestApp, email: string): Promise<string> {
  await t.mailer.idle()
  const mail = (await mailTo(t.dataDir, email))
    .filter((m) => m.subject.startsWith('Confirm your email address'))
    .at(-1)
  assert.ok(mail, `no verification mail to ${email}`)
  return tokenIn(mail, '/verify-email')
}

function verify(t: TestApp, token: string) {
  return t.app.inject({ method: 'POST', url: '/v1/auth/email/verify', payload: { token } })
}

function resend(t: TestApp, email: string, ip = '198.51.100.7') {
  return t.app.inject({
    method: 'POST',
    url: '/v1/auth/email/resend',
    payload: { email },
    remoteAddress: ip,
  })
}

async function auditTypes(t: TestApp, accountId: string): Promise<string[]> {
  const rows = await t.database.db
    .selectFrom('audit_events')
    .select('type')
    .where('account_id', '=', accountId)
    .execute()
  return rows.map((r) => r.type)
}

describe('email verification', () => {
  let t: TestApp
  before(async () => {
    t = await buildTestApp()
  })
  after(() => t.close())

  test('register mails a link; following it verifies the address', async () => {
    const { email, user, accessToken } = await register(t.app)
    assert.equal(user.emailVerified, false)
    const res = await verify(t, await verificationToken(t, email))
    assert.equal(res.statusCode, 200, res.body)
    assert.equal(res.json().id, user.id)
    assert.equal(res.json().email, email)
    assert.equal(res.json().emailVerified, true)
    const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(accessToken) })
    assert.equal(me.json().emailVerified, true)
    const types = await auditTypes(t, user.id)
    assert.ok(types.includes('email.verification_sent') && types.includes('email.verified'), types.join())
  })

  test('a used link is refused with 400 verification_token_invalid', async () => {
    const { email } = await register(t.app)
    const token = await verificationToken(t, email)
    assert.equal((await verify(t, token)).statusCode, 200)
    const again = await verify(t, token)
    assert.equal(again.statusCode, 400)
    assert.equal(again.json().code, 'verification_token_invalid')
    assert.match(again.headers['content-type'] as string, /^application\/problem\+json/)
  })

  test('a link expires after 24 hours', async () => {
    const { email } = await register(t.app)
    const token = await verificationToken(t, email)
    t.clock.advance(DAY_MS + 1)
    const res = await verify(t, token)
    assert.equal(res.statusCode, 400)
    assert.equal(res.json().code, 'verification_token_invalid')
  })

  test('two concurrent uses of one link: exactly one wins', async () => {
    const { email } = await register(t.app)
    const token = await verificationToken(t, email)
    const results = await Promise.all([verify(t, token), verify(t, token), verify(t, token)])
    assert.deepEqual(
      results.map((r) => r.statusCode).sort(),
      [200, 400, 400],
      results.map((r) => r.body).join('\n'),
    )
  })

  test('unknown and malformed tokens', async () => {
    const unknown = await verify(t, randomToken())
    assert.equal(unknown.statusCode, 400)
    assert.equal(unknown.json().code, 'verification_token_invalid')
    const malformed = await verify(t, 'not a token')
    assert.equal(malformed.statusCode, 400)
    assert.equal(malformed.json().code, 'validation_failed')
  })

  test('resend answers 202 with one body for unknown, unverified and verified addresses', async () => {
    const unverified = await register(t.app)
    const verified = await register(t.app)
    await verify(t, await verificationToken(t, verified.email))
    const unknownEmail = uniqueEmail('nobody')
    await t.mailer.idle()
    const mailCount = async (email: string) => (await mailTo(t.dataDir, email)).length
    const counts = [await mailCount(unverified.email), await mailCount(verified.email)]

    const answers = await Promise.all([
      resend(t, unverified.email),
      resend(t, verified.email),
      resend(t, unknownEmail),
    ])
    for (const res of answers) {
      assert.equal(res.statusCode, 202)
      assert.equal(res.headers['content-type'], answers[0]!.headers['content-type'])
      assert.equal(res.body, answers[0]!.body)
    }
    await t.mailer.idle()
    assert.equal(await mailCount(unverified.email), counts[0]! + 1, 'a new link for the unverified account')
    assert.equal(await mailCount(verified.email), counts[1], 'nothing for a verified account')
    assert.equal(await mailCount(unknownEmail), 0, 'nothing for an unknown address')

    // Both links work: resending does not cut short the first one.
    const res = await verify(t, await verificationToken(t, unverified.email))
    assert.equal(res.statusCode, 200)
  })

  test('resend is rate limited per address, whether or not it has an account', async () => {
    const unknownEmail = uniqueEmail('flood')
    const statuses: number[] = []
    for (let i = 0; i < 6; i++)
      statuses.push((await resend(t, unknownEmail, `198.51.100.${20 + i}`)).statusCode)
    assert.deepEqual(statuses, [202, 202, 202, 202, 202, 429])
    assert.equal((await resend(t, uniqueEmail('other'), '198.51.100.40')).statusCode, 202)
  })
})

describe('requireVerifiedEmail', () => {
  let t: TestApp
  before(async () => {
    t = await buildTestApp({ config: { requireVerifiedEmail: true } })
  })
  after(() => t.close())

  test('register answers 201 without tokens; sign-in is 403 email_not_verified until the link is followed', async () => {
    const email = uniqueEmail('strict')
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/register',
      payload: { email, password: STRONG_PASSWORD },
    })
    assert.equal(res.statusCode, 201, res.body)
    const body = res.json()
    assert.equal(body.verificationRequired, true)
    assert.equal(body.user.email, email)
    assert.equal(body.user.emailVerified, false)
    assert.equal(body.accessToken, undefined)
    assert.equal(body.refreshToken, undefined)

    const blocked = await login(t.app, email, STRONG_PASSWORD)
    assert.equal(blocked.statusCode, 403)
    assert.equal(blocked.json().code, 'email_not_verified')
    // A wrong password learns nothing about the verification state.
    const wrong = await login(t.app, email, 'not the password at all')
    assert.equal(wrong.statusCode, 401)
    assert.equal(wrong.json().code, 'invalid_credentials')

    assert.equal((await verify(t, await verificationToken(t, email))).statusCode, 200)
    const allowed = await login(t.app, email, STRONG_PASSWORD)
    assert.equal(allowed.statusCode, 200, allowed.body)
    assert.ok(allowed.json().accessToken)
  })
})

describe('changing the email address', () => {
  let t: TestApp
  before(async () => {
    t = await buildTestApp()
  })
  after(() => t.close())

  function changeEmail(accessToken: string, newEmail: string, password = STRONG_PASSWORD) {
    return t.app.inject({
      method: 'POST',
      url: '/v1/me/email',
      headers: bearer(accessToken),
      payload: { newEmail, password },
    })
  }

  test('a link goes to the new address; the change happens when it is followed; the old address is told', async () => {
    const { email, accessToken, user } = await register(t.app)
    const newEmail = uniqueEmail('Moved')
    const res = await changeEmail(accessToken, newEmail)
    assert.equal(res.statusCode, 202, res.body)
    assert.deepEqual(res.json(), { pendingEmail: newEmail })

    const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(accessToken) })
    assert.equal(me.json().email, email, 'unchanged until the new address is confirmed')

    const done = await verify(t, await verificationToken(t, newEmail))
    assert.equal(done.statusCode, 200, done.body)
    assert.equal(done.json().email, newEmail)
    assert.equal(done.json().emailVerified, true)

    await t.mailer.idle()
    const notice = (await mailTo(t.dataDir, email)).find((m) =>
      m.subject.includes('email address was changed'),
    )
    assert.ok(notice, 'the old address gets a notice')
    assert.ok(notice.text.includes(newEmail))

    assert.equal((await login(t.app, newEmail, STRONG_PASSWORD)).statusCode, 200)
    assert.equal((await login(t.app, email, STRONG_PASSWORD)).statusCode, 401)
    const types = await auditTypes(t, user.id)
    assert.ok(types.includes('email.change_requested') && types.includes('email.changed'), types.join())
  })

  test('409 email_taken when the new address was taken before the link is followed', async () => {
    const { email, accessToken } = await register(t.app)
    const newEmail = uniqueEmail('contested')
    assert.equal((await changeEmail(accessToken, newEmail)).statusCode, 202)
    const token = await verificationToken(t, newEmail)
    await register(t.app, { email: newEmail })
    const res = await verify(t, token)
    assert.equal(res.statusCode, 409)
    assert.equal(res.json().code, 'email_taken')
    const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(accessToken) })
    assert.equal(me.json().email, email)
  })

  test('the password is required, and taken or unchanged addresses are refused at once', async () => {
    const { email, accessToken } = await register(t.app)
    const other = await register(t.app)
    const wrong = await changeEmail(accessToken, uniqueEmail(), 'not my password')
    assert.equal(wrong.statusCode, 403)
    assert.equal(wrong.json().code, 'invalid_current_password')
    const taken = await changeEmail(accessToken, other.email.toUpperCase())
    assert.equal(taken.statusCode, 409)
    assert.equal(taken.json().code, 'email_taken')
    const same = await changeEmail(accessToken, ` ${email.toUpperCase()} `)
    assert.equal(same.statusCode, 400)
    assert.equal(same.json().code, 'email_unchanged')
    const anonymous = await t.app.inject({
      method: 'POST',
      url: '/v1/me/email',
      payload: { newEmail: uniqueEmail(), password: STRONG_PASSWORD },
    })
    assert.equal(anonymous.statusCode, 401)
  })

  test('only the latest requested address can be confirmed', async () => {
    const { accessToken } = await register(t.app)
    const first = uniqueEmail('first')
    const second = uniqueEmail('second')
    await changeEmail(accessToken, first)
    const firstToken = await verificationToken(t, first)
    await changeEmail(accessToken, second)
    assert.equal((await verify(t, firstToken)).statusCode, 400)
    const res = await verify(t, await verificationToken(t, second))
    assert.equal(res.json().email, second)
  })

  test('a verification link for the old address dies once the address has changed', async () => {
    const { email, accessToken } = await register(t.app)
    const oldLink = await verificationToken(t, email)
    const newEmail = uniqueEmail('newer')
    await changeEmail(accessToken, newEmail)
    assert.equal((await verify(t, await verificationToken(t, newEmail))).statusCode, 200)
    const res = await verify(t, oldLink)
    assert.equal(res.statusCode, 400)
    assert.equal(res.json().code, 'verification_token_invalid')
  })
})
