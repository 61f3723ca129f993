/**
 * Email verification and email change.
 *
 * - A link is a 256-bit random token; only its SHA-256 is stored, and it is consumed with a
 *   conditional update (`consumed_at IS NULL AND expires_at > now`), so it works once even
 *   when two requests race.
 * - A token carries the address it was mailed to and is honoured only while the account still
 *   has that address (an old link cannot verify a newer address).
 * - Resend answers the same whatever the address, and does its look-up after the response
 *   (no account enumeration, by content or by timing); it is limited per IP and per address.
 * - Changing the address needs the password again; the new address takes effect only when the
 *   link mailed to it is followed, if no other account has taken it meanwhile. The old
 *   address is told.
 */
import type { Kysely } from 'kysely'
import type { AuditLog } from '../audit/service.ts'
import type { Clock } from '../core/clock.ts'
import { randomToken, sha256 } from '../core/crypto.ts'
import type { DB } from '../core/db-schema.ts'
import type { ClientInfo } from '../core/http.ts'
import { newId } from '../core/ids.ts'
import type { Mailer } from '../core/mailer.ts'
import {
  consumeOneTimeToken,
  findOneTimeToken,
  insertOneTimeToken,
  retireOneTimeTokens,
} from '../core/one-time-tokens.ts'
import { consumeOrThrow, type LimiterFactory } from '../core/rate-limit.ts'
import type { Notifier } from '../mail/service.ts'
import type { PasswordChecker } from '../passwords/checker.ts'
import { accountErrors } from './errors.ts'
import type { User } from './schemas.ts'
import { type Account, type AccountService, emailKey, normalizeEmail, toUser } from './service.ts'
import { changeAccountEmail, findAccountByEmailKey, findAccountById, markEmailVerified } from './store.ts'

export const VERIFY_EMAIL_TTL_MINUTES = 24 * 60
/** Verification mails one address can be sent per hour through resend. */
export const RESEND_PER_ADDRESS_PER_HOUR = 5
/** Email-change attempts (each checks the password) per account per hour. */
export const EMAIL_CHANGES_PER_HOUR = 10

const HOUR_SECONDS = 3600

export interface EmailVerificationDeps {
  db: Kysely<DB>
  clock: Clock
  accounts: AccountService
  /** Checks the current password with the account lockout. */
  checker: PasswordChecker
  audit: AuditLog
  notifier: Notifier
  mailer: Pick<Mailer, 'defer'>
  limiters: LimiterFactory
  /** Sign-in is refused until the address is verified. */
  requireVerifiedEmail: boolean
  ipRateLimitPerMinute: number
}

interface TokenData {
  /** The address the link was mailed to. */
  email: string
}

export interface EmailChangeInput {
  accountId: string
  sessionId: string
  newEmail: string
  password: string
}

