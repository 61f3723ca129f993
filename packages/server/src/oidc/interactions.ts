/**
 * The hosted sign-in steps of an OIDC authorization (`/interaction/<uid>`): sign in (password or
 * passkey), create an account, the MFA step and consent. The provider sends the browser here
 * when it needs a prompt answered and takes it back with the result.
 *
 * Every POST is a form of ours: same-origin, carrying the interaction's CSRF token, for the
 * interaction bound to this browser's cookie. Sign-in goes through the same checks as the API
 * (sessions/credentials.ts), so rate limits and lockout are the same on both.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { InteractionResults } from 'oidc-provider'
import { Value } from 'typebox/value'
import { Email, PersonName } from '../accounts/schemas.ts'
import type { AccountService } from '../accounts/service.ts'
import { AppError } from '../core/errors.ts'
import { clientInfo } from '../core/http.ts'
import type { PasskeyService } from '../mfa/passkeys.ts'
import { PasskeyCredential, type SecondFactorMethod } from '../mfa/schemas.ts'
import type { MfaService } from '../mfa/service.ts'
import type { SmsService } from '../mfa/sms.ts'
import type { Csrf } from '../pages/csrf.ts'
import { assertSameOriginPost, formField, installFormPosts } from '../pages/forms.ts'
import type { InteractionViews, SecondFactor } from '../pages/interaction/views.ts'
import { type FieldError, pageStrings } from '../pages/render.ts'
import type { PageStrings } from '../pages/strings.ts'
import type { SessionService } from '../sessions/service.ts'
import type { LazyOidc } from './install.ts'
import type { OidcProvider } from './provider.ts'

export interface InteractionDeps {
  oidc: LazyOidc
  sessions: SessionService
  accounts: AccountService
  passkeys: PasskeyService
  /** The live MFA challenge's account, for texting it a code. */
  mfa: MfaService
  sms: SmsService
  csrf: Csrf
  views: InteractionViews
  publicUrl: string
}

type Details = Awaited<ReturnType<ReturnType<OidcProvider['current']>['interactionDetails']>>

const uidOf = (req: FastifyRequest) => (req.params as { uid: string }).uid

const missing = (req: FastifyRequest, field: string, key: 'emailMissing' | 'passwordMissing') => ({
  field,
  message: pageStrings(req).signIn[key],
})

/** The first thing wrong with a sign-up form, checked before anything is looked up. */
function registerFormError(
  s: PageStrings['register'],
  form: { name: string | undefined; email: string },
  password: string,
): FieldError | undefined {
  if (form.email === '') return { field: 'email', message: s.emailMissing }
  if (password === '') return { field: 'password', message: s.passwordMissing }
  if (form.name !== undefined && !Value.Check(PersonName, form.name))
    return { field: 'name', message: s.nameInvalid }
  if (!Value.Check(Email, form.email)) return { field: 'email', message: s.emailInvalid }
  return undefined
}

/**
 * The WebAuthn assertion sign-in.js put in the form, as JSON, checked against the schema the API
 * checks it with; anything else is no assertion.
 */
function parseCredential(json: string | undefined): PasskeyCredential | undefined {
  if (!json) return undefined
  try {
    const value: unknown = JSON.parse(json)
    return Value.Check(PasskeyCredential, value) ? value : undefined
  } catch {
    return undefined
  }
}

/**
 * The code the MFA page asks for first: the app's; for an account with a phone instead, none
 * until the user asks for a text (each one costs, and is limited); else a backup code.
 */
const firstCodeMethod = (methods: SecondFactorMethod[]): SecondFactor | undefined => {
  if (methods.includes('totp')) return 'totp'
  return methods.includes('sms') ? undefined : 'backup_code'
}

const codeMethodOf = (field: string | undefined): SecondFactor =>
  field === 'backup_code' || field === 'sms' ? field : 'totp'

const SECOND_FACTOR_METHODS: readonly string[] = [
  'totp',
  'sms',
  'backup_code',
  'passkey',
] satisfies SecondFactorMethod[]

/** The account's second steps, as the MFA page carried them (they only choose what is shown). */
const methodsOf = (field: string | undefined): SecondFactorMethod[] =>
  (field ?? '').split(' ').filter((m): m is SecondFactorMethod => SECOND_FACTOR_METHODS.includes(m))

