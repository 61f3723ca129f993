import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { decodeJwt } from 'jose'
import { bearer, login, register } from '../../test/factories.ts'
import { buildTestApp, TEST_MASTER_KEY, type TestApp } from '../../test/harness.ts'
import { createSoftwareAuthenticator, type SoftwareAuthenticator } from '../../test/webauthn-authenticator.ts'
import { loadConfig } from '../core/config.ts'

type User = Awaited<ReturnType<typeof register>>

describe('passkeys (WebAuthn)', () => {
  let t: TestApp
  before(async () => {
    // Many ceremonies from one address: the per-IP limit is tested on its own app below.
    t = await buildTestApp({ config: { authRateLimitPerMinute: 10_000 } })
  })
  after(() => t.close())

  async function addPasskey(user: User, authenticator: SoftwareAuthenticator, label?: string) {
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

  async function userWithPasskey() {
    const user = await register(t.app)
    const authenticator = createSoftwareAuthenticator()
    const added = await addPasskey(user, authenticator, 'Laptop')
    assert.equal(added.statusCode, 201, added.body)
    return { user, authenticator, passkeyId: added.json().passkey.id as string }
  }

  async function passwordlessOptions() {
    const res = await t.app.inject({ method: 'POST', url: '/v1/auth/passkey/options' })
    assert.equal(res.statusCode, 200, res.body)
    return res.json() as { challengeId: string; options: { challenge: string; rpId: string } }
  }

  const passwordlessVerify = (challengeId: string, credential: Record<string, unknown>) =>
    t.app.inject({ method: 'POST', url: '/v1/auth/passkey/verify', payload: { challengeId, credential } })

  /** Password, then the passkey step: returns the mfaToken and the options for it. */
  async function mfaOptions(user: User) {
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

  const completeMfa = (mfaToken: string, credential: Record<string, unknown>) =>
    t.app.inject({
      method: 'POST',
      url: '/v1/auth/mfa',
      payload: { mfaToken, method: 'passkey', credential },
    })

  async function auditTypes(accountId: string) {
    const rows = await t.database.db
      .selectFrom('audit_events')
      .select(['type', 'data'])
      .where('account_id', '=', accountId)
      .orderBy('occurred_at')
      .execute()
    return rows.map((r) => ({ type: r.type, data: JSON.parse(r.data) as Record<string, unknown> }))
  }

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

      const second = await addPasskey(user, createSoftwareAuthenticator())
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
      const added1 = (await auditTypes(user.user.id)).filter((e) => e.type === 'mfa.factor_added')
      assert.equal(added1.length, 2)
      assert.equal(added1[0]!.data.type, 'passkey')
    })

    test('the same authenticator cannot be registered twice', async () => {
      const { user, authenticator } = await userWithPasskey()
      const res = await addPasskey(user, authenticator)
      assert.equal(res.statusCode, 409)
      assert.equal(res.json().code, 'passkey_exists')
    })

    test('a registration challenge is single use and bound to its account', async () => {
      const user = await register(t.app)
      const other = await register(t.app)
      const options = (
        await t.app.inject({
          method: 'POST',
          url: '/v1/me/passkeys/options',
          headers: bearer(user.accessToken),
        })
      ).json()
      const credential = createSoftwareAuthenticator().register(options)
      const stolen = await t.app.inject({
        method: 'POST',
        url: '/v1/me/passkeys',
        headers: bearer(other.accessToken),
        payload: { credential },
      })
      assert.equal(stolen.statusCode, 400)
      assert.equal(stolen.json().code, 'passkey_registration_failed')

      const post = () =>
        t.app.inject({
          method: 'POST',
          url: '/v1/me/passkeys',
          headers: bearer(user.accessToken),
          payload: { credential },
        })
      assert.equal((await post()).statusCode, 201)
      assert.equal((await post()).statusCode, 400, 'the same registration again finds its challenge used')
    })

    test('registration from another origin or for another RP ID is refused', async () => {
      const user = await register(t.app)
      for (const overrides of [{ origin: 'https://evil.example' }, { rpId: 'evil.example' }]) {
        const options = (
          await t.app.inject({
            method: 'POST',
            url: '/v1/me/passkeys/options',
            headers: bearer(user.accessToken),
          })
        ).json()
        const res = await t.app.inject({
          method: 'POST',
          url: '/v1/me/passkeys',
          headers: bearer(user.accessToken),
          payload: { credential: createSoftwareAuthenticator().register(options, overrides) },
        })
        assert.equal(res.statusCode, 400, JSON.stringify(overrides))
        assert.equal(res.json().code, 'passkey_registration_failed')
      }
      const list = await t.app.inject({
        method: 'GET',
        url: '/v1/me/passkeys',
        headers: bearer(user.accessToken),
      })
      assert.deepEqual(list.json(), { passkeys: [] })
    })

    test('list and rename; another account cannot rename or see them', async () => {
      const { user, passkeyId } = await userWithPasskey()
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
      const { user, authenticator, passkeyId } = await userWithPasskey()
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
      const types = (await auditTypes(user.user.id)).map((e) => e.type)
      for (const type of ['mfa.factor_added', 'reauthenticated', 'passkey.used', 'mfa.factor_removed']) {
        assert.ok(types.includes(type), type)
      }
    })
  })

  describe('as a second factor', () => {
    test('login with a password asks for the passkey; amr records pwd, hwk and mfa', async () => {
      const { user, authenticator } = await userWithPasskey()
      const { mfaToken, methods, options } = await mfaOptions(user)
      assert.deepEqual(methods, ['passkey', 'backup_code'])
      assert.deepEqual(
        options.allowCredentials.map((c: { id: string }) => c.id),
        [authenticator.credentialId],
      )
      assert.equal(options.userVerification, 'preferred')
      assert.equal(options.rpId, 'localhost')

      const done = await completeMfa(mfaToken, authenticator.authenticate(options))
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
      const { user, authenticator } = await userWithPasskey()
      const { mfaToken, options } = await mfaOptions(user)
      const done = await completeMfa(mfaToken, authenticator.authenticate(options, { userVerified: false }))
      assert.equal(done.statusCode, 200, done.body)
      const used = (await auditTypes(user.user.id)).filter((e) => e.type === 'passkey.used')
      assert.deepEqual(used.at(-1)!.data.userVerified, false)
      assert.equal(used.at(-1)!.data.purpose, 'second_factor')
    })

    test("someone else's credential: user A's passkey cannot complete user B's mfaToken", async () => {
      const a = await userWithPasskey()
      const b = await userWithPasskey()
      const { mfaToken, options } = await mfaOptions(b.user)
      const res = await completeMfa(mfaToken, a.authenticator.authenticate(options))
      assert.equal(res.statusCode, 400)
      assert.equal(res.json().code, 'invalid_mfa_code')
      const audit = await auditTypes(b.user.user.id)
      assert.ok(audit.some((e) => e.type === 'mfa.failed' && e.data.method === 'passkey'))
      assert.ok(!audit.some((e) => e.type === 'login.succeeded' && (e.data.amr as string[]).includes('hwk')))
    })

    test('a second-factor challenge of one account is useless for another, even with the right passkey', async () => {
      const a = await userWithPasskey()
      const b = await userWithPasskey()
      const optionsForA = (await mfaOptions(a.user)).options
      const { mfaToken } = await mfaOptions(b.user)
      // B's own passkey, but signing the challenge issued for A's login.
      const res = await completeMfa(mfaToken, b.authenticator.authenticate(optionsForA))
      assert.equal(res.statusCode, 400)
      assert.equal(res.json().code, 'invalid_mfa_code')
    })

    test('replayed assertion: a second-factor challenge is single use', async () => {
      const { user, authenticator } = await userWithPasskey()
      const first = await mfaOptions(user)
      const assertion = authenticator.authenticate(first.options)
      assert.equal((await completeMfa(first.mfaToken, assertion)).statusCode, 200)
      const second = await mfaOptions(user)
      const replay = await completeMfa(second.mfaToken, assertion)
      assert.equal(replay.statusCode, 400)
      assert.equal(replay.json().code, 'invalid_mfa_code')
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
      const { user, authenticator } = await userWithPasskey()
      const { challengeId, options } = await passwordlessOptions()
      assert.equal(options.rpId, 'localhost')
      assert.equal((options as Record<string, unknown>).userVerification, 'required')
      assert.equal(
        (options as Record<string, unknown>).allowCredentials,
        undefined,
        'the user is not known yet',
      )

      const res = await passwordlessVerify(challengeId, authenticator.authenticate(options))
      assert.equal(res.statusCode, 200, res.body)
      const body = res.json()
      assert.equal(body.user.email, user.email)
      assert.equal(body.tokenType, 'Bearer')
      assert.ok(body.refreshToken)
      assert.deepEqual(decodeJwt(body.accessToken).amr, ['hwk', 'user'])
      const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: bearer(body.accessToken) })
      assert.equal(me.json().id, user.user.id)
      const audit = await auditTypes(user.user.id)
      const login = audit.filter((e) => e.type === 'login.succeeded').at(-1)!
      assert.deepEqual(login.data.amr, ['hwk', 'user'])
    })

    test('a disabled account cannot sign in with its passkey', async () => {
      const { user, authenticator } = await userWithPasskey()
      await t.database.db
        .updateTable('accounts')
        .set({ disabled_at: t.clock.now() })
        .where('id', '=', user.user.id)
        .execute()
      const { challengeId, options } = await passwordlessOptions()
      const res = await passwordlessVerify(challengeId, authenticator.authenticate(options))
      assert.equal(res.statusCode, 403)
      assert.equal(res.json().accessToken, undefined)
    })

    test('an authenticator that does not count (counter stays 0) keeps working', async () => {
      const user = await register(t.app)
      const authenticator = createSoftwareAuthenticator({ countless: true })
      assert.equal((await addPasskey(user, authenticator)).statusCode, 201)
      for (let i = 0; i < 2; i++) {
        const { challengeId, options } = await passwordlessOptions()
        const res = await passwordlessVerify(challengeId, authenticator.authenticate(options))
        assert.equal(res.statusCode, 200, res.body)
      }
    })
  })

  describe('attacks on passkey sign-in', () => {
    async function expectRefused(res: Awaited<ReturnType<typeof passwordlessVerify>>) {
      assert.equal(res.statusCode, 401, res.body)
      assert.equal(res.json().code, 'invalid_passkey')
      return res
    }

    test('WebAuthn assertion with a wrong origin is refused', async () => {
      const { authenticator } = await userWithPasskey()
      const { challengeId, options } = await passwordlessOptions()
      await expectRefused(
        await passwordlessVerify(
          challengeId,
          authenticator.authenticate(options, { origin: 'https://evil.example' }),
        ),
      )
      await expectRefused(
        await passwordlessVerify(
          (await passwordlessOptions()).challengeId,
          authenticator.authenticate(options, { origin: 'http://localhost:3001' }),
        ),
      )
    })

    test('WebAuthn assertion for a wrong RP ID is refused', async () => {
      const { authenticator } = await userWithPasskey()
      const { challengeId, options } = await passwordlessOptions()
      await expectRefused(
        await passwordlessVerify(challengeId, authenticator.authenticate(options, { rpId: 'evil.example' })),
      )
    })

    test('WebAuthn assertion over a wrong challenge is refused', async () => {
      const { authenticator } = await userWithPasskey()
      const { challengeId, options } = await passwordlessOptions()
      const forged = Buffer.alloc(32, 1).toString('base64url')
      await expectRefused(
        await passwordlessVerify(challengeId, authenticator.authenticate(options, { challenge: forged })),
      )
      // A challenge issued with other options is not this challengeId's either.
      const other = await passwordlessOptions()
      await expectRefused(await passwordlessVerify(challengeId, authenticator.authenticate(other.options)))
    })

    test('replayed WebAuthn assertion: a challenge is single use', async () => {
      const { authenticator } = await userWithPasskey()
      const { challengeId, options } = await passwordlessOptions()
      const assertion = authenticator.authenticate(options)
      assert.equal((await passwordlessVerify(challengeId, assertion)).statusCode, 200)
      await expectRefused(await passwordlessVerify(challengeId, assertion))
    })

    test('a failed attempt burns the challenge too', async () => {
      const { authenticator } = await userWithPasskey()
      const { challengeId, options } = await passwordlessOptions()
      await expectRefused(
        await passwordlessVerify(challengeId, authenticator.authenticate(options, { userVerified: false })),
      )
      await expectRefused(await passwordlessVerify(challengeId, authenticator.authenticate(options)))
    })

    test('an expired challenge is refused', async () => {
      const { authenticator } = await userWithPasskey()
      const { challengeId, options } = await passwordlessOptions()
      t.clock.advance(5 * 60_000 + 1)
      await expectRefused(await passwordlessVerify(challengeId, authenticator.authenticate(options)))
    })

    test('cloned authenticator: a signature counter that does not increase is refused and audited', async () => {
      const { user, authenticator } = await userWithPasskey()
      const first = await passwordlessOptions()
      assert.equal(
        (await passwordlessVerify(first.challengeId, authenticator.authenticate(first.options))).statusCode,
        200,
      )
      const seen = authenticator.counter

      for (const counter of [seen, seen - 1, 0]) {
        const { challengeId, options } = await passwordlessOptions()
        await expectRefused(
          await passwordlessVerify(challengeId, authenticator.authenticate(options, { counter })),
        )
      }
      const alarms = (await auditTypes(user.user.id)).filter((e) => e.type === 'passkey.clone_suspected')
      assert.equal(alarms.length, 3)
      assert.equal(alarms[0]!.data.storedCounter, seen)

      const next = await passwordlessOptions()
      const ok = await passwordlessVerify(next.challengeId, authenticator.authenticate(next.options))
      assert.equal(ok.statusCode, 200, 'the genuine authenticator, counting on, still works')
    })

    test('cloned authenticator used as a second factor is refused too', async () => {
      const { user, authenticator } = await userWithPasskey()
      const first = await mfaOptions(user)
      assert.equal(
        (await completeMfa(first.mfaToken, authenticator.authenticate(first.options))).statusCode,
        200,
      )
      const second = await mfaOptions(user)
      const res = await completeMfa(
        second.mfaToken,
        authenticator.authenticate(second.options, { counter: 1 }),
      )
      assert.equal(res.statusCode, 400)
      assert.ok((await auditTypes(user.user.id)).some((e) => e.type === 'passkey.clone_suspected'))
    })

    test('user verification missing on passwordless sign-in is refused', async () => {
      const { user, authenticator } = await userWithPasskey()
      const { challengeId, options } = await passwordlessOptions()
      await expectRefused(
        await passwordlessVerify(challengeId, authenticator.authenticate(options, { userVerified: false })),
      )
      const failed = (await auditTypes(user.user.id)).filter((e) => e.type === 'login.failed')
      assert.equal(failed.at(-1)!.data.reason, 'passkey')
    })

    test('an unknown credential gets the same answer as a bad assertion (no enumeration)', async () => {
      const { authenticator } = await userWithPasskey()
      const unknown = await passwordlessOptions()
      const a = await expectRefused(
        await passwordlessVerify(
          unknown.challengeId,
          createSoftwareAuthenticator().authenticate(unknown.options),
        ),
      )
      const bad = await passwordlessOptions()
      const b = await expectRefused(
        await passwordlessVerify(
          bad.challengeId,
          authenticator.authenticate(bad.options, { rpId: 'evil.example' }),
        ),
      )
      assert.equal(a.body, b.body)
    })

    test('a second-factor or registration challenge cannot be used for passwordless sign-in', async () => {
      const { user, authenticator } = await userWithPasskey()
      const { options } = await mfaOptions(user)
      const { challengeId } = await passwordlessOptions()
      await expectRefused(await passwordlessVerify(challengeId, authenticator.authenticate(options)))
    })
  })

  test('passwordless options and verify are limited per IP', async () => {
    const limited = await buildTestApp({ config: { authRateLimitPerMinute: 2 } })
    try {
      const call = () =>
        limited.app.inject({ method: 'POST', url: '/v1/auth/passkey/options', remoteAddress: '198.51.100.7' })
      assert.equal((await call()).statusCode, 200)
      assert.equal((await call()).statusCode, 200)
      const third = await call()
      assert.equal(third.statusCode, 429)
      assert.ok(third.headers['retry-after'])
    } finally {
      await limited.close()
    }
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