export function createEmailVerification(deps: EmailVerificationDeps) {
  const { db, clock, audit, notifier } = deps
  const limits = {
    resendPerIp: deps.limiters({ name: 'ip:email-resend', points: deps.ipRateLimitPerMinute, duration: 60 }),
    resendPerAddress: deps.limiters({
      name: 'email:email-resend',
      points: RESEND_PER_ADDRESS_PER_HOUR,
      duration: HOUR_SECONDS,
    }),
    changePerAccount: deps.limiters({
      name: 'account:email-change',
      points: EMAIL_CHANGES_PER_HOUR,
      duration: HOUR_SECONDS,
    }),
  }

  /** Stores a new verification token for `email` (the account's, or a new one) in `trx`. */
  async function storeToken(
    trx: Kysely<DB>,
    accountId: string,
    purpose: 'verify_email' | 'change_email',
    email: string,
  ): Promise<string> {
    const token = randomToken()
    const now = clock.now()
    const data: TokenData = { email }
    await insertOneTimeToken(trx, {
      id: newId(),
      purpose,
      account_id: accountId,
      secret_hash: sha256(token),
      data: JSON.stringify(data),
      created_at: now,
      expires_at: now + VERIFY_EMAIL_TTL_MINUTES * 60_000,
      consumed_at: null,
    })
    return token
  }

  /**
   * Creates a verification link for the account's address inside `trx` (audited there too) and
   * returns the function that mails it: call that once the transaction has committed.
   */
  async function issueVerification(
    trx: Kysely<DB>,
    account: Account,
    client: ClientInfo | undefined,
  ): Promise<() => void> {
    const token = await storeToken(trx, account.id, 'verify_email', account.email)
    await audit.record({ type: 'email.verification_sent', accountId: account.id, client }, trx)
    return () => notifier.verifyEmail(account.email, token, VERIFY_EMAIL_TTL_MINUTES)
  }

  return {
    required: deps.requireVerifiedEmail,
    issueVerification,

    /** Throws `403 email_not_verified` when verification is required and still missing. */
    assertSignInAllowed(account: Account): void {
      if (deps.requireVerifiedEmail && account.email_verified_at === null)
        throw accountErrors.emailNotVerified()
    },

    /** Follows a verification or email-change link. */
    async verify(token: string, client: ClientInfo): Promise<User> {
      const row = await findOneTimeToken(db, sha256(token), ['verify_email', 'change_email'])
      if (!row || row.consumed_at !== null || row.expires_at <= clock.now())
        throw accountErrors.verificationTokenInvalid()
      const { email } = JSON.parse(row.data) as TokenData

      const outcome = await db.transaction().execute(async (trx) => {
        const now = clock.now()
        if (!(await consumeOneTimeToken(trx, row.id, now))) throw accountErrors.verificationTokenInvalid()
        const account = await findAccountById(trx, row.account_id)
        if (!account || account.disabled_at !== null) throw accountErrors.verificationTokenInvalid()

        if (row.purpose === 'verify_email') {
          // The account has moved to another address since this link was sent.
          if (account.email_key !== emailKey(email)) throw accountErrors.verificationTokenInvalid()
          if (account.email_verified_at === null) {
            await markEmailVerified(trx, account.id, now)
            await audit.record(
              { type: 'email.verified', accountId: account.id, client, data: { email: account.email } },
              trx,
            )
          }
          return { accountId: account.id, previousEmail: undefined }
        }

        // change_email: the new address must still be free now.
        const holder = await findAccountByEmailKey(trx, emailKey(email))
        if (holder && holder.id !== account.id) throw accountErrors.emailTaken()
        const changed = await changeAccountEmail(trx, account.id, {
          email: normalizeEmail(email),
          emailKey: emailKey(email),
          now,
        })
        if (!changed) throw accountErrors.emailTaken()
        await audit.record(
          { type: 'email.changed', accountId: account.id, client, data: { from: account.email, to: email } },
          trx,
        )
        return { accountId: account.id, previousEmail: account.email }
      })

      const account = await findAccountById(db, outcome.accountId)
      if (!account) throw accountErrors.verificationTokenInvalid()
      if (outcome.previousEmail) notifier.emailChanged(outcome.previousEmail, account.email)
      return toUser(account)
    },

    /**
     * Sends a fresh link to an unverified account's address. Answers the same for every
     * address: the look-up runs after the response.
     */
    async resend(email: string, client: ClientInfo): Promise<void> {
      await consumeOrThrow(limits.resendPerIp, client.ip)
      await consumeOrThrow(limits.resendPerAddress, emailKey(email))
      deps.mailer.defer('email verification resend', async () => {
        const account = await deps.accounts.findByEmail(email)
        if (!account || account.email_verified_at !== null || account.disabled_at !== null) return
        const send = await db.transaction().execute((trx) => issueVerification(trx, account, client))
        send()
      })
    },

    /** Mails a link to the new address; the change happens when it is followed. */
    async requestEmailChange(input: EmailChangeInput, client: ClientInfo): Promise<{ pendingEmail: string }> {
      await consumeOrThrow(limits.changePerAccount, input.accountId)
      const account = await deps.accounts.findById(input.accountId)
      if (!account) throw accountErrors.accountNotFound()
      if (!(await deps.checker.check(account, account.email, input.password, client, 'email_change'))) {
        throw accountErrors.invalidPassword()
      }
      const newEmail = normalizeEmail(input.newEmail)
      if (emailKey(newEmail) === account.email_key) throw accountErrors.emailUnchanged()
      if (await deps.accounts.findByEmail(newEmail)) throw accountErrors.emailTaken()

      const token = await db.transaction().execute(async (trx) => {
        // Only the latest requested address can be confirmed.
        await retireOneTimeTokens(trx, account.id, 'change_email', clock.now())
        const token = await storeToken(trx, account.id, 'change_email', newEmail)
        await audit.record(
          {
            type: 'email.change_requested',
            accountId: account.id,
            sessionId: input.sessionId,
            client,
            data: { from: account.email, to: newEmail },
          },
          trx,
        )
        return token
      })
      notifier.verifyEmail(newEmail, token, VERIFY_EMAIL_TTL_MINUTES)
      return { pendingEmail: newEmail }
    },
  }
}

export type EmailVerification = ReturnType<typeof createEmailVerification>
