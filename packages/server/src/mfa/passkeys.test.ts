import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { decodeJwt } from 'jose'
import { bearer, login, register } from '../../test/factories.ts'
import { buildTestApp, TEST_MASTER_KEY, type TestApp } from '../../test/harness.ts'
import {
  addPasskey,
  auditTypes,
  completeMfa,
  mfaOptions,
  passwordlessOptions,
  passwordlessVerify,
  userWithPasskey,
} from '../../test/passkeys.ts'
import { createSoftwareAuthenticator } from '../../test/webauthn-authenticator.ts'
import { loadConfig } from '../core/config.ts'

describe('passkeys (WebAuthn)', () => {
  let t: TestApp
  before(async () => {
    // Many ceremonies from one address: the per-IP limit is tested on its own app in passkeys.security.test.ts.
    t = await buildTestApp({ config: { authRateLimitPerMinute: 10_000 } })
  })
  after(() => t.close())

  describe('managing passkeys', () => {
    test('registration: options for a discoverable credential, then the first passkey brings backup codes', async () => {
      const user = await register(t.app)
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/me/passkeys/options',
        headers: bearer(user.accessToken),
      })
      const options = res.json()
      assert.equal(options.rp.id, 'localhost')
      assert.equal(options.rp.name, 'Tessera')
      assert.equal(options.user.name, user.email)
      assert.equal(Buffer.from(options.user.id, 'base64url').toString(), user.user.id)
      assert.equal(options.authenticatorSelection.residentKey, 'required')
      assert.equal(options.authenticatorSelection.userVerification, 'preferred')
      assert.equal(options.attestation, 'none')
      assert.deepEqual(options.excludeCredentials, [])

      const authenticator = createSoftwareAuthenticator({ synced: true })
      const added = await t.app.inject({
        method: 'POST',
        url: '/v1/me/passkeys',
        headers: bearer(user.accessToken),
        payload: { credential: authenticator.register(options), label: 'Phone' },
      })
      assert.equal(added.statusCode, 201, added.body)
      const body = added.json()
      assert.equal(body.passkey.label, 'Phone')
      assert.equal(body.passkey.deviceType, 'multiDevice')
      assert.equal(body.passkey.backedUp, true)
      assert.deepEqual(body.passkey.transports, ['internal'])
      assert.equal(body.backupCodes.length, 10, 'the first second factor comes with backup codes')

      const second = await addPasskey(t, user, createSoftwareAuthenticator())
      assert.equal(second.statusCode, 201, second.body)
      assert.equal(second.json().backupCodes, undefined, 'only the first factor brings backup codes')
      assert.equal(second.json().passkey.label, 'Passkey')

      const again = await t.app.inject({
        method: 'POST',
        url: '/v1/me/passkeys/options',
        headers: bearer(user.accessToken),
      })
      assert.equal(again.json().excludeCredentials.length, 2, 'existing credentials are excluded')
      assert.equal(again.json().excludeCredentials[0].id, authenticator.credentialId)

      const mfa = await t.app.inject({ method: 'GET', url: '/v1/me/mfa', headers: bearer(user.accessToken) })
      assert.equal(mfa.json().enabled, true)
      assert.deepEqual(
        mfa.json().methods.map((m: { type: string }) => m.type),
        ['passkey', 'passkey'],
      )
      assert.equal(mfa.json().backupCodesRemaining, 10)
      const added1 = (await auditTypes(t, user.user.id)).filter((e) => e.type === 'mfa.factor_added')
      assert.equal(added1.length, 2)
      assert.equal(added1[0]!.data.type, 'passkey')
    })

    test('the same authenticator cannot be registered twice', async () => {
      const { user, authenticator } = await userWithPasskey(t)
      const res = await addPasskey(t, user, authenticator)
      assert.equal(res.statusCode, 409)
      assert.equal(res.json().code, 'passkey_exists')
    })

    test('list and rename; another account cannot rename or see them', async () => {
      const { user, passkeyId } = await userWithPasskey(t)
      const list = await t.app.inject({
        method: 'GET',
        url: '/v1/me/passkeys',
        headers: bearer(user.accessToken),
      })
      assert.equal(list.statusCode, 200)
      assert.equal(list.json().passkeys.length, 1)
      assert.equal(list.json().passkeys[0].id, passkeyId)
      assert.equal(list.json().passkeys[0].label, 'Laptop')
      assert.equal(list.json().passkeys[0].credential_id, undefined, 'rows never leak')

      const renamed = await t.app.inject({
        method: 'PATCH',
        url: `/v1/me/passkeys/${passkeyId}`,
        headers: bearer(user.accessToken),
        payload: { label: 'Work laptop' },
      })
      assert.equal(renamed.statusCode, 200, renamed.body)
      assert.equal(renamed.json().label, 'Work laptop')

      const other = await register(t.app)
      const theirs = await t.app.inject({
        method: 'PATCH',
        url: `/v1/me/passkeys/${passkeyId}`,
        headers: bearer(other.accessToken),
        payload: { label: 'Mine now' },
      })
      assert.equal(theirs.statusCode, 404)
      const otherList = await t.app.inject({
        method: 'GET',
        url: '/v1/me/passkeys',
        headers: bearer(other.accessToken),
      })
      assert.deepEqual(otherList.json(), { passkeys: [] })
      const empty = await t.app.inject({
        method: 'PATCH',
        url: `/v1/me/passkeys/${passkeyId}`,
        headers: bearer(user.accessToken),
        payload: { label: '' },
      })
      assert.equal(empty.statusCode, 400)
    })

    test('adding and removing a passkey needs a recent (re-)authentication; a passkey can provide it', async () => {
      const { user, authenticator, passkeyId } = await userWithPasskey(t)
      t.clock.advance(6 * 60_000)
      const refreshed = await t.app.inject({
        method: 'POST',
        url: '/v1/auth/refresh',
        payload: { refreshToken: user.refreshToken },
      })
      const token = refreshed.json().accessToken as string

      for (const [method, url] of [
        ['DELETE', `/v1/me/passkeys/${passkeyId}`],
        ['POST', '/v1/me/passkeys/options'],
      ] as const) {
        const res = await t.app.inject({ method, url, headers: bearer(token) })
        assert.equal(res.statusCode, 403, url)
        assert.equal(res.json().code, 'reauthentication_required')
      }

      const options = await t.app.inject({
        method: 'POST',
        url: '/v1/me/reauthenticate/passkey/options',
        headers: bearer(token),
      })
      assert.equal(options.statusCode, 200, options.body)
      assert.deepEqual(
        options.json().allowCredentials.map((c: { id: string }) => c.id),
        [authenticator.credentialId],
      )
      const reauth = await t.app.inject({
        method: 'POST',
        url: '/v1/me/reauthenticate',
        headers: bearer(token),
        payload: { method: 'passkey', credential: authenticator.authenticate(options.json()) },
      })
      assert.equal(reauth.statusCode, 204, reauth.body)

      const removed = await t.app.inject({
        method: 'DELETE',
        url: `/v1/me/passkeys/${passkeyId}`,
        headers: bearer(token),
      })
      assert.equal(removed.statusCode, 204)
      const gone = await t.app.inject({
        method: 'DELETE',
        url: `/v1/me/passkeys/${passkeyId}`,
        headers: bearer(token),
      })
      assert.equal(gone.statusCode, 404)

      const mfa = await t.app.inject({ method: 'GET', url: '/v1/me/mfa', headers: bearer(token) })
      assert.deepEqual(
        mfa.json(),
        { enabled: false, methods: [], backupCodesRemaining: 0 },
        'backup codes go with the last factor',
      )
      assert.ok(
        (await login(t.app, user.email, user.password)).json().accessToken,
        'the password alone works again',
      )
      const types = (await auditTypes(t, user.user.id)).map((e) => e.type)
      for (const type of ['mfa.factor_added', 'reauthenticated', 'passkey.used', 'mfa.factor_removed']) {
        assert.ok(types.includes(type), type)
      }
    })
  })

  describe('as a second factor', () => {
    test('login with a password asks for the passkey; amr records pwd, hwk and mfa', async () => {
      const { user, authenticator } = await userWithPasskey(t)
      const { mfaToken, methods, options } = await mfaOptions(t, user)
      assert.deepEqual(methods, ['passkey', 'backup_code'])
      assert.deepEqual(
        options.allowCredentials.map((c: { id: string }) => c.id),
        [authenticator.credentialId],
      )
      assert.equal(options.userVerification, 'preferred')
      assert.equal(options.rpId, 'localhost')

      const done = await completeMfa(t, mfaToken, authenticator.authenticate(options))
      assert.equal(done.statusCode, 200, done.body)
      const amr = decodeJwt(done.json().accessToken).amr as string[]
      assert.deepEqual(amr, ['pwd', 'hwk', 'mfa'])

      const list = await t.app.inject({
        method: 'GET',
        url: '/v1/me/passkeys',
        headers: bearer(done.json().accessToken),
      })
      assert.equal(list.json().passkeys[0].lastUsedAt, new Date(t.clock.now()).toISOString())
    })

    test('user verification is preferred, not required, and is recorded', async () => {
      const { user, authenticator } = await userWithPasskey(t)
      const { mfaToken, options } = await mfaOptions(t, user)
      const done = await completeMfa(
        t,
        mfaToken,
        authenticator.authenticate(options, { userVerified: false }),
      )
      assert.equal(done.statusCode, 200, done.body)
      const used = (await auditTypes(t, user.user.id)).filter((e) => e.type === 'passkey.used')
      assert.deepEqual(used.at(-1)!.data.userVerified, false)
      assert.equal(used.at(-1)!.data.purpose, 'second_factor')
    })

    test('passkey options need a live mfaToken', async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/auth/mfa/passkey/options',
        payload: { mfaToken: 'not-a-token' },
      })
      assert.equal(res.statusCode, 401)
      assert.equal(res.json().code, 'invalid_mfa_token')
    })
  })

  describe('passwordless sign-in', () => {
    test('a discoverable credential alone signs in: token body, amr hwk + user, audited', async () => {
      const { user, authenticator } = await userWithPasskey(t)
      const { challengeId, options } = await passwordlessOptions(t)
      assert.equal(options.rpId, 'localhost')
      assert.equal((options as Record<string, unknown>).userVerification, 'required')
      assert.equal(
        (options as Record<string, unknown>).allowCredentials,
        undefined,
        'the user is not known yet',
      )

      const res = await passwordlessVerify(t, challengeId, authenticator.authenticate(options))
      assert.equal(res.statusCode, 200, res.body)
      const body = res.json()
      assert.equal(body.user.email, user.email)
      assert.equal(body.tokenType, 'Bearer')
      assert.ok(body.refreshToken)
      assert.deepEqual(decodeJwt(body.accessToken).amr, ['hwk', 'user'])
      const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(body.accessToken) })
      assert.equal(me.json().id, user.user.id)
      const audit = await auditTypes(t, user.user.id)
      const login = audit.filter((e) => e.type === 'login.succeeded').at(-1)!
      assert.deepEqual(login.data.amr, ['hwk', 'user'])
    })

    test('a disabled account cannot sign in with its passkey', async () => {
      const { user, authenticator } = await userWithPasskey(t)
      await t.database.db
        .updateTable('accounts')
        .set({ disabled_at: t.clock.now() })
        .where('id', '=', user.user.id)
        .execute()
      const { challengeId, options } = await passwordlessOptions(t)
      const res = await passwordlessVerify(t, challengeId, authenticator.authenticate(options))
      assert.equal(res.statusCode, 403)
      assert.equal(res.json().accessToken, undefined)
    })

    test('an authenticator that does not count (counter stays 0) keeps working', async () => {
      const user = await register(t.app)
      const authenticator = createSoftwareAuthenticator({ countless: true })
      assert.equal((await addPasskey(t, user, authenticator)).statusCode, 201)
      for (let i = 0; i < 2; i++) {
        const { challengeId, options } = await passwordlessOptions(t)
        const res = await passwordlessVerify(t, challengeId, authenticator.authenticate(options))
        assert.equal(res.statusCode, 200, res.body)
      }
    })
  })

  test('the OpenAPI document lists the passkey endpoints', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json()
    for (const path of [
      '/v1/me/passkeys',
      '/v1/me/passkeys/options',
      '/v1/me/passkeys/{id}',
      '/v1/me/reauthenticate/passkey/options',
      '/v1/auth/mfa/passkey/options',
      '/v1/auth/passkey/options',
      '/v1/auth/passkey/verify',
    ]) {
      assert.ok(doc.paths[path], path)
    }
    assert.equal(doc.paths['/passkeys'], undefined, 'the page is not an API')
  })
})

