/**
 * Sign-up, sign-in, refresh, sign-out and session management.
 *
 * Login, in order: per-IP limit → the password check of passwords/checker.ts (lockout point
 * taken first, so a locked account stays locked even for the right password; a dummy verify for
 * unknown emails, so timing reveals nothing) → disabled / verified-email checks → the MFA step
 * when the account has a factor → a new session.
 *
 * Refresh rotation (RFC 9700 §4.14.2): the presented token is marked used with a conditional
 * update, so of two concurrent uses exactly one wins; presenting a used token again revokes its
 * whole family (the session) and is audited.
 */
import type { Kysely } from 'kysely'
import type { EmailVerification } from '../accounts/email-verification.ts'
import type { VerificationRequired } from '../accounts/schemas.ts'
import type { Account, AccountService } from '../accounts/service.ts'
import { rolesOf, toUser } from '../accounts/service.ts'
import type { AuditLog } from '../audit/service.ts'
import type { Clock } from '../core/clock.ts'
import type { Dialect } from '../core/db.ts'
import type { DB } from '../core/db-schema.ts'
import type { ClientInfo } from '../core/http.ts'
import { newId } from '../core/ids.ts'
import type { Metrics } from '../core/metrics.ts'
import { consumeOrThrow, type LimiterFactory } from '../core/rate-limit.ts'
import type { MfaRequired } from '../mfa/schemas.ts'
import type { MfaService } from '../mfa/service.ts'
import { deleteAccountModels } from '../oidc/models-store.ts'
import type { PasswordChecker } from '../passwords/checker.ts'
import type { PasswordHasher } from '../passwords/hasher.ts'
import { assertAcceptablePassword } from '../passwords/policy.ts'
import type { AccessTokens } from '../tokens/access-tokens.ts'
import { createCredentialChecks } from './credentials.ts'
import { sessionErrors } from './errors.ts'
import type { SessionLiveness } from './liveness.ts'
import { createReauthentication } from './reauthentication.ts'
import { generateRefreshToken, parseRefreshToken, refreshSecretMatches } from './refresh-tokens.ts'
import type { LoginBody, MfaLoginBody, RegisterBody, SessionInfo, TokenBody } from './schemas.ts'
import {
  findLastSignIn,
  findRefreshToken,
  findRefreshTokenWithSession,
  findSession,
  insertRefreshToken,
  insertSession,
  listLiveSessions,
  revokeSessions,
  rotateRefreshToken,
  type SessionRow,
} from './store.ts'

/** Scope of first-party tokens: the user's own account through the v1 API. */
export const FIRST_PARTY_SCOPE = ['openid', 'profile', 'email']

export interface SessionDeps {
  db: Kysely<DB>
  /** Refresh rotation takes one statement on PostgreSQL and a transaction on SQLite. */
  dialect: Dialect
  clock: Clock
  accounts: AccountService
  hasher: PasswordHasher
  accessTokens: AccessTokens
  audit: AuditLog
  liveness: SessionLiveness
  /** Every password check, with the account lockout (passwords/checker.ts). */
  passwords: PasswordChecker
  emailVerification: EmailVerification
  mfa: MfaService
  limiters: LimiterFactory
  metrics: Metrics
  refreshIdleTtl: number
  sessionMaxTtl: number
  authRateLimitPerMinute: number
}

