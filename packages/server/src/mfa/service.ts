/**
 * Second factors: TOTP and backup codes here; passkeys and SMS plug in as verifiers.
 *
 * The login step (`mfaToken`): a challenge row created after the password passed. It lives
 * 5 minutes, dies after 5 wrong codes, is consumed once on success, and wrong codes also count
 * toward a per-account limit so a fresh mfaToken does not buy fresh guesses.
 */
import type { Kysely } from 'kysely'
import type { AuditLog } from '../audit/service.ts'
import type { Clock } from '../core/clock.ts'
import { constantTimeEqual, randomToken, type SecretBox, sha256 } from '../core/crypto.ts'
import type { DB } from '../core/db-schema.ts'
import type { ClientInfo } from '../core/http.ts'
import { newId } from '../core/ids.ts'
import { type LimiterFactory, retryAfterSeconds } from '../core/rate-limit.ts'
import type { BackupCodes } from './backup-codes.ts'
import { mfaErrors } from './errors.ts'
import type { FactorProof, MfaStatus, SecondFactorMethod } from './schemas.ts'
import * as store from './store.ts'
import { describeTotp, generateTotpSecret, matchTotpStep, type TotpEnrolment } from './totp.ts'

export const MFA_TOKEN_TTL_MS = 5 * 60 * 1000
export const MFA_TOKEN_MAX_FAILURES = 5
const ACCOUNT_MFA_FAILURES = 10
const ACCOUNT_MFA_WINDOW_SECONDS = 15 * 60

/** Checks a proof for one method; returns the RFC 8176 amr value, or null when it is wrong. */
export type FactorVerifier = (accountId: string, proof: FactorProof) => Promise<string | null>

export interface MfaNotifications {
  factorAdded(accountId: string, label: string): void
  mfaDisabled(accountId: string): void
}

export interface MfaDeps {
  db: Kysely<DB>
  clock: Clock
  box: SecretBox
  backupCodes: BackupCodes
  audit: AuditLog
  limiters: LimiterFactory
  /** Name shown in authenticator apps. */
  issuer: string
  /** Verifiers for methods implemented elsewhere (passkeys, SMS). */
  verifiers?: Partial<Record<'passkey' | 'sms', FactorVerifier>>
  /** Which of those methods an account has set up. */
  hasMethod?: Partial<Record<'passkey' | 'sms', (accountId: string) => Promise<boolean>>>
  notify?: MfaNotifications
}

const secretContext = (factorId: string) => `mfa_factor:${factorId}`
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

