/** SMS enrolment and code helpers for the SMS tests, against the fake Twilio in fake-twilio.ts. */
import assert from 'node:assert/strict'
import { bearer } from './factories.ts'
import type { FakeTwilio } from './fake-twilio.ts'
import type { TestApp } from './harness.ts'

let numbers = 0
/** A fresh number per use, so per-number send limits of one test do not touch another. */
export function phoneNumber(): string {
  numbers += 1
  return `+1555${String(process.pid % 1000).padStart(3, '0')}${String(numbers).padStart(4, '0')}`
}

type App = Pick<TestApp, 'app'>

export async function startSmsEnrolment(t: App, accessToken: string, phone: string) {
  return t.app.inject({
    method: 'POST',
    url: '/v1/me/mfa/sms',
    headers: bearer(accessToken),
    payload: { phoneNumber: phone },
  })
}

export async function confirmSms(t: App, accessToken: string, code: string) {
  return t.app.inject({
    method: 'POST',
    url: '/v1/me/mfa/sms/verify',
    headers: bearer(accessToken),
    payload: { code },
  })
}

/** Enrols `phone` for the user, reading the code from the fake Twilio's outbox. */
export async function enrolSms(t: App, fake: FakeTwilio, accessToken: string, phone = phoneNumber()) {
  const start = await startSmsEnrolment(t, accessToken, phone)
  assert.equal(start.statusCode, 200, start.body)
  const done = await confirmSms(t, accessToken, fake.codeFor(phone))
  assert.equal(done.statusCode, 200, done.body)
  return { phone, ...(done.json() as { factorId: string; backupCodes?: string[] }) }
}

export async function reauthenticate(t: App, accessToken: string, code: string) {
  return t.app.inject({
    method: 'POST',
    url: '/v1/me/reauthenticate',
    headers: bearer(accessToken),
    payload: { method: 'sms', code },
  })
}

export async function sendReauthCode(t: App, accessToken: string) {
  return t.app.inject({ method: 'POST', url: '/v1/me/mfa/sms/send', headers: bearer(accessToken) })
}
