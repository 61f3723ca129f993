import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { decodeJwt } from 'jose'
import { bearer, enrolTotp, login, register } from '../../test/factories.ts'
import {
  FAKE_ACCOUNT_SID,
  FAKE_AUTH_TOKEN,
  type FakeTwilio,
  startFakeTwilio,
} from '../../test/fake-twilio.ts'
import { buildTestApp, type TestApp } from '../../test/harness.ts'
import { createSharedDatabase } from '../../test/shared-database.ts'
import {
  confirmSms,
  enrolSms,
  phoneNumber,
  reauthenticate,
  sendReauthCode,
  startSmsEnrolment,
} from '../../test/sms.ts'

/** Another six-digit code than `code`. */
const otherCode = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0')

describe('MFA: SMS codes (against a local Twilio stand-in)', () => {
  let fake: FakeTwilio
  let t: TestApp
  before(async () => {
    fake = await startFakeTwilio()
    t = await buildTestApp({
      config: { ...fake.config, authRateLimitPerMinute: 10_000, smsSendsPerIpPerHour: 10_000 },
    })
  })
  after(async () => {
    await t.close()
    await fake.close()
  })

  test('enrolment texts a code through Twilio and activates the factor with it', async () => {
    const user = await register(t.app)
    const phone = '+15557654567'
    const start = await startSmsEnrolment(t, user.accessToken, phone)
    assert.equal(start.statusCode, 200, start.body)
    assert.deepEqual(start.json(), { sentTo: '+•••••••4567', expiresIn: 300 })

    const message = fake.lastTo(phone)!
    assert.match(message.sid, /^SM[0-9a-f]{32}$/)
    assert.equal(message.from, fake.config.twilioFrom)
    const code = fake.codeFor(phone)
    assert.match(code, /^\d{6}$/)
    assert.match(message.body, /Tessera/)
    assert.ok(message.body.endsWith(`@localhost #${code}`), 'origin-bound (WebOTP) last line')

    const pending = await t.app.inject({
      method: 'GET',
      url: '/v1/me/mfa',
      headers: bearer(user.accessToken),
    })
    assert.equal(pending.json().enabled, false, 'a pending factor is not a factor')

    const wrong = await confirmSms(t, user.accessToken, otherCode(code))
    assert.equal(wrong.statusCode, 400)
    assert.equal(wrong.json().code, 'invalid_mfa_code')

    const ok = await confirmSms(t, user.accessToken, code)
    assert.equal(ok.statusCode, 200, ok.body)
    assert.equal(ok.json().backupCodes.length, 10, 'the first factor comes with backup codes')

    const status = await t.app.inject({ method: 'GET', url: '/v1/me/mfa', headers: bearer(user.accessToken) })
    assert.equal(status.json().enabled, true)
    assert.deepEqual(
      status.json().methods.map((m: { type: string; label: string }) => [m.type, m.label]),
      [['sms', '+•••••••4567']],
    )
    assert.equal(status.json().backupCodesRemaining, 10)

    const row = await t.database.db
      .selectFrom('mfa_factors')
      .selectAll()
      .where('account_id', '=', user.user.id)
      .executeTakeFirstOrThrow()
    assert.ok(!row.secret.includes('5557654567'), 'the phone number is encrypted at rest')
    const codes = await t.database.db
      .selectFrom('sms_codes')
      .selectAll()
      .where('factor_id', '=', row.id)
      .execute()
    assert.ok(
      codes.every((c) => !c.code_hash.includes(code)),
      'codes are stored as keyed hashes',
    )
    const audit = await t.database.db
      .selectFrom('audit_events')
      .select(['type', 'data'])
      .where('account_id', '=', user.user.id)
      .where('type', '=', 'mfa.factor_added')
      .execute()
    assert.deepEqual(JSON.parse(audit[0]!.data), { type: 'sms', factorId: row.id })

    const again = await startSmsEnrolment(t, user.accessToken, phoneNumber())
    assert.equal(again.statusCode, 409, 'one phone per account; remove it (with re-authentication) first')
    assert.equal(again.json().code, 'sms_factor_exists')
  })

  test('a second enrolment replaces the unfinished one: only the latest number and code work', async () => {
    const user = await register(t.app)
    const first = phoneNumber()
    const second = phoneNumber()
    assert.equal((await startSmsEnrolment(t, user.accessToken, first)).statusCode, 200)
    const firstCode = fake.codeFor(first)
    assert.equal((await startSmsEnrolment(t, user.accessToken, second)).statusCode, 200)
    if (firstCode !== fake.codeFor(second)) {
      const stale = await confirmSms(t, user.accessToken, firstCode)
      assert.equal(stale.statusCode, 400)
      assert.equal(stale.json().code, 'invalid_mfa_code')
    }
    const ok = await confirmSms(t, user.accessToken, fake.codeFor(second))
    assert.equal(ok.statusCode, 200, ok.body)
    const factors = await t.database.db
      .selectFrom('mfa_factors')
      .select('status')
      .where('account_id', '=', user.user.id)
      .execute()
    assert.deepEqual(factors, [{ status: 'active' }])
  })

  test('after TOTP, an SMS factor brings no new backup codes', async () => {
    const user = await register(t.app)
    await enrolTotp(t, user.accessToken)
    const { backupCodes } = await enrolSms(t, fake, user.accessToken)
    assert.equal(backupCodes, undefined)
  })

  test('sign-in with an SMS second factor: amr records pwd, sms and mfa', async () => {
    const user = await register(t.app)
    const { phone } = await enrolSms(t, fake, user.accessToken)

    const first = await login(t.app, user.email, user.password)
    assert.equal(first.statusCode, 200, first.body)
    const step = first.json()
    assert.equal(step.mfaRequired, true)
    assert.deepEqual(step.methods, ['sms', 'backup_code'])

    const sent = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/mfa/sms',
      payload: { mfaToken: step.mfaToken },
    })
    assert.equal(sent.statusCode, 200, sent.body)
    assert.equal(sent.json().sentTo, `+•••••••${phone.slice(-4)}`)

    const done = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/mfa',
      payload: { mfaToken: step.mfaToken, method: 'sms', code: fake.codeFor(phone) },
    })
    assert.equal(done.statusCode, 200, done.body)
    assert.deepEqual(decodeJwt(done.json().accessToken).amr, ['pwd', 'sms', 'mfa'])

    const bogus = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/mfa/sms',
      payload: { mfaToken: 'x.y' },
    })
    assert.equal(bogus.statusCode, 401, 'no code without a live mfaToken')
    assert.equal(bogus.json().code, 'invalid_mfa_token')
    const used = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/mfa/sms',
      payload: { mfaToken: step.mfaToken },
    })
    assert.equal(used.statusCode, 401, 'nor with a consumed one')
  })

  test('an account without a phone gets no sign-in code', async () => {
    const user = await register(t.app)
    await enrolTotp(t, user.accessToken)
    const step = (await login(t.app, user.email, user.password)).json()
    const sent = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/mfa/sms',
      payload: { mfaToken: step.mfaToken },
    })
    assert.equal(sent.statusCode, 400)
    assert.equal(sent.json().code, 'mfa_method_unavailable')
  })

  test('wrong SMS codes count on the mfaToken: it dies after 5', async () => {
    const user = await register(t.app)
    const { phone } = await enrolSms(t, fake, user.accessToken)
    const step = (await login(t.app, user.email, user.password)).json()
    await t.app.inject({ method: 'POST', url: '/v1/auth/mfa/sms', payload: { mfaToken: step.mfaToken } })
    const wrong = otherCode(fake.codeFor(phone))
    const statuses: number[] = []
    for (let i = 0; i < 5; i++) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/auth/mfa',
        payload: { mfaToken: step.mfaToken, method: 'sms', code: wrong },
      })
      statuses.push(res.statusCode)
    }
    assert.deepEqual(statuses, [400, 400, 400, 400, 401])
    const right = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/mfa',
      payload: { mfaToken: step.mfaToken, method: 'sms', code: fake.codeFor(phone) },
    })
    assert.equal(right.statusCode, 401, 'even the right code cannot revive a dead mfaToken')
  })

  test('re-authentication with an SMS code unlocks removing the factor', async () => {
    const user = await register(t.app)
    const { phone, factorId } = await enrolSms(t, fake, user.accessToken)
    t.clock.advance(10 * 60 * 1000) // the sign-in is no longer recent

    const refused = await t.app.inject({
      method: 'DELETE',
      url: `/v1/me/mfa/factors/${factorId}`,
      headers: bearer(user.accessToken),
    })
    assert.equal(refused.statusCode, 403)
    assert.equal(refused.json().code, 'reauthentication_required')

    const sent = await sendReauthCode(t, user.accessToken)
    assert.equal(sent.statusCode, 200, sent.body)
    const reauth = await reauthenticate(t, user.accessToken, fake.codeFor(phone))
    assert.equal(reauth.statusCode, 204, reauth.body)

    const removed = await t.app.inject({
      method: 'DELETE',
      url: `/v1/me/mfa/factors/${factorId}`,
      headers: bearer(user.accessToken),
    })
    assert.equal(removed.statusCode, 204, removed.body)
    const plain = await login(t.app, user.email, user.password)
    assert.ok(plain.json().accessToken, 'no second factor left')
  })

  test('phone numbers must be E.164', async () => {
    const user = await register(t.app)
    for (const bad of [
      '5551234567',
      '+0155512345',
      '+1 555 123 4567',
      '+1555',
      '+1234567890123456',
      '+1555abc4567',
      '',
    ]) {
      const res = await startSmsEnrolment(t, user.accessToken, bad)
      assert.equal(res.statusCode, 400, bad)
      assert.equal(res.json().code, 'validation_failed')
      assert.equal(res.json().errors[0].pointer, '/body/phoneNumber')
    }
    const missing = await t.app.inject({
      method: 'POST',
      url: '/v1/me/mfa/sms',
      headers: bearer(user.accessToken),
      payload: {},
    })
    assert.equal(missing.statusCode, 400)
    const noCode = await confirmSms(t, user.accessToken, '123456')
    assert.equal(noCode.statusCode, 400)
    assert.equal(noCode.json().code, 'no_pending_enrolment')
  })

  test('a provider failure is a 502 sms_delivery_failed that leaks nothing and leaves no pending factor', async () => {
    const user = await register(t.app)
    const phone = phoneNumber()
    fake.failNext(500)
    const failed = await startSmsEnrolment(t, user.accessToken, phone)
    assert.equal(failed.statusCode, 502)
    assert.equal(failed.headers['content-type'], 'application/problem+json; charset=utf-8')
    assert.equal(failed.json().code, 'sms_delivery_failed')
    assert.equal(failed.json().title, 'Bad Gateway')
    for (const secret of ['AC', 'twilio', 'Twilio', '20500', 'Internal Server Error', FAKE_ACCOUNT_SID]) {
      assert.ok(!failed.body.includes(secret), `leaks ${secret}`)
    }
    const factors = await t.database.db
      .selectFrom('mfa_factors')
      .select('id')
      .where('account_id', '=', user.user.id)
      .execute()
    assert.deepEqual(factors, [], 'nothing written')
    const verify = await confirmSms(t, user.accessToken, '123456')
    assert.equal(verify.json().code, 'no_pending_enrolment')

    // Throttled by Twilio at sign-in: the same answer.
    const { phone: enrolled } = await enrolSms(t, fake, user.accessToken, phone)
    const step = (await login(t.app, user.email, user.password)).json()
    fake.failNext(429)
    const throttled = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/mfa/sms',
      payload: { mfaToken: step.mfaToken },
    })
    assert.equal(throttled.statusCode, 502)
    assert.equal(throttled.json().code, 'sms_delivery_failed')
    const retry = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/mfa/sms',
      payload: { mfaToken: step.mfaToken },
    })
    assert.equal(retry.statusCode, 200, 'the next attempt goes through')
    const done = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/mfa',
      payload: { mfaToken: step.mfaToken, method: 'sms', code: fake.codeFor(enrolled) },
    })
    assert.equal(done.statusCode, 200, done.body)
  })

  test('the OpenAPI document lists the SMS routes', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json()
    for (const path of [
      '/v1/me/mfa/sms',
      '/v1/me/mfa/sms/verify',
      '/v1/me/mfa/sms/send',
      '/v1/auth/mfa/sms',
    ]) {
      assert.ok(doc.paths[path]?.post, path)
    }
    assert.equal(
      doc.paths['/v1/me/mfa/sms'].post.requestBody.content['application/json'].schema.properties.phoneNumber
        .pattern,
      '^\\+[1-9]\\d{6,14}$',
    )
  })
})

