/** Creates real accounts and sessions through the HTTP API (and roles through the accounts service). */
import assert from 'node:assert/strict'
import type { FastifyInstance } from 'fastify'
import type { Kysely } from 'kysely'
import { Secret, TOTP } from 'otpauth'
import { createAccountService } from '../src/accounts/service.ts'
import type { Clock } from '../src/core/clock.ts'
import type { DB } from '../src/core/db-schema.ts'
import { buildTestApp, type TestApp } from './harness.ts'

let counter = 0

export function uniqueEmail(prefix = 'user'): string {
  counter += 1
  return `${prefix}.${process.pid}.${counter}@example.com`
}

export const STRONG_PASSWORD = 'correct horse battery staple'

export interface TokenBody {
  user: { id: string; email: string; emailVerified: boolean; name: string | null }
  accessToken: string
  refreshToken: string
  tokenType: 'Bearer'
  expiresIn: number
}

export async function register(
  app: FastifyInstance,
  input: { email?: string; password?: string; name?: string } = {},
  ip = '203.0.113.1',
): Promise<TokenBody & { email: string; password: string }> {
  const email = input.email ?? uniqueEmail()
  const password = input.password ?? STRONG_PASSWORD
  const res = await app.inject({
    method: 'POST',
    url: '/v1/auth/register',
    payload: { email, password, ...(input.name ? { name: input.name } : {}) },
    remoteAddress: ip,
  })
  assert.equal(res.statusCode, 201, res.body)
  return { ...(res.json() as TokenBody), email, password }
}

export async function login(app: FastifyInstance, email: string, password: string, ip = '203.0.113.1') {
  return app.inject({
    method: 'POST',
    url: '/v1/auth/login',
    payload: { email, password },
    remoteAddress: ip,
  })
}

export function bearer(token: string) {
  return { authorization: `Bearer ${token}` }
}

/** Asserts that these access tokens and this refresh token stopped working (401). */
export async function assertSignedOut(app: FastifyInstance, accessTokens: string[], refreshToken: string) {
  for (const token of accessTokens) {
    const me = await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) })
    assert.equal(me.statusCode, 401, 'access token still works')
  }
  const refresh = await app.inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken } })
  assert.equal(refresh.statusCode, 401, 'refresh token still works')
}

/** The TOTP code an authenticator app would show at `timestamp` (epoch ms). */
export function totpCode(secret: string, timestamp: number): string {
  return new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' }).generate({
    timestamp,
  })
}

/** Activates TOTP for the signed-in user at the app's clock; returns the secret and backup codes. */
export async function enrolTotp(t: { app: FastifyInstance; clock: { now(): number } }, accessToken: string) {
  const start = await t.app.inject({ method: 'POST', url: '/v1/me/mfa/totp', headers: bearer(accessToken) })
  assert.equal(start.statusCode, 200, start.body)
  const { secret } = start.json() as { secret: string }
  const verify = await t.app.inject({
    method: 'POST',
    url: '/v1/me/mfa/totp/verify',
    headers: bearer(accessToken),
    payload: { code: totpCode(secret, t.clock.now()), label: 'Phone' },
  })
  assert.equal(verify.statusCode, 200, verify.body)
  return { secret, backupCodes: (verify.json() as { backupCodes: string[] }).backupCodes }
}

/** Grants the admin role through the accounts service (as `tessera admin create` does). */
export async function grantAdmin(t: { database: { db: Kysely<DB> }; clock: Clock }, accountId: string) {
  await createAccountService({ db: t.database.db, clock: t.clock }).grantRole(accountId, 'admin')
}

/** A new administrator, signed in after the grant so that the token carries `roles: ["admin"]`. */
export async function registerAdmin(t: { app: FastifyInstance; database: { db: Kysely<DB> }; clock: Clock }) {
  const user = await register(t.app, { email: uniqueEmail('admin') })
  await grantAdmin(t, user.user.id)
  const res = await login(t.app, user.email, user.password)
  assert.equal(res.statusCode, 200, res.body)
  return { ...user, ...(res.json() as TokenBody) }
}

export type Admin = Awaited<ReturnType<typeof registerAdmin>>

/** A test app and a signed-in administrator: the set-up of every admin API test. */
export async function buildAdminTestApp(): Promise<{ t: TestApp; admin: Admin }> {
  const t = await buildTestApp()
  return { t, admin: await registerAdmin(t) }
}
