/**
 * Passkeys (WebAuthn Level 3 via @simplewebauthn/server): registration, a second factor after the
 * password, and sign-in with a passkey alone (a discoverable credential).
 *
 * Checks on every ceremony:
 * - the challenge is ours, unexpired (5 minutes) and single use: it is consumed with a
 *   conditional update before the response is looked at, so a replayed response finds it gone.
 *   It is bound to its purpose, and to the account for registration and the second factor;
 * - clientDataJSON `type`, `origin` (TESSERA_WEBAUTHN_ORIGINS, exact match) and authenticator
 *   data `rpIdHash` (TESSERA_WEBAUTHN_RP_ID) — WebAuthn §7.1 steps 7–14 and §7.2 steps 11–15;
 * - the signature over authenticatorData || SHA-256(clientDataJSON) with the stored public key;
 * - the signature counter (§7.2 step 22): when either side is non-zero it must increase, else the
 *   authenticator may be cloned — the assertion is refused and `passkey.clone_suspected` audited;
 * - user presence always; user verification required for passwordless sign-in (the passkey is
 *   then both factors), preferred and recorded for the second factor;
 * - passwordless: the credential's user handle must be the account it is registered to
 *   (§7.2 step 6). Unknown credentials and bad assertions get the same `401 invalid_passkey`.
 */