describe('MFA: SMS when no provider is configured', () => {
  test('the SMS endpoints answer sms_not_configured and sms is never offered', async () => {
    const fake = await startFakeTwilio()
    const shared = await createSharedDatabase()
    const withSms = await buildTestApp({
      testDatabase: shared.open(),
      dataDir: shared.dataDir,
      config: fake.config,
    })
    // Only two of the three settings: SMS stays off.
    const withoutSms = await buildTestApp({
      testDatabase: shared.open(),
      dataDir: shared.dataDir,
      config: { twilioAccountSid: FAKE_ACCOUNT_SID, twilioAuthToken: FAKE_AUTH_TOKEN },
    })
    try {
      const user = await register(withSms.app)
      await enrolTotp(withSms, user.accessToken)
      const { phone } = await enrolSms(withSms, fake, user.accessToken)
      assert.deepEqual((await login(withSms.app, user.email, user.password)).json().methods, [
        'totp',
        'sms',
        'backup_code',
      ])

      const step = (await login(withoutSms.app, user.email, user.password)).json()
      assert.deepEqual(step.methods, ['totp', 'backup_code'], 'an SMS factor from before is not offered')

      const calls = [
        { url: '/v1/me/mfa/sms', headers: bearer(user.accessToken), payload: { phoneNumber: phoneNumber() } },
        { url: '/v1/me/mfa/sms/verify', headers: bearer(user.accessToken), payload: { code: '123456' } },
        { url: '/v1/me/mfa/sms/send', headers: bearer(user.accessToken) },
        { url: '/v1/auth/mfa/sms', payload: { mfaToken: step.mfaToken } },
        { url: '/v1/auth/mfa/sms', payload: {} },
      ]
      for (const call of calls) {
        const res = await withoutSms.app.inject({ method: 'POST', ...call })
        assert.equal(res.statusCode, 404, call.url)
        assert.equal(res.json().code, 'sms_not_configured', call.url)
      }

      const sent = await withSms.app.inject({
        method: 'POST',
        url: '/v1/me/mfa/sms/send',
        headers: bearer(user.accessToken),
      })
      assert.equal(sent.statusCode, 200)
      const viaSms = await withoutSms.app.inject({
        method: 'POST',
        url: '/v1/auth/mfa',
        payload: { mfaToken: step.mfaToken, method: 'sms', code: fake.codeFor(phone) },
      })
      assert.equal(viaSms.statusCode, 400)
      assert.equal(viaSms.json().code, 'sms_not_configured')
      const reauth = await reauthenticate(withoutSms, user.accessToken, fake.codeFor(phone))
      assert.equal(reauth.statusCode, 400)
      assert.equal(reauth.json().code, 'sms_not_configured')
    } finally {
      await withSms.close()
      await withoutSms.close()
      await shared.drop()
      await fake.close()
    }
  })
})
