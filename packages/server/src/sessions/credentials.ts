/**
 * The checks every sign-in passes, through the API and the hosted pages alike: a per-IP limit,
 * the password check of passwords/checker.ts (lockout point taken first, so a locked account
 * stays locked even for the right password; a dummy verify for unknown emails, so timing reveals
 * nothing), the account's state, and the MFA step when the account has a factor.
 */

import type { RateLimiterAbstract } from 'rate-limiter-flexible'
import type { Account } from '../accounts/service.ts'
import type { ClientInfo } from '../core/http.ts'
import { consumeOrThrow } from '../core/rate-limit.ts'
import type { MfaRequired } from '../mfa/schemas.ts'
import { sessionErrors } from './errors.ts'
import type { LoginBody, MfaLoginBody } from './schemas.ts'
import type { SessionDeps } from './service.ts'

export interface CheckedCredentials {
  account: Account
  /** Set when the account has a second factor: the challenge to complete before signing in. */
  mfa: MfaRequired | undefined
}

export function createCredentialChecks(deps: SessionDeps, perIpLogin: RateLimiterAbstract) {
  const { metrics } = deps

  /**
   * The first step of every sign-in, through the API and the hosted pages alike: the account
   * when the password is right and the account may sign in, and whether a second factor is due.
   */
  async function checkCredentials(input: LoginBody, client: ClientInfo): Promise<CheckedCredentials> {
    await consumeOrThrow(perIpLogin, client.ip)
    const account = await deps.accounts.findByEmail(input.email)
    const passwordOk = await deps.passwords
      .check(account, input.email, input.password, client, 'credentials')
      .catch((err: unknown) => {
        if ((err as { code?: string }).code === 'account_locked')
          metrics.loginOutcomes.inc({ outcome: 'locked' })
        throw err
      })
    if (!passwordOk || !account) {
      metrics.loginOutcomes.inc({ outcome: 'failed' })
      throw sessionErrors.invalidCredentials()
    }
    if (account.disabled_at !== null) {
      metrics.loginOutcomes.inc({ outcome: 'disabled' })
      throw sessionErrors.accountDisabled()
    }
    // Only after the right password, so this answer reveals nothing to someone guessing.
    deps.emailVerification.assertSignInAllowed(account)
    if (deps.hasher.needsRehash(account.password_hash!)) {
      await deps.accounts.setPasswordHash(account.id, await deps.hasher.hash(input.password))
    }
    const { required, methods } = await deps.mfa.secondStep(account.id)
    if (!required) return { account, mfa: undefined }
    metrics.loginOutcomes.inc({ outcome: 'mfa_required' })
    return {
      account,
      mfa: { mfaRequired: true, mfaToken: await deps.mfa.startChallenge(account.id, ['pwd']), methods },
    }
  }

  /** The second step of a sign-in that needs MFA: the account and every method it passed. */
  async function checkSecondFactor(
    input: MfaLoginBody,
    client: ClientInfo,
  ): Promise<{ account: Account; amr: string[] }> {
    await consumeOrThrow(perIpLogin, client.ip)
    const { mfaToken, ...proof } = input
    const { accountId, amr } = await deps.mfa.completeChallenge(mfaToken, proof, client)
    const account = await deps.accounts.findById(accountId)
    if (!account) throw sessionErrors.invalidCredentials()
    if (account.disabled_at !== null) throw sessionErrors.accountDisabled()
    return { account, amr }
  }

  /** After a passwordless passkey assertion: the account, when it may sign in. */
  async function checkPasskeyAccount(accountId: string): Promise<Account> {
    const account = await deps.accounts.findById(accountId)
    if (!account) throw sessionErrors.invalidCredentials()
    if (account.disabled_at !== null) throw sessionErrors.accountDisabled()
    deps.emailVerification.assertSignInAllowed(account)
    return account
  }

  return { checkCredentials, checkSecondFactor, checkPasskeyAccount }
}
