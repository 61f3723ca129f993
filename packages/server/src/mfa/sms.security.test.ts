import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { bearer, login, register } from '../../test/factories.ts'
import { type FakeTwilio, startFakeTwilio } from '../../test/fake-twilio.ts'
import { buildTestApp, type TestApp } from '../../test/harness.ts'
import {
  confirmSms,
  enrolSms,
  phoneNumber,
  reauthenticate,
  sendReauthCode,
  startSmsEnrolment,
} from '../../test/sms.ts'
import { SMS_CODE_TTL_MS } from './sms.ts'

describe('MFA: SMS code attacks and send limits (against a local Twilio stand-in)', () => {
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

  test('a code works once', async () => {
    const user = await register(t.app)
    const { phone } = await enrolSms(t, fake, user.accessToken)
    await sendReauthCode(t, user.accessToken)
    const code = fake.codeFor(phone)
    assert.equal((await reauthenticate(t, user.accessToken, code)).statusCode, 204)
    const reused = await reauthenticate(t, user.accessToken, code)
    assert.equal(reused.statusCode, 400)
    assert.equal(reused.json().code, 'invalid_mfa_code')
  })

  test('only the latest code is live', async () => {
    const user = await register(t.app)
    const { phone } = await enrolSms(t, fake, user.accessToken)
    await sendReauthCode(t, user.accessToken)
    const older = fake.codeFor(phone)
    await sendReauthCode(t, user.accessToken)
    const latest = fake.codeFor(phone)
    if (older !== latest) {
      const stale = await reauthenticate(t, user.accessToken, older)
      assert.equal(stale.statusCode, 400)
    }
    assert.equal((await reauthenticate(t, user.accessToken, latest)).statusCode, 204)
  })

  test('a code expires after 5 minutes', async () => {
    const user = await register(t.app)
    const { phone } = await enrolSms(t, fake, user.accessToken)
    await sendReauthCode(t, user.accessToken)
    t.clock.advance(SMS_CODE_TTL_MS - 1000)
    await sendReauthCode(t, user.accessToken)
    const code = fake.codeFor(phone)
    t.clock.advance(SMS_CODE_TTL_MS)
    const late = await reauthenticate(t, user.accessToken, code)
    assert.equal(late.statusCode, 400)
    assert.equal(late.json().code, 'invalid_mfa_code')

    // An enrolment code expires too.
    const other = await register(t.app)
    const number = phoneNumber()
    await startSmsEnrolment(t, other.accessToken, number)
    t.clock.advance(SMS_CODE_TTL_MS)
    const expired = await confirmSms(t, other.accessToken, fake.codeFor(number))
    assert.equal(expired.statusCode, 400)
    assert.equal(expired.json().code, 'invalid_mfa_code')
  })

  test("one user's code does not work for another", async () => {
    const alice = await register(t.app)
    const bob = await register(t.app)
    const a = await enrolSms(t, fake, alice.accessToken)
    await enrolSms(t, fake, bob.accessToken)
    await sendReauthCode(t, alice.accessToken)
    const alicesCode = fake.codeFor(a.phone)

    const asBob = await reauthenticate(t, bob.accessToken, alicesCode)
    assert.equal(asBob.statusCode, 400)
    assert.equal(asBob.json().code, 'invalid_mfa_code')
    assert.equal(
      (await reauthenticate(t, alice.accessToken, alicesCode)).statusCode,
      204,
      'still good for Alice',
    )

    // Nor does an enrolment code for someone else's pending number.
    const carol = await register(t.app)
    const dave = await register(t.app)
    const carolsPhone = phoneNumber()
    await startSmsEnrolment(t, carol.accessToken, carolsPhone)
    await startSmsEnrolment(t, dave.accessToken, phoneNumber())
    const stolen = await confirmSms(t, dave.accessToken, fake.codeFor(carolsPhone))
    assert.equal(stolen.statusCode, 400)
  })

  test('sending is limited per phone number (429 + Retry-After)', async () => {
    const shared = phoneNumber()
    const statuses: number[] = []
    let last: Awaited<ReturnType<typeof startSmsEnrolment>> | undefined
    for (let i = 0; i < 6; i++) {
      const user = await register(t.app) // a different account each time: only the number repeats
      last = await startSmsEnrolment(t, user.accessToken, shared)
      statuses.push(last.statusCode)
    }
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429])
    assert.equal(last!.json().code, 'rate_limited')
    assert.ok(Number(last!.headers['retry-after']) > 0)
    assert.equal(fake.messages.filter((m) => m.to === shared).length, 5, 'the sixth was never sent')
  })

  test('SMS pumping: one client IP cannot spread sends over many accounts', async () => {
    const pumped = await buildTestApp({
      config: { ...fake.config, authRateLimitPerMinute: 10_000, smsSendsPerIpPerHour: 3 },
    })
    try {
      const statuses: number[] = []
      for (let i = 0; i < 4; i++) {
        const user = await register(pumped.app, {}, '198.51.100.7')
        const res = await pumped.app.inject({
          method: 'POST',
          url: '/v1/me/mfa/sms',
          headers: bearer(user.accessToken),
          payload: { phoneNumber: phoneNumber() },
          remoteAddress: '198.51.100.7',
        })
        statuses.push(res.statusCode)
      }
      assert.deepEqual(statuses, [200, 200, 200, 429])
      const elsewhere = await register(pumped.app, {}, '198.51.100.8')
      const fromOtherIp = await pumped.app.inject({
        method: 'POST',
        url: '/v1/me/mfa/sms',
        headers: bearer(elsewhere.accessToken),
        payload: { phoneNumber: phoneNumber() },
        remoteAddress: '198.51.100.8',
      })
      assert.equal(fromOtherIp.statusCode, 200, 'another client is not affected')
    } finally {
      await pumped.close()
    }
  })

  test('sending is limited per account (429 + Retry-After), sign-in and re-authentication codes included', async () => {
    const user = await register(t.app)
    const { phone } = await enrolSms(t, fake, user.accessToken) // 1
    const statuses: number[] = []
    for (let i = 0; i < 2; i++) statuses.push((await sendReauthCode(t, user.accessToken)).statusCode) // 2, 3
    const step = (await login(t.app, user.email, user.password)).json()
    for (let i = 0; i < 3; i++) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/auth/mfa/sms',
        payload: { mfaToken: step.mfaToken },
      })
      statuses.push(res.statusCode) // 4, 5, then limited
      if (res.statusCode === 429) assert.ok(Number(res.headers['retry-after']) > 0)
    }
    assert.deepEqual(statuses, [200, 200, 200, 200, 429])
    const limited = await sendReauthCode(t, user.accessToken)
    assert.equal(limited.statusCode, 429)

    // Five different numbers from one account: the sixth is refused too.
    const other = await register(t.app)
    const enrolStatuses: number[] = []
    for (let i = 0; i < 6; i++)
      enrolStatuses.push((await startSmsEnrolment(t, other.accessToken, phoneNumber())).statusCode)
    assert.deepEqual(enrolStatuses, [200, 200, 200, 200, 200, 429])
    assert.ok(fake.messages.some((m) => m.to === phone))
  })
})
