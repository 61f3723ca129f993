/**
 * SMS one-time codes as a second factor: a weaker one than TOTP or passkeys (SIM swap,
 * interception on the phone network), offered only when the operator configures a provider.
 *
 * Checks, in order:
 * - SMS is on only with a provider; otherwise every entry point answers `sms_not_configured`;
 * - sending is limited per phone number and per account (429 + Retry-After), counted before the
 *   provider is called, so failed deliveries count too (nobody gets to pump messages);
 * - a code is 6 digits from a CSPRNG, lives 5 minutes, is stored only as a keyed hash bound to
 *   its factor (a code for one account or phone cannot match another's), only the latest code
 *   of a factor is live, and it is consumed by a conditional update (single use);
 * - wrong codes at sign-in and re-authentication go through `mfa.verify` (per-account limit,
 *   mfaToken failure count); wrong codes at enrolment count against a limit of their own;
 * - a code row and a new pending factor are written only after the provider accepted the
 *   message, so a failed delivery leaves nothing behind.
 */
import { randomInt } from 'node:crypto'
import type { Kysely } from 'kysely'
import type { AuditLog } from '../audit/service.ts'
import type { Clock } from '../core/clock.ts'
import type { SecretBox } from '../core/crypto.ts'
import type { DB } from '../core/db-schema.ts'
import type { ClientInfo } from '../core/http.ts'
import { newId } from '../core/ids.ts'
import { consumeOrThrow, type LimiterFactory, retryAfterSeconds } from '../core/rate-limit.ts'
import type { BackupCodes } from './backup-codes.ts'
import { mfaErrors, smsErrors } from './errors.ts'
import type { FactorProof } from './schemas.ts'
import type { FactorVerifier, MfaNotifications } from './service.ts'
import type { SmsProvider } from './sms-provider.ts'
import { SmsDeliveryError } from './sms-provider.ts'
import * as smsStore from './sms-store.ts'
import * as store from './store.ts'

export const SMS_CODE_TTL_MS = 5 * 60 * 1000
export const SMS_CODE_DIGITS = 6
const SENDS_PER_NUMBER = 5
const SENDS_PER_ACCOUNT = 5
const SEND_WINDOW_SECONDS = 3600
const ENROL_FAILURES = 10
const ENROL_FAILURE_WINDOW_SECONDS = 15 * 60
const VISIBLE_DIGITS = 4

/** ITU-T E.164: a plus, a country code that does not start with 0, at most 15 digits. */
export const E164 = /^\+[1-9]\d{6,14}$/

/** `+15551234567` → `+•••••••4567`: enough to recognise one's own phone, not to learn a number. */
export function maskPhoneNumber(e164: string): string {
  return `+${'•'.repeat(Math.max(0, e164.length - 1 - VISIBLE_DIGITS))}${e164.slice(-VISIBLE_DIGITS)}`
}

export interface SmsDeps {
  /** Texts one client IP may trigger per hour, across all accounts. */
  sendsPerIpPerHour: number
  db: Kysely<DB>
  clock: Clock
  box: SecretBox
  /** Keyed hash for SMS codes (core/crypto.ts createCodeHasher, purpose `sms-codes`). */
  hashCode: (code: string) => string
  audit: AuditLog
  limiters: LimiterFactory
  /** Unset: SMS codes are off. */
  provider: SmsProvider | undefined
  /** Named in each message, so a code is not mistaken for another service's. */
  productName: string
  /** Origin the codes are bound to (WebOTP `@host #code` line, for autofill on that site only). */
  publicUrl: string
  /** Issues backup codes when SMS is the account's first factor. */
  backupCodes: BackupCodes
  notify?: MfaNotifications
}

export interface SmsCodeSent {
  sentTo: string
  expiresIn: number
}

const secretContext = (factorId: string) => `mfa_factor:${factorId}`

