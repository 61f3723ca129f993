import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { bearer, login, register, STRONG_PASSWORD, uniqueEmail } from '../../test/factories.ts'
import { buildTestApp, type TestApp } from '../../test/harness.ts'
import { linkIn, mailTo, tokenIn } from '../../test/mail.ts'
import { createMailer, type Mailer } from '../core/mailer.ts'

const PUBLIC_URL = 'http://localhost:3000'
const NEW_PASSWORD = 'a brand new passphrase'
const QUIET = { info() {}, warn() {}, error() {} }

function forgot(t: TestApp, email: string, headers: Record<string, string> = {}, ip = '192.0.2.10') {
  return t.app.inject({
    method: 'POST',
    url: '/v1/auth/password/forgot',
    payload: { email },
    headers,
    remoteAddress: ip,
  })
}

function reset(t: TestApp, token: string, newPassword = NEW_PASSWORD) {
  return t.app.inject({ method: 'POST', url: '/v1/auth/password/reset', payload: { token, newPassword } })
}

async function resetMails(t: TestApp, email: string) {
  return (await mailTo(t.dataDir, email)).filter((m) => m.subject.startsWith('Reset your'))
}

/** Asks for a reset link and returns its token. */
async function resetToken(t: TestApp, email: string): Promise<string> {
  assert.equal((await forgot(t, email)).statusCode, 202)
  await t.mailer.idle()
  const mail = (await resetMails(t, email)).at(-1)
  assert.ok(mail, `no reset mail to ${email}`)
  return tokenIn(mail, '/reset-password')
}