export function createSessionService(deps: SessionDeps) {
  const { db, clock, audit, metrics } = deps
  const perIp = (action: string) =>
    deps.limiters({ name: `ip:${action}`, points: deps.authRateLimitPerMinute, duration: 60 })
  const ipLimits = { register: perIp('register'), login: perIp('login'), refresh: perIp('refresh') }

  /** A new refresh token of `session`: the token to hand out and the row that stores it. */
  function newRefreshToken(session: Pick<SessionRow, 'id' | 'expires_at'>, now: number) {
    const refresh = generateRefreshToken()
    const row = {
      id: refresh.id,
      session_id: session.id,
      secret_hash: refresh.secretHash,
      created_at: now,
      expires_at: Math.min(now + deps.refreshIdleTtl * 1000, session.expires_at),
      used_at: null,
    }
    return { token: refresh.token, row }
  }

  async function issueRefreshToken(trx: Kysely<DB>, session: Pick<SessionRow, 'id' | 'expires_at'>) {
    const { token, row } = newRefreshToken(session, clock.now())
    await insertRefreshToken(trx, row)
    return token
  }

  function tokenBody(account: Account, session: SessionRow, refreshToken: string, grant: string): TokenBody {
    const accessToken = deps.accessTokens.sign({
      sub: account.id,
      sid: session.id,
      scope: FIRST_PARTY_SCOPE,
      amr: session.amr.split(' '),
      // As the account row says now: a refresh re-reads it, so a new role needs a new token.
      roles: rolesOf(account),
    })
    metrics.tokensIssued.inc({ grant })
    return {
      user: toUser(account),
      accessToken,
      refreshToken,
      tokenType: 'Bearer',
      expiresIn: deps.accessTokens.ttlSeconds,
    }
  }

  /** A new session and its first refresh token, inside the caller's transaction. */
  async function startSession(trx: Kysely<DB>, account: Account, amr: string[], client: ClientInfo) {
    const now = clock.now()
    const session: SessionRow = {
      id: newId(),
      account_id: account.id,
      ip: client.ip,
      user_agent: client.userAgent,
      amr: amr.join(' '),
      created_at: now,
      authenticated_at: now,
      last_seen_at: now,
      expires_at: now + deps.sessionMaxTtl * 1000,
      revoked_at: null,
      revoked_reason: null,
    }
    await insertSession(trx, session)
    return { session, refreshToken: await issueRefreshToken(trx, session) }
  }

  async function revoke(accountId: string, filter: { only?: string; except?: string }, reason: string) {
    const ids = await revokeSessions(db, accountId, filter, clock.now(), reason)
    await deps.liveness.revoked(ids)
    return ids
  }

  /** A new session for an account that has proved who it is, as one transaction. */
  async function signIn(
    account: Account,
    amr: string[],
    client: ClientInfo,
    grant: string,
  ): Promise<TokenBody> {
    metrics.loginOutcomes.inc({ outcome: 'succeeded' })
    const { session, refreshToken } = await db.transaction().execute(async (trx) => {
      const started = await startSession(trx, account, amr, client)
      await audit.record(
        {
          type: 'login.succeeded',
          accountId: account.id,
          sessionId: started.session.id,
          client,
          data: { amr },
        },
        trx,
      )
      return started
    })
    // Signed after the commit: the SQLite connection is not held while the signature is computed.
    return tokenBody(account, session, refreshToken, grant)
  }

  /** Ends the session the access token belongs to. */
  async function logout(accountId: string, sessionId: string, client: ClientInfo): Promise<void> {
    const ended = await revoke(accountId, { only: sessionId }, 'logout')
    if (ended.length > 0) await audit.record({ type: 'logout', accountId, sessionId, client })
  }

  const { checkCredentials, checkSecondFactor, checkPasskeyAccount } = createCredentialChecks(
    deps,
    ipLimits.login,
  )

  /**
   * A new account (and, when asked and no email verification is required first, its first
   * session) as one transaction; the verification mail goes out after the commit.
   */
  async function createRegisteredAccount(input: RegisterBody, client: ClientInfo, withSession: boolean) {
    await consumeOrThrow(ipLimits.register, client.ip)
    assertAcceptablePassword(input.password, input.email)
    const passwordHash = await deps.hasher.hash(input.password)
    const { account, started, sendVerification } = await db.transaction().execute(async (trx) => {
      const account = await deps.accounts.createAccount(
        { email: input.email, passwordHash, name: input.name },
        trx,
      )
      const sendVerification = await deps.emailVerification.issueVerification(trx, account, client)
      // No session until the address is proven: the user signs in after following the link.
      const started =
        withSession && !deps.emailVerification.required
          ? await startSession(trx, account, ['pwd'], client)
          : undefined
      await audit.record(
        { type: 'account.registered', accountId: account.id, sessionId: started?.session.id, client },
        trx,
      )
      return { account, started, sendVerification }
    })
    sendVerification() // after the commit: never mail a link whose token was rolled back
    return { account, started }
  }

  return {
    startSession,

    async register(input: RegisterBody, client: ClientInfo): Promise<TokenBody | VerificationRequired> {
      const { account, started } = await createRegisteredAccount(input, client, true)
      if (!started) return { user: toUser(account), verificationRequired: true }
      return tokenBody(account, started.session, started.refreshToken, 'register')
    },

    /** Sign-up on the hosted pages: the account only (the OIDC provider keeps the browser session). */
    async registerAccount(input: RegisterBody, client: ClientInfo) {
      const { account } = await createRegisteredAccount(input, client, false)
      return { account, verificationRequired: deps.emailVerification.required }
    },

    checkCredentials,
    checkSecondFactor,
    checkPasskeyAccount,

    async login(input: LoginBody, client: ClientInfo): Promise<TokenBody | MfaRequired> {
      const { account, mfa } = await checkCredentials(input, client)
      return mfa ?? signIn(account, ['pwd'], client, 'password')
    },

    /** The second step of a login that needs MFA (`mfaToken` from login). */
    async completeMfa(input: MfaLoginBody, client: ClientInfo): Promise<TokenBody> {
      const { account, amr } = await checkSecondFactor(input, client)
      return signIn(account, amr, client, 'mfa')
    },

    /** Sign-in with a passkey alone: the caller has verified the assertion. */
    async signInWithPasskey(accountId: string, amr: string[], client: ClientInfo): Promise<TokenBody> {
      return signIn(await checkPasskeyAccount(accountId), amr, client, 'passkey')
    },

    ...createReauthentication(deps),

    async refresh(token: string, client: ClientInfo): Promise<TokenBody> {
      await consumeOrThrow(ipLimits.refresh, client.ip)
      const parsed = parseRefreshToken(token)
      const found = parsed && (await findRefreshTokenWithSession(db, parsed.id))
      if (!parsed || !found || !refreshSecretMatches(parsed.secret, found.token.secret_hash)) {
        throw sessionErrors.invalidRefreshToken()
      }
      const { token: row, session } = found
      const now = clock.now()
      if (session.revoked_at !== null || session.expires_at <= now) throw sessionErrors.invalidRefreshToken()
      const account = await deps.accounts.findById(session.account_id)
      if (!account || account.disabled_at !== null) throw sessionErrors.sessionEnded()

      const reuse = async () => {
        await revoke(session.account_id, { only: session.id }, 'refresh_token_reused')
        metrics.refreshReuse.inc()
        await audit.record({
          type: 'refresh_token.reused',
          accountId: session.account_id,
          sessionId: session.id,
          client,
          data: { refreshTokenId: row.id },
        })
        return sessionErrors.refreshTokenReused()
      }
      if (row.used_at !== null) throw await reuse()
      if (row.expires_at <= now) throw sessionErrors.invalidRefreshToken()

      // The old token dies only if its successor is stored; losing the race to another use is reuse.
      const successor = newRefreshToken(session, now)
      if (!(await rotateRefreshToken(deps, row.id, successor.row))) throw await reuse()
      return tokenBody(account, session, successor.token, 'refresh_token')
    },

    logout,

    /** Ends the session a refresh token belongs to; unknown tokens are ignored (RFC 7009 §2.2). */
    async logoutWithRefreshToken(token: string, client: ClientInfo): Promise<void> {
      const parsed = parseRefreshToken(token)
      const row = parsed && (await findRefreshToken(db, parsed.id))
      if (!parsed || !row || !refreshSecretMatches(parsed.secret, row.secret_hash)) return
      const session = await findSession(db, row.session_id)
      if (session) await logout(session.account_id, session.id, client)
    },

    async listSessions(accountId: string, currentSessionId: string): Promise<SessionInfo[]> {
      const rows = await listLiveSessions(db, accountId, clock.now())
      return rows.map((s) => ({
        id: s.id,
        current: s.id === currentSessionId,
        ip: s.ip,
        userAgent: s.user_agent,
        amr: s.amr.split(' '),
        createdAt: new Date(s.created_at).toISOString(),
        lastSeenAt: new Date(s.last_seen_at).toISOString(),
        expiresAt: new Date(s.expires_at).toISOString(),
      }))
    },

    /** Ends one of the account's sessions; false when it has no such live session. */
    async endSession(accountId: string, sessionId: string, client: ClientInfo): Promise<boolean> {
      const ended = await revoke(accountId, { only: sessionId }, 'ended_by_user')
      if (ended.length > 0)
        await audit.record({ type: 'sessions.revoked', accountId, sessionId, client, data: { ended } })
      return ended.length > 0
    },

    /** Ends every session of the account except the current one ("sign out everywhere else"). */
    async endOtherSessions(accountId: string, currentSessionId: string, client: ClientInfo): Promise<number> {
      const ended = await revoke(accountId, { except: currentSessionId }, 'ended_by_user')
      if (ended.length > 0) {
        await audit.record({
          type: 'sessions.revoked',
          accountId,
          sessionId: currentSessionId,
          client,
          data: { ended },
        })
      }
      return ended.length
    },

    /**
     * Revokes every session of the account but `keepSessionId` (all when omitted) inside the
     * caller's transaction, and ends everything the OIDC provider holds for it (its single
     * sign-on sessions, grants and tokens). Call `announceRevoked` with the result once it has
     * committed.
     */
    async revokeSessionsIn(
      trx: Kysely<DB>,
      accountId: string,
      keepSessionId: string | undefined,
      reason: string,
    ): Promise<string[]> {
      const ids = await revokeSessions(
        trx,
        accountId,
        keepSessionId ? { except: keepSessionId } : {},
        clock.now(),
        reason,
      )
      await deleteAccountModels(trx, accountId)
      return ids
    },

    /** When the account last signed in (its newest session began), or null if it never has. */
    lastSignInAt: (accountId: string) => findLastSignIn(db, accountId),

    /** Purges revoked sessions from every instance's liveness cache (after commit, never before). */
    announceRevoked: (sessionIds: string[]) => deps.liveness.revoked(sessionIds),
  }
}

export type SessionService = ReturnType<typeof createSessionService>