export function createMfaService(deps: MfaDeps) {
  const { db, clock, audit } = deps
  const accountFailures = deps.limiters({
    name: 'mfa-failures',
    points: ACCOUNT_MFA_FAILURES,
    duration: ACCOUNT_MFA_WINDOW_SECONDS,
  })

  async function verifyTotp(accountId: string, code: string): Promise<boolean> {
    const now = clock.now()
    for (const factor of await store.findActiveFactor(db, accountId, 'totp')) {
      const step = matchTotpStep(deps.box.decrypt(factor.secret, secretContext(factor.id)), code, now)
      if (step !== null) return store.acceptTotpStep(db, factor.id, step, now) // false: replayed code
    }
    return false
  }

  /**
   * Whether sign-in needs a second step, and the methods usable for it now. An account with any
   * active factor always needs the step, even if its only factor cannot be used at the moment
   * (SMS switched off): then only backup codes, or an administrator, can help.
   */
  async function secondStep(
    accountId: string,
  ): Promise<{ required: boolean; methods: SecondFactorMethod[] }> {
    if ((await store.countActiveSecondFactors(db, accountId)) === 0) return { required: false, methods: [] }
    const methods: SecondFactorMethod[] = []
    if ((await store.findActiveFactor(db, accountId, 'totp')).length > 0) methods.push('totp')
    if (await deps.hasMethod?.passkey?.(accountId)) methods.push('passkey')
    if (await deps.hasMethod?.sms?.(accountId)) methods.push('sms')
    if ((await deps.backupCodes.countUnused(accountId)) > 0) methods.push('backup_code')
    return { required: true, methods }
  }

  async function assertNotThrottled(accountId: string): Promise<void> {
    const res = await accountFailures.get(accountId)
    if (res && res.consumedPoints >= ACCOUNT_MFA_FAILURES)
      throw mfaErrors.tooManyAttempts(retryAfterSeconds(res))
  }

  /** The amr value for a correct proof; throws `invalid_mfa_code` (counted per account) otherwise. */
  async function verify(accountId: string, proof: FactorProof, client?: ClientInfo): Promise<string> {
    await assertNotThrottled(accountId)
    let amr: string | null = null
    if (proof.method === 'totp' && proof.code) amr = (await verifyTotp(accountId, proof.code)) ? 'otp' : null
    else if (proof.method === 'backup_code' && proof.code) {
      amr = (await deps.backupCodes.consume(accountId, proof.code)) ? 'otp' : null
    } else if (proof.method === 'passkey' || proof.method === 'sms') {
      const verifier = deps.verifiers?.[proof.method]
      if (!verifier) throw mfaErrors.methodUnavailable()
      amr = await verifier(accountId, proof)
    }
    if (amr === null) {
      await accountFailures.penalty(accountId, 1)
      await audit.record({ type: 'mfa.failed', accountId, client, data: { method: proof.method } })
      throw mfaErrors.invalidCode()
    }
    return amr
  }

  return {
    secondStep,
    verify,

    async status(accountId: string): Promise<MfaStatus> {
      const factors = (await store.listFactors(db, accountId)).filter((f) => f.status === 'active')
      const passkeys = await db
        .selectFrom('passkeys')
        .select(['id', 'label', 'created_at', 'last_used_at'])
        .where('account_id', '=', accountId)
        .execute()
      const methods = [
        ...factors.map((f) => ({
          id: f.id,
          type: f.type,
          label: f.label,
          createdAt: iso(f.created_at)!,
          lastUsedAt: iso(f.last_used_at),
        })),
        ...passkeys.map((p) => ({
          id: p.id,
          type: 'passkey' as const,
          label: p.label,
          createdAt: iso(p.created_at)!,
          lastUsedAt: iso(p.last_used_at),
        })),
      ]
      return {
        enabled: methods.length > 0,
        methods,
        backupCodesRemaining: await deps.backupCodes.countUnused(accountId),
      }
    },

    async startTotpEnrolment(
      accountId: string,
      accountLabel: string,
    ): Promise<TotpEnrolment & { factorId: string }> {
      const secret = generateTotpSecret()
      const id = newId()
      await db.transaction().execute(async (trx) => {
        await store.deletePendingFactors(trx, accountId, 'totp')
        await store.insertFactor(trx, {
          id,
          account_id: accountId,
          type: 'totp',
          label: 'Authenticator app',
          secret: deps.box.encrypt(secret, secretContext(id)),
          status: 'pending',
          last_totp_step: null,
          last_used_at: null,
          created_at: clock.now(),
          activated_at: null,
        })
      })
      return { factorId: id, ...(await describeTotp(secret, deps.issuer, accountLabel)) }
    },

    /** Activates the pending TOTP factor with a first code; returns backup codes if it is the first factor. */
    async confirmTotpEnrolment(
      accountId: string,
      code: string,
      label: string | undefined,
      client: ClientInfo,
    ) {
      const pending = await store.findPendingFactor(db, accountId, 'totp')
      if (!pending) throw mfaErrors.noPendingEnrolment()
      const step = matchTotpStep(
        deps.box.decrypt(pending.secret, secretContext(pending.id)),
        code,
        clock.now(),
      )
      if (step === null) throw mfaErrors.invalidCode()
      const backupCodes = await db.transaction().execute((trx) =>
        deps.backupCodes.activateWithCodes(trx, accountId, async () => {
          if (!(await store.activateFactor(trx, pending.id, step, clock.now(), label))) {
            throw mfaErrors.noPendingEnrolment()
          }
          await audit.record(
            { type: 'mfa.factor_added', accountId, client, data: { type: 'totp', factorId: pending.id } },
            trx,
          )
        }),
      )
      deps.notify?.factorAdded(accountId, label ?? pending.label)
      return { factorId: pending.id, ...(backupCodes ? { backupCodes } : {}) }
    },

    async deleteFactor(accountId: string, factorId: string, client: ClientInfo): Promise<void> {
      const remaining = await db.transaction().execute(async (trx) => {
        const removed = await store.deleteFactor(trx, accountId, factorId)
        if (!removed) throw mfaErrors.factorNotFound()
        await audit.record(
          { type: 'mfa.factor_removed', accountId, client, data: { type: removed.type, factorId } },
          trx,
        )
        const left = await store.countActiveSecondFactors(trx, accountId)
        if (left === 0) await store.deleteAllFactors(trx, accountId) // no factor left: backup codes go too
        return left
      })
      if (remaining === 0) deps.notify?.mfaDisabled(accountId)
    },

    async disable(accountId: string, client: ClientInfo): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await store.deleteAllFactors(trx, accountId)
        await audit.record({ type: 'mfa.disabled', accountId, client }, trx)
      })
      deps.notify?.mfaDisabled(accountId)
    },

    async regenerateBackupCodes(accountId: string, client: ClientInfo): Promise<string[]> {
      return db.transaction().execute(async (trx) => {
        if ((await store.countActiveSecondFactors(trx, accountId)) === 0) throw mfaErrors.methodUnavailable()
        const codes = await deps.backupCodes.replace(trx, accountId)
        await audit.record({ type: 'mfa.backup_codes_regenerated', accountId, client }, trx)
        return codes
      })
    },

    /** After a correct password: the opaque `mfaToken` for the second step. */
    async startChallenge(accountId: string, amr: string[]): Promise<string> {
      const id = newId()
      const secret = randomToken(32)
      const now = clock.now()
      await store.insertChallenge(db, {
        id,
        account_id: accountId,
        secret_hash: sha256(secret),
        amr: amr.join(' '),
        failed_attempts: 0,
        created_at: now,
        expires_at: now + MFA_TOKEN_TTL_MS,
        consumed_at: null,
      })
      return `${id}.${secret}`
    },

    /** The account behind a live mfaToken (for sending an SMS code or passkey options). */
    async challengeAccount(mfaToken: string): Promise<string> {
      return (await liveChallenge(mfaToken)).account_id
    },

    /** Verifies the second factor and consumes the mfaToken; returns the account and the full amr. */
    async completeChallenge(mfaToken: string, proof: FactorProof, client: ClientInfo) {
      const challenge = await liveChallenge(mfaToken)
      try {
        const amr = await verify(challenge.account_id, proof, client)
        if (!(await store.consumeChallenge(db, challenge.id, MFA_TOKEN_MAX_FAILURES, clock.now()))) {
          throw mfaErrors.invalidMfaToken()
        }
        const all = [...new Set([...challenge.amr.split(' '), amr, 'mfa'])]
        return { accountId: challenge.account_id, amr: all }
      } catch (err) {
        if ((err as { code?: string }).code === 'invalid_mfa_code') {
          const failures = await store.recordChallengeFailure(db, challenge.id)
          if (failures >= MFA_TOKEN_MAX_FAILURES) throw mfaErrors.invalidMfaToken()
        }
        throw err
      }
    },
  }

  async function liveChallenge(mfaToken: string) {
    const dot = mfaToken.indexOf('.')
    const challenge = dot > 0 ? await store.findChallenge(db, mfaToken.slice(0, dot)) : undefined
    if (
      !challenge ||
      !constantTimeEqual(sha256(mfaToken.slice(dot + 1)), challenge.secret_hash) ||
      challenge.consumed_at !== null ||
      challenge.expires_at <= clock.now() ||
      challenge.failed_attempts >= MFA_TOKEN_MAX_FAILURES
    ) {
      throw mfaErrors.invalidMfaToken()
    }
    return challenge
  }
}

export type MfaService = ReturnType<typeof createMfaService>