export const interactionRoutes: FastifyPluginAsync<InteractionDeps> = async (app, deps) => {
  const { oidc, sessions, accounts, passkeys, mfa, sms, csrf, views } = deps
  const publicOrigin = new URL(deps.publicUrl).origin
  const provider = async () => (await oidc.load()).current()
  installFormPosts(app)

  /** The interaction this browser is in; a stale or foreign uid is the friendly error page. */
  async function details(req: FastifyRequest, reply: FastifyReply): Promise<Details> {
    const found = await (await provider()).interactionDetails(req.raw, reply.raw)
    if (found.uid !== uidOf(req)) throw new AppError(400, 'interaction_mismatch', 'not this sign-in')
    return found
  }

  /** Details of a form post, after the origin and CSRF checks. */
  async function posted(req: FastifyRequest, reply: FastifyReply): Promise<Details> {
    assertSameOriginPost(req, publicOrigin)
    if (!csrf.verify(`interaction:${uidOf(req)}`, formField(req.body, 'csrf')))
      throw new AppError(403, 'csrf_token_invalid', 'the form has expired; start again')
    return details(req, reply)
  }

  async function finish(req: FastifyRequest, reply: FastifyReply, result: InteractionResults) {
    const to = await (await provider()).interactionResult(req.raw, reply.raw, result, {
      mergeWithLastSubmission: false,
    })
    return reply.redirect(to, 303)
  }

  const signedIn = (req: FastifyRequest, reply: FastifyReply, accountId: string, amr: string[]) =>
    finish(req, reply, { login: { accountId, amr, remember: true } })

  app.get('/interaction/:uid', { schema: { hide: true } }, async (req, reply) => {
    const interaction = await details(req, reply)
    if (interaction.prompt.name === 'login') return views.signIn(reply, 200, interaction, {})
    if (interaction.prompt.name === 'consent') {
      const account = await accounts.findById(interaction.session!.accountId)
      return views.consent(reply, interaction, account?.email)
    }
    throw new AppError(400, 'unsupported_prompt', 'this sign-in step is not supported')
  })

  app.post('/interaction/:uid/login', { schema: { hide: true } }, async (req, reply) => {
    const interaction = await posted(req, reply)
    const email = formField(req.body, 'email')?.trim() ?? ''
    const password = formField(req.body, 'password') ?? ''
    if (email === '')
      return views.signIn(reply, 400, interaction, { email, error: missing(req, 'email', 'emailMissing') })
    if (password === '')
      return views.signIn(reply, 400, interaction, {
        email,
        error: missing(req, 'password', 'passwordMissing'),
      })
    try {
      const { account, mfa } = await sessions.checkCredentials({ email, password }, clientInfo(req))
      if (mfa) {
        const { mfaToken, methods } = mfa
        return views.mfa(reply, 200, interaction, { mfaToken, method: firstCodeMethod(methods), methods })
      }
      return await signedIn(req, reply, account.id, ['pwd'])
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err
      reply.headers(err.headers) // Retry-After on 429
      return views.signIn(reply, err.status, interaction, {
        email,
        error: views.signInError(pageStrings(req), err),
      })
    }
  })

  app.post('/interaction/:uid/mfa', { schema: { hide: true } }, async (req, reply) => {
    const interaction = await posted(req, reply)
    const strings = pageStrings(req)
    const mfaToken = formField(req.body, 'mfaToken') ?? ''
    const methods = methodsOf(formField(req.body, 'methods'))
    const switchTo = formField(req.body, 'switch')
    if (switchTo === 'totp' || switchTo === 'backup_code')
      return views.mfa(reply, 200, interaction, { mfaToken, method: switchTo, methods })
    if (switchTo === 'sms') return textCode(req, reply, interaction, { mfaToken, methods })
    const credential = parseCredential(formField(req.body, 'credential'))
    const codeMethod = codeMethodOf(formField(req.body, 'method'))
    const code = formField(req.body, 'code')?.replaceAll(/\s/g, '') ?? ''
    if (!credential && code === '') {
      const error = { field: 'code', message: strings.mfa.codeMissing }
      return views.mfa(reply, 400, interaction, { mfaToken, method: codeMethod, methods, error })
    }
    try {
      const proof = credential
        ? { mfaToken, method: 'passkey' as const, credential }
        : { mfaToken, method: codeMethod, code }
      const { account, amr } = await sessions.checkSecondFactor(proof, clientInfo(req))
      return await signedIn(req, reply, account.id, amr)
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err
      reply.headers(err.headers)
      // A spent or expired challenge cannot be retried: back to the password.
      if (err.code === 'invalid_mfa_token')
        return views.signIn(reply, 400, interaction, { error: views.signInError(strings, err) })
      return views.mfa(reply, err.status, interaction, {
        mfaToken,
        method: codeMethod,
        methods,
        error: views.mfaError(strings, err),
      })
    }
  })

  /** Texts a sign-in code to the account's phone, then asks for it. */
  async function textCode(
    req: FastifyRequest,
    reply: FastifyReply,
    interaction: Details,
    form: { mfaToken: string; methods: SecondFactorMethod[] },
  ) {
    try {
      const accountId = await mfa.challengeAccount(form.mfaToken)
      const { sentTo } = await sms.sendSignInCode(accountId, clientInfo(req))
      return views.mfa(reply, 200, interaction, { ...form, method: 'sms', sentTo })
    } catch (err) {
      // 502: the SMS provider failed; the user may try again or choose another way.
      if (!(err instanceof AppError) || (err.status >= 500 && err.status !== 502)) throw err
      reply.headers(err.headers)
      const strings = pageStrings(req)
      if (err.code === 'invalid_mfa_token')
        return views.signIn(reply, 400, interaction, { error: views.signInError(strings, err) })
      return views.mfa(reply, err.status, interaction, {
        ...form,
        method: firstCodeMethod(form.methods),
        error: views.smsError(strings, err),
      })
    }
  }

  // A passkey alone (discoverable credential, user verification required), from sign-in.js.
  app.post('/interaction/:uid/passkey', { schema: { hide: true } }, async (req, reply) => {
    const interaction = await posted(req, reply)
    const challengeId = formField(req.body, 'challengeId') ?? ''
    const credential = parseCredential(formField(req.body, 'credential'))
    const strings = pageStrings(req)
    const passkeyFailed = { message: strings.signIn.passkeyFailed }
    if (!credential || challengeId === '')
      return views.signIn(reply, 400, interaction, { error: passkeyFailed })
    try {
      const client = clientInfo(req)
      const { accountId, amr } = await passkeys.verifySignIn(challengeId, credential, client)
      const account = await sessions.checkPasskeyAccount(accountId)
      return await signedIn(req, reply, account.id, amr)
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err
      reply.headers(err.headers)
      const error = err.code === 'invalid_passkey' ? passkeyFailed : views.signInError(strings, err)
      return views.signIn(reply, err.status, interaction, { error })
    }
  })

  app.get('/interaction/:uid/register', { schema: { hide: true } }, async (req, reply) => {
    return views.register(reply, 200, await details(req, reply), {})
  })

  app.post('/interaction/:uid/register', { schema: { hide: true } }, async (req, reply) => {
    const interaction = await posted(req, reply)
    const strings = pageStrings(req)
    const form = {
      name: formField(req.body, 'name')?.trim() || undefined,
      email: formField(req.body, 'email')?.trim() ?? '',
    }
    const password = formField(req.body, 'password') ?? ''
    const refused = registerFormError(strings.register, form, password)
    if (refused) return views.register(reply, 400, interaction, { ...form, error: refused })
    try {
      const { account, verificationRequired } = await sessions.registerAccount(
        { ...form, password },
        clientInfo(req),
      )
      if (verificationRequired) return views.checkEmail(reply)
      return await signedIn(req, reply, account.id, ['pwd'])
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err
      reply.headers(err.headers)
      return views.register(reply, err.status, interaction, {
        ...form,
        error: views.registerError(strings, err),
      })
    }
  })

  app.post('/interaction/:uid/consent', { schema: { hide: true } }, async (req, reply) => {
    const interaction = await posted(req, reply)
    if (interaction.prompt.name !== 'consent')
      throw new AppError(400, 'unsupported_prompt', 'nothing to consent to')
    const { Grant } = await provider()
    const { accountId } = interaction.session!
    const clientId = interaction.params.client_id as string
    const grant = interaction.grantId
      ? ((await Grant.find(interaction.grantId)) ?? new Grant({ accountId, clientId }))
      : new Grant({ accountId, clientId })
    const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = interaction.prompt.details as {
      missingOIDCScope?: string[]
      missingOIDCClaims?: string[]
      missingResourceScopes?: Record<string, string[]>
    }
    if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '))
    if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims)
    for (const [resource, scopes] of Object.entries(missingResourceScopes ?? {}))
      grant.addResourceScope(resource, scopes.join(' '))
    const grantId = await grant.save()
    if (formField(req.body, 'remember') === 'yes') {
      const resources: Record<string, string> = {}
      for (const resource of Object.keys(grant.resources ?? {}))
        resources[resource] = grant.getResourceScopeEncountered(resource) ?? ''
      await (await oidc.load()).consent.remember(accountId, clientId, {
        scope: grant.getOIDCScopeEncountered() ?? '',
        resources,
      })
    }
    return finish(req, reply, { consent: { grantId } })
  })

  app.post('/interaction/:uid/abort', { schema: { hide: true } }, async (req, reply) => {
    await posted(req, reply)
    return finish(req, reply, { error: 'access_denied', error_description: 'the user cancelled the sign-in' })
  })
}
