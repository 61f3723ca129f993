/** Passkey ceremonies through the HTTP API for the passkey tests, signed by the software authenticator. */
import assert from 'node:assert/strict'
import { bearer, login, register } from './factories.ts'
import type { TestApp } from './harness.ts'
import { createSoftwareAuthenticator, type SoftwareAuthenticator } from './webauthn-authenticator.ts'

export type User = Awaited<ReturnType<typeof register>>

type App = Pick<TestApp, 'app'>

export async function addPasskey(t: App, user: User, authenticator: SoftwareAuthenticator, label?: string) {
  const options = await t.app.inject({
    method: 'POST',
    url: '/v1/me/passkeys/options',
    headers: bearer(user.accessToken),
  })
  assert.equal(options.statusCode, 200, options.body)
  return t.app.inject({
    method: 'POST',
    url: '/v1/me/passkeys',
    headers: bearer(user.accessToken),
    payload: { credential: authenticator.register(options.json()), ...(label ? { label } : {}) },
  })
}

export async function userWithPasskey(t: App) {
  const user = await register(t.app)
  const authenticator = createSoftwareAuthenticator()
  const added = await addPasskey(t, user, authenticator, 'Laptop')
  assert.equal(added.statusCode, 201, added.body)
  return { user, authenticator, passkeyId: added.json().passkey.id as string }
}

export async function passwordlessOptions(t: App) {
  const res = await t.app.inject({ method: 'POST', url: '/v1/auth/passkey/options' })
  assert.equal(res.statusCode, 200, res.body)
  return res.json() as { challengeId: string; options: { challenge: string; rpId: string } }
}

export const passwordlessVerify = (t: App, challengeId: string, credential: Record<string, unknown>) =>
  t.app.inject({ method: 'POST', url: '/v1/auth/passkey/verify', payload: { challengeId, credential } })

/** Password, then the passkey step: returns the mfaToken and the options for it. */
export async function mfaOptions(t: App, user: User) {
  const step = (await login(t.app, user.email, user.password)).json()
  assert.equal(step.mfaRequired, true)
  const options = await t.app.inject({
    method: 'POST',
    url: '/v1/auth/mfa/passkey/options',
    payload: { mfaToken: step.mfaToken },
  })
  assert.equal(options.statusCode, 200, options.body)
  return { mfaToken: step.mfaToken as string, methods: step.methods as string[], options: options.json() }
}

export const completeMfa = (t: App, mfaToken: string, credential: Record<string, unknown>) =>
  t.app.inject({
    method: 'POST',
    url: '/v1/auth/mfa',
    payload: { mfaToken, method: 'passkey', credential },
  })

export async function auditTypes(t: Pick<TestApp, 'database'>, accountId: string) {
  const rows = await t.database.db
    .selectFrom('audit_events')
    .select(['type', 'data'])
    .where('account_id', '=', accountId)
    .orderBy('occurred_at')
    .execute()
  return rows.map((r) => ({ type: r.type, data: JSON.parse(r.data) as Record<string, unknown> }))
}
