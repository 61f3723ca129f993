/**
 * Mail about factor changes goes to the account's address, so a user learns at once when
 * someone else adds or removes a factor.
 */
import type { AccountService } from '../accounts/service.ts'
import type { Notifier } from '../mail/service.ts'
import type { MfaNotifications } from './service.ts'

export function createMfaNotifications(deps: {
  accounts: AccountService
  notifier: Notifier
}): MfaNotifications {
  const mailTo = (accountId: string, send: (email: string) => void) =>
    void deps.accounts.findById(accountId).then(
      (account) => account && send(account.email),
      () => {}, // the change itself is done and audited; a failed lookup only costs the notice
    )
  return {
    factorAdded: (accountId, label) =>
      mailTo(accountId, (email) => deps.notifier.mfaFactorAdded(email, label)),
    mfaDisabled: (accountId) => mailTo(accountId, (email) => deps.notifier.mfaDisabled(email)),
  }
}
