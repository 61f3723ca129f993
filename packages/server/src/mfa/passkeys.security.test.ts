import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { bearer, register } from '../../test/factories.ts'
import { buildTestApp, type TestApp } from '../../test/harness.ts'
import {
  auditTypes,
  completeMfa,
  mfaOptions,
  passwordlessOptions,
  passwordlessVerify,
  userWithPasskey,
} from '../../test/passkeys.ts'
import { createSoftwareAuthenticator } from '../../test/webauthn-authenticator.ts'

describe('passkey attacks (WebAuthn)', () => {
  let t: TestApp
  before(async () => {
    // Many ceremonies from one address: the per-IP limit is tested on its own app below.
    t = await buildTestApp({ config: { authRateLimitPerMinute: 10_000 } })
  })
  after(() => t.close())

  describe('attacks on passkey registration', () => {
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
  })

  describe('attacks on the passkey second factor', () => {
    test("someone else's credential: user A's passkey cannot complete user B's mfaToken", async () => {
      const a = await userWithPasskey(t)
      const b = await userWithPasskey(t)
      const { mfaToken, options } = await mfaOptions(t, b.user)
      const res = await completeMfa(t, mfaToken, a.authenticator.authenticate(options))
      assert.equal(res.statusCode, 400)
      assert.equal(res.json().code, 'invalid_mfa_code')
      const audit = await auditTypes(t, b.user.user.id)
      assert.ok(audit.some((e) => e.type === 'mfa.failed' && e.data.method === 'passkey'))
      assert.ok(!audit.some((e) => e.type === 'login.succeeded' && (e.data.amr as string[]).includes('hwk')))
    })

    test('a second-factor challenge of one account is useless for another, even with the right passkey', async () => {
      const a = await userWithPasskey(t)
      const b = await userWithPasskey(t)
      const optionsForA = (await mfaOptions(t, a.user)).options
      const { mfaToken } = await mfaOptions(t, b.user)
      // B's own passkey, but signing the challenge issued for A's login.
      const res = await completeMfa(t, mfaToken, b.authenticator.authenticate(optionsForA))
      assert.equal(res.statusCode, 400)
      assert.equal(res.json().code, 'invalid_mfa_code')
    })

    test('replayed assertion: a second-factor challenge is single use', async () => {
      const { user, authenticator } = await userWithPasskey(t)
      const first = await mfaOptions(t, user)
      const assertion = authenticator.authenticate(first.options)
      assert.equal((await completeMfa(t, first.mfaToken, assertion)).statusCode, 200)
      const second = await mfaOptions(t, user)
      const replay = await completeMfa(t, second.mfaToken, assertion)
      assert.equal(replay.statusCode, 400)
      assert.equal(replay.json().code, 'invalid_mfa_code')
    })
  })

  describe('attacks on passkey sign-in', () => {
    async function expectRefused(res: Awaited<ReturnType<typeof passwordlessVerify>>) {
      assert.equal(res.statusCode, 401, res.body)
      assert.equal(res.json().code, 'invalid_passkey')
      return res
    }

    test('WebAuthn assertion with a wrong origin is refused', async () => {
      const { authenticator } = await userWithPasskey(t)
      const { challengeId, options } = await passwordlessOptions(t)
      await expectRefused(
        await passwordlessVerify(
          t,
          challengeId,
          authenticator.authenticate(options, { origin: 'https://evil.example' }),
        ),
      )
      await expectRefused(
        await passwordlessVerify(
          t,
          (await passwordlessOptions(t)).challengeId,
          authenticator.authenticate(options, { origin: 'http://localhost:3001' }),
        ),
      )
    })

    test('WebAuthn assertion for a wrong RP ID is refused', async () => {
      const { authenticator } = await userWithPasskey(t)
      const { challengeId, options } = await passwordlessOptions(t)
      await expectRefused(
        await passwordlessVerify(
          t,
          challengeId,
          authenticator.authenticate(options, { rpId: 'evil.example' }),
        ),
      )
    })

    test('WebAuthn assertion over a wrong challenge is refused', async () => {
      const { authenticator } = await userWithPasskey(t)
      const { challengeId, options } = await passwordlessOptions(t)
      const forged = Buffer.alloc(32, 1).toString('base64url')
      await expectRefused(
        await passwordlessVerify(t, challengeId, authenticator.authenticate(options, { challenge: forged })),
      )
      // A challenge issued with other options is not this challengeId's either.
      const other = await passwordlessOptions(t)
      await expectRefused(await passwordlessVerify(t, challengeId, authenticator.authenticate(other.options)))
    })

    test('replayed WebAuthn assertion: a challenge is single use', async () => {
      const { authenticator } = await userWithPasskey(t)
      const { challengeId, options } = await passwordlessOptions(t)
      const assertion = authenticator.authenticate(options)
      assert.equal((await passwordlessVerify(t, challengeId, assertion)).statusCode, 200)
      await expectRefused(await passwordlessVerify(t, challengeId, assertion))
    })

    test('a failed attempt burns the challenge too', async () => {
      const { authenticator } = await userWithPasskey(t)
      const { challengeId, options } = await passwordlessOptions(t)
      await expectRefused(
        await passwordlessVerify(
          t,
          challengeId,
          authenticator.authenticate(options, { userVerified: false }),
        ),
      )
      await expectRefused(await passwordlessVerify(t, challengeId, authenticator.authenticate(options)))
    })

    test('an expired challenge is refused', async () => {
      const { authenticator } = await userWithPasskey(t)
      const { challengeId, options } = await passwordlessOptions(t)
      t.clock.advance(5 * 60_000 + 1)
      await expectRefused(await passwordlessVerify(t, challengeId, authenticator.authenticate(options)))
    })

    test('cloned authenticator: a signature counter that does not increase is refused and audited', async () => {
      const { user, authenticator } = await userWithPasskey(t)
      const first = await passwordlessOptions(t)
      assert.equal(
        (await passwordlessVerify(t, first.challengeId, authenticator.authenticate(first.options)))
          .statusCode,
        200,
      )
      const seen = authenticator.counter

      for (const counter of [seen, seen - 1, 0]) {
        const { challengeId, options } = await passwordlessOptions(t)
        await expectRefused(
          await passwordlessVerify(t, challengeId, authenticator.authenticate(options, { counter })),
        )
      }
      const alarms = (await auditTypes(t, user.user.id)).filter((e) => e.type === 'passkey.clone_suspected')
      assert.equal(alarms.length, 3)
      assert.equal(alarms[0]!.data.storedCounter, seen)

      const next = await passwordlessOptions(t)
      const ok = await passwordlessVerify(t, next.challengeId, authenticator.authenticate(next.options))
      assert.equal(ok.statusCode, 200, 'the genuine authenticator, counting on, still works')
    })

    test('cloned authenticator used as a second factor is refused too', async () => {
      const { user, authenticator } = await userWithPasskey(t)
      const first = await mfaOptions(t, user)
      assert.equal(
        (await completeMfa(t, first.mfaToken, authenticator.authenticate(first.options))).statusCode,
        200,
      )
      const second = await mfaOptions(t, user)
      const res = await completeMfa(
        t,
        second.mfaToken,
        authenticator.authenticate(second.options, { counter: 1 }),
      )
      assert.equal(res.statusCode, 400)
      assert.ok((await auditTypes(t, user.user.id)).some((e) => e.type === 'passkey.clone_suspected'))
    })

    test('user verification missing on passwordless sign-in is refused', async () => {
      const { user, authenticator } = await userWithPasskey(t)
      const { challengeId, options } = await passwordlessOptions(t)
      await expectRefused(
        await passwordlessVerify(
          t,
          challengeId,
          authenticator.authenticate(options, { userVerified: false }),
        ),
      )
      const failed = (await auditTypes(t, user.user.id)).filter((e) => e.type === 'login.failed')
      assert.equal(failed.at(-1)!.data.reason, 'passkey')
    })

    test('an unknown credential gets the same answer as a bad assertion (no enumeration)', async () => {
      const { authenticator } = await userWithPasskey(t)
      const unknown = await passwordlessOptions(t)
      const a = await expectRefused(
        await passwordlessVerify(
          t,
          unknown.challengeId,
          createSoftwareAuthenticator().authenticate(unknown.options),
        ),
      )
      const bad = await passwordlessOptions(t)
      const b = await expectRefused(
        await passwordlessVerify(
          t,
          bad.challengeId,
          authenticator.authenticate(bad.options, { rpId: 'evil.example' }),
        ),
      )
      assert.equal(a.body, b.body)
    })

    test('a second-factor or registration challenge cannot be used for passwordless sign-in', async () => {
      const { user, authenticator } = await userWithPasskey(t)
      const { options } = await mfaOptions(t, user)
      const { challengeId } = await passwordlessOptions(t)
      await expectRefused(await passwordlessVerify(t, challengeId, authenticator.authenticate(options)))
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
})