describe('WebAuthn configuration', () => {
  const load = (env: Record<string, string>, overrides: Record<string, unknown> = {}) =>
    loadConfig(env, { masterKey: TEST_MASTER_KEY, ...overrides }).config

  test('RP ID and origins default to publicUrl', () => {
    const config = load({ TESSERA_PUBLIC_URL: 'https://id.example.com/base' })
    assert.equal(config.webauthnRpId, 'id.example.com')
    assert.deepEqual(config.webauthnOrigins, ['https://id.example.com'])
  })

  test('TESSERA_WEBAUTHN_RP_ID and TESSERA_WEBAUTHN_ORIGINS (comma list)', () => {
    const config = load({
      TESSERA_PUBLIC_URL: 'https://id.example.com',
      TESSERA_WEBAUTHN_RP_ID: 'example.com',
      TESSERA_WEBAUTHN_ORIGINS: 'https://id.example.com, https://app.example.com',
    })
    assert.equal(config.webauthnRpId, 'example.com')
    assert.deepEqual(config.webauthnOrigins, ['https://id.example.com', 'https://app.example.com'])
  })

  test('an origin outside the RP ID, or not an origin, fails at startup', () => {
    assert.throws(
      () =>
        load({
          TESSERA_PUBLIC_URL: 'https://id.example.com',
          TESSERA_WEBAUTHN_ORIGINS: 'https://evil.example,https://id.example.com/path',
        }),
      (err: Error & { problems?: string[] }) => {
        assert.equal(err.problems?.length, 2, err.message)
        assert.match(err.problems![0]!, /evil\.example is not on the RP ID id\.example\.com/)
        assert.match(err.problems![1]!, /must be an origin/)
        return true
      },
    )
  })
})
