/**
 * The bridge from oidc-provider to Tessera accounts: who a `sub` is, and the claims each scope
 * releases. A disabled or deleted account is not found, so the provider refuses to issue or
 * refresh anything for it, and userinfo answers 401.
 */
import type { FindAccount, Account as OidcAccount } from 'oidc-provider'
import type { Account, AccountService } from '../accounts/service.ts'

/**
 * Claims released per scope (OIDC Core §5.4). With `openid`: `sub`, and in the ID token `amr`
 * (RFC 8176: how the user signed in: pwd, otp, hwk…), which the provider takes from the sign-in.
 */
export const SCOPE_CLAIMS = {
  openid: ['sub', 'amr'],
  email: ['email', 'email_verified'],
  profile: ['name', 'locale', 'zoneinfo', 'updated_at'],
}

function claimsOf(account: Account): Record<string, unknown> {
  return {
    sub: account.id,
    email: account.email,
    email_verified: account.email_verified_at !== null,
    name: account.name ?? undefined,
    locale: account.locale ?? undefined,
    zoneinfo: account.time_zone ?? undefined,
    updated_at: Math.floor(account.updated_at / 1000),
  }
}

export function createFindAccount(accounts: AccountService): FindAccount {
  return async (_ctx, sub): Promise<OidcAccount | undefined> => {
    const account = await accounts.findById(sub)
    if (!account || account.disabled_at !== null) return undefined
    return { accountId: account.id, claims: async () => claimsOf(account) as { sub: string } }
  }
}