import type {
  AuthenticationResponseJSON,
  RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server'
import type { Kysely } from 'kysely'
import type { AuditLog } from '../audit/service.ts'
import type { Clock } from '../core/clock.ts'
import type { DB } from '../core/db-schema.ts'
import type { ClientInfo } from '../core/http.ts'
import { newId } from '../core/ids.ts'
import { consumeOrThrow, type LimiterFactory } from '../core/rate-limit.ts'
import type { BackupCodes } from './backup-codes.ts'
import { mfaErrors, passkeyErrors } from './errors.ts'
import type { ChallengePurpose, PasskeyRow } from './passkeys-store.ts'
import * as store from './passkeys-store.ts'
import type { FactorProof, Passkey, PasskeyCredential, WebAuthnOptions } from './schemas.ts'
import type { FactorVerifier, MfaNotifications } from './service.ts'
import { countActiveSecondFactors, deleteAllFactors } from './store.ts'

let webauthnModule: Promise<typeof import('@simplewebauthn/server')> | undefined
/** Loaded on the first ceremony: a large module that many deployments use rarely. */
const webauthn = () => (webauthnModule ??= import('@simplewebauthn/server'))

export const WEBAUTHN_CHALLENGE_TTL_MS = 5 * 60 * 1000
/** How long the browser waits for the user (a hint to the client, shorter than the challenge life). */
const CEREMONY_TIMEOUT_MS = 2 * 60 * 1000
const DEFAULT_LABEL = 'Passkey'
/**
 * COSE algorithms we accept (RFC 9053): EdDSA, ES256, RS256. Pinned rather than the library's
 * default, which grows with the runtime (ML-DSA behind an experimental Web Crypto probe).
 */
const SUPPORTED_ALGORITHMS = [-8, -7, -257]
/** RFC 8176: proof of possession of a hardware-secured key. */
const AMR_HARDWARE_KEY = 'hwk'
/** RFC 8176: the user was verified by the authenticator (PIN or biometric). */
const AMR_USER_VERIFIED = 'user'

export interface PasskeyDeps {
  db: Kysely<DB>
  clock: Clock
  audit: AuditLog
  limiters: LimiterFactory
  /** WebAuthn relying party: id (a domain), the origins ceremonies may come from, the name shown. */
  rpId: string
  origins: string[]
  rpName: string
  /** Requests per minute per IP for authentication options and passwordless sign-in. */
  authRateLimitPerMinute: number
  /** Issues backup codes when a passkey is the account's first factor. */
  backupCodes: BackupCodes
  notify?: MfaNotifications
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

function toPasskey(row: PasskeyRow): Passkey {
  return {
    id: row.id,
    label: row.label,
    deviceType: row.device_type === 'multiDevice' ? 'multiDevice' : 'singleDevice',
    backedUp: row.backed_up === 1,
    transports: row.transports ? row.transports.split(',') : [],
    createdAt: iso(row.created_at)!,
    lastUsedAt: iso(row.last_used_at),
  }
}

/** The WebAuthn user handle: the account id's bytes (never the email, §14.6.1). */
function userHandle(accountId: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(accountId)
}

/** The challenge the authenticator signed, read from clientDataJSON to find its row. */
function signedChallenge(credential: Record<string, unknown>): string | undefined {
  const clientDataJSON = (credential.response as { clientDataJSON?: unknown } | undefined)?.clientDataJSON
  if (typeof clientDataJSON !== 'string') return undefined
  try {
    const clientData = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8')) as {
      challenge?: unknown
    }
    return typeof clientData.challenge === 'string' && clientData.challenge.length > 0
      ? clientData.challenge
      : undefined
  } catch {
    return undefined
  }
}

export function createPasskeyService(deps: PasskeyDeps) {
  const { db, clock, audit } = deps
  const perIp = deps.limiters({ name: 'ip:passkey', points: deps.authRateLimitPerMinute, duration: 60 })

  async function storeChallenge(accountId: string | null, purpose: ChallengePurpose, challenge: string) {
    const now = clock.now()
    const id = newId()
    await store.deleteExpiredChallenges(db, now)
    await store.insertChallenge(db, {
      id,
      account_id: accountId,
      purpose,
      challenge,
      created_at: now,
      expires_at: now + WEBAUTHN_CHALLENGE_TTL_MS,
      consumed_at: null,
    })
    return id
  }

  /** Consumes the challenge the response carries; undefined when it is not a live one of ours. */
  async function consumeSignedChallenge(
    credential: Record<string, unknown>,
    match: { id?: string; accountId: string | null; purpose: ChallengePurpose },
  ): Promise<string | undefined> {
    const challenge = signedChallenge(credential)
    if (!challenge) return undefined
    return (await store.consumeChallenge(db, { ...match, challenge }, clock.now())) ? challenge : undefined
  }

  /**
   * Verifies an assertion by `passkey` and records the use; null when it fails. The counter is
   * checked here, after the signature, so only a genuine authenticator can raise a clone alarm.
   */
  async function verifyAssertion(
    passkey: PasskeyRow,
    credential: Record<string, unknown>,
    challenge: string,
    purpose: 'sign_in' | 'second_factor',
    client: ClientInfo | undefined,
  ): Promise<{ userVerified: boolean } | null> {
    let info: Awaited<ReturnType<typeof verifyAuthenticationResponse>>['authenticationInfo']
    try {
      const result = await (await webauthn()).verifyAuthenticationResponse({
        response: credential as unknown as AuthenticationResponseJSON,
        expectedChallenge: challenge,
        expectedOrigin: deps.origins,
        expectedRPID: deps.rpId,
        credential: {
          id: passkey.credential_id,
          publicKey: new Uint8Array(Buffer.from(passkey.public_key, 'base64url')),
          counter: 0, // compared below, once the signature is known to be good
        },
        requireUserVerification: purpose === 'sign_in',
      })
      if (!result.verified) return null
      info = result.authenticationInfo
    } catch {
      return null
    }
    const { newCounter, userVerified, credentialBackedUp } = info
    if ((newCounter > 0 || passkey.counter > 0) && newCounter <= passkey.counter) {
      await audit.record({
        type: 'passkey.clone_suspected',
        accountId: passkey.account_id,
        client,
        data: { passkeyId: passkey.id, storedCounter: passkey.counter, presentedCounter: newCounter },
      })
      return null
    }
    const recorded = await store.recordPasskeyUse(db, passkey.id, {
      expectedCounter: passkey.counter,
      counter: newCounter,
      backedUp: credentialBackedUp,
      now: clock.now(),
    })
    if (!recorded) return null // another assertion with this counter won the race
    await audit.record({
      type: 'passkey.used',
      accountId: passkey.account_id,
      client,
      data: { passkeyId: passkey.id, purpose, userVerified },
    })
    return { userVerified }
  }

  /** The second factor after a password (and re-authentication): `hwk`, or null when wrong. */
  const verifySecondFactor: FactorVerifier = async (accountId: string, proof: FactorProof) => {
    if (!proof.credential) return null
    const challenge = await consumeSignedChallenge(proof.credential, { accountId, purpose: 'second_factor' })
    if (!challenge) return null
    const passkey = await store.findPasskeyByCredentialId(db, String(proof.credential.id))
    // Someone else's passkey proves nothing about this account.
    if (!passkey || passkey.account_id !== accountId) return null
    const verified = await verifyAssertion(passkey, proof.credential, challenge, 'second_factor', undefined)
    return verified ? AMR_HARDWARE_KEY : null
  }

  return {
    verifySecondFactor,

    hasPasskey: async (accountId: string) => (await store.countPasskeys(db, accountId)) > 0,

    async listPasskeys(accountId: string): Promise<Passkey[]> {
      return (await store.listPasskeys(db, accountId)).map(toPasskey)
    },

    /** Options for navigator.credentials.create(): a discoverable credential for this account. */
    async registrationOptions(account: { id: string; email: string; name: string | null }) {
      const existing = await store.listPasskeys(db, account.id)
      const options = await (await webauthn()).generateRegistrationOptions({
        rpName: deps.rpName,
        rpID: deps.rpId,
        userID: userHandle(account.id),
        userName: account.email,
        userDisplayName: account.name ?? account.email,
        timeout: CEREMONY_TIMEOUT_MS,
        attestationType: 'none',
        supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
        // One passkey per authenticator: the browser refuses to create a second one.
        excludeCredentials: existing.map((p) => ({
          id: p.credential_id,
          transports: p.transports ? p.transports.split(',') : [],
        })),
        authenticatorSelection: {
          residentKey: 'required',
          requireResidentKey: true,
          userVerification: 'preferred',
        },
      })
      await storeChallenge(account.id, 'register', options.challenge)
      return { ...options } satisfies WebAuthnOptions
    },

    /** Verifies the attestation and stores the passkey; backup codes when it is the first second factor. */
    async registerPasskey(
      accountId: string,
      credential: PasskeyCredential,
      label: string | undefined,
      client: ClientInfo,
    ): Promise<{ passkey: Passkey; backupCodes?: string[] }> {
      const challenge = await consumeSignedChallenge(credential, { accountId, purpose: 'register' })
      if (!challenge) throw passkeyErrors.registrationFailed()
      let registration: Awaited<ReturnType<typeof verifyRegistrationResponse>>
      try {
        registration = await (await webauthn()).verifyRegistrationResponse({
          response: credential as unknown as RegistrationResponseJSON,
          expectedChallenge: challenge,
          expectedOrigin: deps.origins,
          expectedRPID: deps.rpId,
          requireUserVerification: false,
          supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
        })
      } catch {
        throw passkeyErrors.registrationFailed()
      }
      if (!registration.verified) throw passkeyErrors.registrationFailed()
      const info = registration.registrationInfo
      const now = clock.now()
      const row: PasskeyRow = {
        id: newId(),
        account_id: accountId,
        credential_id: info.credential.id,
        public_key: Buffer.from(info.credential.publicKey).toString('base64url'),
        counter: info.credential.counter,
        transports: (info.credential.transports ?? []).join(','),
        device_type: info.credentialDeviceType,
        backed_up: info.credentialBackedUp ? 1 : 0,
        label: label ?? DEFAULT_LABEL,
        created_at: now,
        last_used_at: null,
      }
      const backupCodes = await db.transaction().execute(async (trx) => {
        if (await store.findPasskeyByCredentialId(trx, row.credential_id))
          throw passkeyErrors.alreadyRegistered()
        return deps.backupCodes.activateWithCodes(trx, accountId, async () => {
          await store.insertPasskey(trx, row)
          await audit.record(
            {
              type: 'mfa.factor_added',
              accountId,
              client,
              data: {
                type: 'passkey',
                factorId: row.id,
                userVerified: info.userVerified,
                deviceType: row.device_type,
              },
            },
            trx,
          )
        })
      })
      deps.notify?.factorAdded(accountId, row.label)
      return { passkey: toPasskey(row), ...(backupCodes ? { backupCodes } : {}) }
    },

    async renamePasskey(accountId: string, id: string, label: string): Promise<Passkey> {
      if (!(await store.renamePasskey(db, accountId, id, label))) throw passkeyErrors.notFound()
      return toPasskey((await store.findPasskey(db, accountId, id))!)
    },

    async deletePasskey(accountId: string, id: string, client: ClientInfo): Promise<void> {
      const remaining = await db.transaction().execute(async (trx) => {
        if (!(await store.deletePasskey(trx, accountId, id))) throw passkeyErrors.notFound()
        await audit.record(
          { type: 'mfa.factor_removed', accountId, client, data: { type: 'passkey', factorId: id } },
          trx,
        )
        const left = await countActiveSecondFactors(trx, accountId)
        if (left === 0) await deleteAllFactors(trx, accountId) // no factor left: backup codes go too
        return left
      })
      if (remaining === 0) deps.notify?.mfaDisabled(accountId)
    },

    /** Options for the second factor (after the password, or to re-authenticate): this account's passkeys. */
    async secondFactorOptions(accountId: string, client: ClientInfo) {
      await consumeOrThrow(perIp, client.ip)
      const passkeys = await store.listPasskeys(db, accountId)
      if (passkeys.length === 0) throw mfaErrors.methodUnavailable()
      const options = await (await webauthn()).generateAuthenticationOptions({
        rpID: deps.rpId,
        timeout: CEREMONY_TIMEOUT_MS,
        userVerification: 'preferred',
        allowCredentials: passkeys.map((p) => ({
          id: p.credential_id,
          transports: p.transports ? p.transports.split(',') : [],
        })),
      })
      await storeChallenge(accountId, 'second_factor', options.challenge)
      return { ...options } satisfies WebAuthnOptions
    },

    /** Options for passwordless sign-in: no account yet, so no allowCredentials (discoverable). */
    async signInOptions(client: ClientInfo) {
      await consumeOrThrow(perIp, client.ip)
      const options = await (await webauthn()).generateAuthenticationOptions({
        rpID: deps.rpId,
        timeout: CEREMONY_TIMEOUT_MS,
        userVerification: 'required',
      })
      const challengeId = await storeChallenge(null, 'authenticate', options.challenge)
      return { challengeId, options: { ...options } satisfies WebAuthnOptions }
    },

    /** Verifies a passwordless assertion; the account and amr for a new session. */
    async verifySignIn(
      challengeId: string,
      credential: PasskeyCredential,
      client: ClientInfo,
    ): Promise<{ accountId: string; amr: string[] }> {
      await consumeOrThrow(perIp, client.ip)
      const fail = async (accountId?: string) => {
        await audit.record({ type: 'login.failed', accountId, client, data: { reason: 'passkey' } })
        return passkeyErrors.invalidPasskey()
      }
      const challenge = await consumeSignedChallenge(credential, {
        id: challengeId,
        accountId: null,
        purpose: 'authenticate',
      })
      if (!challenge) throw await fail()
      const passkey = await store.findPasskeyByCredentialId(db, credential.id)
      if (!passkey) throw await fail()
      const handle = (credential.response as { userHandle?: unknown }).userHandle
      if (handle !== Buffer.from(userHandle(passkey.account_id)).toString('base64url')) {
        throw await fail(passkey.account_id)
      }
      const verified = await verifyAssertion(passkey, credential, challenge, 'sign_in', client)
      if (!verified?.userVerified) throw await fail(passkey.account_id)
      return { accountId: passkey.account_id, amr: [AMR_HARDWARE_KEY, AMR_USER_VERIFIED] }
    },
  }
}

export type PasskeyService = ReturnType<typeof createPasskeyService>