describe('password reset', () => {
  let t: TestApp
  before(async () => {
    t = await buildTestApp()
  })
  after(() => t.close())

  test('forgot-password enumeration: status, content type and body are identical for known and unknown addresses', async () => {
    const { email } = await register(t.app)
    const known = await forgot(t, email)
    const unknown = await forgot(t, uniqueEmail('ghost'))
    assert.equal(known.statusCode, 202)
    assert.equal(unknown.statusCode, known.statusCode)
    assert.equal(unknown.headers['content-type'], known.headers['content-type'])
    assert.equal(unknown.headers['content-length'], known.headers['content-length'])
    assert.equal(unknown.body, known.body)
    const strip = (h: Record<string, unknown>) =>
      Object.keys(h)
        .filter((k) => !['x-request-id', 'date'].includes(k))
        .sort()
    assert.deepEqual(strip(unknown.headers), strip(known.headers))
  })

  test('forgot-password enumeration: the response does not wait for the look-up or the mail', async () => {
    const { email, user } = await register(t.app)
    await t.mailer.idle()
    const res = await forgot(t, email)
    assert.equal(res.statusCode, 202)
    // Answered, yet no reset mail: it is sent only by work that runs after the response.
    assert.equal((await resetMails(t, email)).length, 0)
    await t.mailer.idle()
    assert.equal((await resetMails(t, email)).length, 1)
    const rows = await t.database.db
      .selectFrom('audit_events')
      .select('type')
      .where('account_id', '=', user.id)
      .where('type', '=', 'password.reset_requested')
      .execute()
    assert.equal(rows.length, 1)
  })

  test('forged Host header: the link is built from the configured public URL', async () => {
    const { email } = await register(t.app)
    const res = await forgot(t, email, { host: 'evil.example', 'x-forwarded-host': 'evil.example' })
    assert.equal(res.statusCode, 202)
    await t.mailer.idle()
    const mail = (await resetMails(t, email)).at(-1)!
    const link = linkIn(mail, '/reset-password')
    assert.ok(link.href.startsWith(`${PUBLIC_URL}/reset-password?token=`), link.href)
    assert.ok(!mail.raw.includes('evil.example'))
  })

  test('reset token reuse: a used link is refused', async () => {
    const { email } = await register(t.app)
    const token = await resetToken(t, email)
    assert.equal((await reset(t, token)).statusCode, 204)
    const again = await reset(t, token, 'yet another passphrase')
    assert.equal(again.statusCode, 400)
    assert.equal(again.json().code, 'reset_token_invalid')
    assert.equal((await login(t.app, email, NEW_PASSWORD)).statusCode, 200)
  })

  test('reset token expiry: refused once 15 minutes have passed', async () => {
    const { email } = await register(t.app)
    const token = await resetToken(t, email)
    t.clock.advance(15 * 60 * 1000)
    const res = await reset(t, token)
    assert.equal(res.statusCode, 400)
    assert.equal(res.json().code, 'reset_token_invalid')
    assert.equal((await login(t.app, email, STRONG_PASSWORD)).statusCode, 200, 'password unchanged')
  })

  test('concurrent reset: of two resets with one link exactly one succeeds', async () => {
    const { email } = await register(t.app)
    const token = await resetToken(t, email)
    const results = await Promise.all([
      reset(t, token, 'first racing passphrase'),
      reset(t, token, 'second racing passphrase'),
    ])
    assert.deepEqual(
      results.map((r) => r.statusCode).sort(),
      [204, 400],
      results.map((r) => r.body).join('\n'),
    )
    const winner = results[0]!.statusCode === 204 ? 'first racing passphrase' : 'second racing passphrase'
    const loser = winner.startsWith('first') ? 'second racing passphrase' : 'first racing passphrase'
    assert.equal((await login(t.app, email, winner)).statusCode, 200)
    assert.equal((await login(t.app, email, loser)).statusCode, 401)
  })

  test('reset ends every session, the new password works, and the owner is told', async () => {
    const first = await register(t.app)
    const second = (await login(t.app, first.email, STRONG_PASSWORD)).json()
    const token = await resetToken(t, first.email)
    assert.equal((await reset(t, token)).statusCode, 204)

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
    const signedIn = await login(t.app, first.email, NEW_PASSWORD)
    assert.equal(signedIn.statusCode, 200)
    assert.equal(signedIn.json().user.emailVerified, true, 'following the link proved the address')

    await t.mailer.idle()
    const notice = (await mailTo(t.dataDir, first.email)).filter((m) =>
      m.subject.includes('password was changed'),
    )
    assert.equal(notice.length, 1)
    const rows = await t.database.db
      .selectFrom('audit_events')
      .select(['type', 'data'])
      .where('account_id', '=', first.user.id)
      .where('type', '=', 'password.reset')
      .execute()
    assert.equal(rows.length, 1)
    assert.equal(JSON.parse(rows[0]!.data).endedSessions, 2)
  })

  test('a weak new password is 400 weak_password and the link stays usable', async () => {
    const { email } = await register(t.app)
    const token = await resetToken(t, email)
    const weak = await reset(t, token, 'password123')
    assert.equal(weak.statusCode, 400)
    assert.equal(weak.json().code, 'weak_password')
    const short = await reset(t, token, 'short')
    assert.equal(short.statusCode, 400)
    assert.equal(short.json().code, 'validation_failed')
    assert.equal((await reset(t, token)).statusCode, 204)
  })

  test('a newer link retires older ones', async () => {
    const { email } = await register(t.app)
    const older = await resetToken(t, email)
    const newer = await resetToken(t, email)
    assert.notEqual(older, newer)
    assert.equal((await reset(t, older)).json().code, 'reset_token_invalid')
    assert.equal((await reset(t, newer)).statusCode, 204)
  })

  test('a link mailed to an address the account no longer has is refused', async () => {
    const { email, user } = await register(t.app)
    const token = await resetToken(t, email)
    // Move the account to another address directly (the email-change flow has its own tests).
    const moved = uniqueEmail('moved')
    await t.database.db
      .updateTable('accounts')
      .set({ email: moved, email_key: moved.toLowerCase() })
      .where('id', '=', user.id)
      .execute()
    assert.equal((await reset(t, token)).json().code, 'reset_token_invalid')
  })

  test('forgot is rate limited per address, known or not', async () => {
    const { email } = await register(t.app)
    for (const address of [email, uniqueEmail('unknown')]) {
      const statuses: number[] = []
      for (let i = 0; i < 6; i++)
        statuses.push((await forgot(t, address, {}, `192.0.2.${50 + i}`)).statusCode)
      assert.deepEqual(statuses, [202, 202, 202, 202, 202, 429], address)
    }
  })

  test('changing the password (POST /v1/me/password) also mails a notice', async () => {
    const { email, accessToken } = await register(t.app)
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/me/password',
      headers: bearer(accessToken),
      payload: { currentPassword: STRONG_PASSWORD, newPassword: NEW_PASSWORD },
    })
    assert.equal(res.statusCode, 204, res.body)
    await t.mailer.idle()
    assert.equal(
      (await mailTo(t.dataDir, email)).filter((m) => m.subject.includes('password was changed')).length,
      1,
    )
  })
})

describe('password reset: the request path never touches the account', () => {
  let t: TestApp
  /** Deferred tasks are held here until the test releases them. */
  const held: (() => void)[] = []
  before(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tessera-reset-'))
    const real = createMailer(
      { dataDir, mailFrom: 'Tessera <no-reply@localhost>', smtpUrl: undefined },
      QUIET,
    )
    const gated: Mailer = {
      ...real,
      defer: (label, task) => {
        held.push(() => real.defer(label, task))
      },
    }
    t = await buildTestApp({ dataDir, mailer: gated })
  })
  after(() => t.close())

  test('forgot answers before any look-up has run, for known and unknown addresses alike', async () => {
    const { email, user } = await register(t.app)
    const known = await forgot(t, email)
    const unknown = await forgot(t, uniqueEmail('nobody'))
    assert.equal(known.statusCode, 202)
    assert.equal(unknown.body, known.body)
    // Both requests have been answered while their work has not even started.
    assert.equal(held.length, 2)
    const tokens = () =>
      t.database.db
        .selectFrom('one_time_tokens')
        .select('id')
        .where('account_id', '=', user.id)
        .where('purpose', '=', 'reset_password')
        .execute()
    assert.equal((await tokens()).length, 0)

    for (const release of held.splice(0)) release()
    await t.mailer.idle()
    assert.equal((await tokens()).length, 1)
    assert.equal((await resetMails(t, email)).length, 1)
  })
})