export function createSmsService(deps: SmsDeps) {
  const { db, clock, audit, provider } = deps
  const perNumber = deps.limiters({
    name: 'sms-send:number',
    points: SENDS_PER_NUMBER,
    duration: SEND_WINDOW_SECONDS,
  })
  const perAccount = deps.limiters({
    name: 'sms-send:account',
    points: SENDS_PER_ACCOUNT,
    duration: SEND_WINDOW_SECONDS,
  })
  // Against SMS pumping (toll fraud): one client cannot spread sends over many accounts.
  const perIp = deps.limiters({ name: 'sms-send:ip', points: deps.sendsPerIpPerHour, duration: 3600 })
  const enrolFailures = deps.limiters({
    name: 'sms-enrol-failures',
    points: ENROL_FAILURES,
    duration: ENROL_FAILURE_WINDOW_SECONDS,
  })
  const host = new URL(deps.publicUrl).hostname

  // Bound to the factor: the same six digits sent to two phones are two different hashes.
  const codeHash = (factorId: string, code: string) => deps.hashCode(`${factorId}:${code}`)

  function requireProvider(status: 404 | 400 = 404): SmsProvider {
    if (!provider) throw smsErrors.notConfigured(status)
    return provider
  }

  /**
   * Limits, sends, and hands back the code; the caller stores it once delivery succeeded.
   * Counters are keyed by a keyed hash of the number, so phone numbers stay out of Redis.
   */
  async function sendCode(accountId: string, phoneNumber: string, client: ClientInfo): Promise<string> {
    const sms = requireProvider()
    await consumeOrThrow(perIp, client.ip)
    await consumeOrThrow(perNumber, deps.hashCode(`tel:${phoneNumber}`))
    await consumeOrThrow(perAccount, accountId)
    const code = randomInt(0, 10 ** SMS_CODE_DIGITS)
      .toString()
      .padStart(SMS_CODE_DIGITS, '0')
    const body = `${code} is your ${deps.productName} code. It expires in ${SMS_CODE_TTL_MS / 60_000} minutes; never share it.\n\n@${host} #${code}`
    try {
      await sms.send(phoneNumber, body)
    } catch (err) {
      throw smsErrors.deliveryFailed(
        err instanceof SmsDeliveryError
          ? err
          : new SmsDeliveryError('sms provider failed', 0, undefined, { cause: err }),
      )
    }
    return code
  }

  function codeRow(factorId: string, code: string) {
    const now = clock.now()
    return {
      id: newId(),
      factor_id: factorId,
      code_hash: codeHash(factorId, code),
      created_at: now,
      expires_at: now + SMS_CODE_TTL_MS,
      consumed_at: null,
    }
  }

  async function activeFactor(accountId: string) {
    const [factor] = await store.findActiveFactor(db, accountId, 'sms')
    if (!factor) throw smsErrors.noActiveFactor()
    return factor
  }

  /** Sends a sign-in (or re-authentication) code to the account's phone. */
  async function sendSignInCode(accountId: string, client: ClientInfo): Promise<SmsCodeSent> {
    requireProvider()
    const factor = await activeFactor(accountId)
    const phoneNumber = deps.box.decrypt(factor.secret, secretContext(factor.id))
    const code = await sendCode(accountId, phoneNumber, client)
    // One transaction: two concurrent sends must not leave two live codes.
    await db.transaction().execute((trx) => smsStore.replaceSmsCode(trx, codeRow(factor.id, code)))
    return { sentTo: factor.label, expiresIn: SMS_CODE_TTL_MS / 1000 }
  }

  /** `method: 'sms'` in `POST /v1/auth/mfa` and `POST /v1/me/reauthenticate`. */
  const verifySecondFactor: FactorVerifier = async (accountId: string, proof: FactorProof) => {
    requireProvider(400)
    const code = proof.code?.trim()
    if (!code) return null
    const now = clock.now()
    for (const factor of await store.findActiveFactor(db, accountId, 'sms')) {
      if (await smsStore.consumeSmsCode(db, factor.id, codeHash(factor.id, code), now)) {
        await store.touchFactor(db, factor.id, now)
        return 'sms' // RFC 8176 §2
      }
    }
    return null
  }

  return {
    enabled: provider !== undefined,
    verifySecondFactor,

    /** Whether SMS can be offered at sign-in: on, and the account has an active phone. */
    async hasActiveSms(accountId: string): Promise<boolean> {
      return provider !== undefined && (await store.findActiveFactor(db, accountId, 'sms')).length > 0
    },

    /** Enrolment, step 1: a pending factor for the number (replacing an older pending one) and a code. */
    async startEnrolment(accountId: string, phoneNumber: string, client: ClientInfo): Promise<SmsCodeSent> {
      requireProvider()
      if (!E164.test(phoneNumber)) throw smsErrors.invalidPhoneNumber()
      if ((await store.findActiveFactor(db, accountId, 'sms')).length > 0) throw smsErrors.factorExists()
      const code = await sendCode(accountId, phoneNumber, client)
      const id = newId()
      const label = maskPhoneNumber(phoneNumber)
      await db.transaction().execute(async (trx) => {
        await store.deletePendingFactors(trx, accountId, 'sms')
        await store.insertFactor(trx, {
          id,
          account_id: accountId,
          type: 'sms',
          label,
          secret: deps.box.encrypt(phoneNumber, secretContext(id)),
          status: 'pending',
          last_totp_step: null,
          last_used_at: null,
          created_at: clock.now(),
          activated_at: null,
        })
        await smsStore.replaceSmsCode(trx, codeRow(id, code))
      })
      return { sentTo: label, expiresIn: SMS_CODE_TTL_MS / 1000 }
    },

    /** Enrolment, step 2: the code proves the phone; backup codes when it is the first factor. */
    async confirmEnrolment(accountId: string, code: string, client: ClientInfo) {
      requireProvider()
      const throttled = await enrolFailures.get(accountId)
      if (throttled && throttled.consumedPoints >= ENROL_FAILURES) {
        throw mfaErrors.tooManyAttempts(retryAfterSeconds(throttled))
      }
      const pending = await store.findPendingFactor(db, accountId, 'sms')
      if (!pending) throw mfaErrors.noPendingEnrolment()
      const now = clock.now()
      const backupCodes = await db.transaction().execute(async (trx) => {
        if (!(await smsStore.consumeSmsCode(trx, pending.id, codeHash(pending.id, code.trim()), now)))
          return null
        const codes = await deps.backupCodes.activateWithCodes(trx, accountId, async () => {
          if (!(await store.activateFactor(trx, pending.id, null, now))) throw mfaErrors.noPendingEnrolment()
          await audit.record(
            { type: 'mfa.factor_added', accountId, client, data: { type: 'sms', factorId: pending.id } },
            trx,
          )
        })
        return { codes }
      })
      if (backupCodes === null) {
        await enrolFailures.penalty(accountId, 1)
        await audit.record({
          type: 'mfa.failed',
          accountId,
          client,
          data: { method: 'sms', step: 'enrolment' },
        })
        throw mfaErrors.invalidCode()
      }
      deps.notify?.factorAdded(accountId, pending.label)
      return { factorId: pending.id, ...(backupCodes.codes ? { backupCodes: backupCodes.codes } : {}) }
    },

    /** `POST /v1/auth/mfa/sms`: the account behind a live mfaToken gets a sign-in code. */
    sendSignInCode,
  }
}

export type SmsService = ReturnType<typeof createSmsService>
