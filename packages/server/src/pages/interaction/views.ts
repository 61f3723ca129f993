/**
 * The views of the hosted OIDC pages: the interaction steps (sign in, create account, MFA,
 * consent) sent through Fastify, and the pages oidc-provider renders itself through its Koa
 * context (device code, sign out, errors). Both go through render.ts: the layout, the brand,
 * the strings, the page CSP and `no-store`.
 */
import type { FastifyInstance, FastifyReply } from 'fastify'
import type { ErrorOut, KoaContextWithOIDC } from 'oidc-provider'
import type { AppError } from '../../core/errors.ts'
import type { SecondFactorMethod } from '../../mfa/schemas.ts'
import type { LazyOidc } from '../../oidc/install.ts'
import type { OidcPages } from '../../oidc/pages.ts'
import { providerForm } from '../../oidc/pages.ts'
import type { OidcProvider } from '../../oidc/provider.ts'
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../../passwords/policy.ts'
import type { Csrf } from '../csrf.ts'
import { type FieldError, pageStrings, renderPage, sendView, type ViewData } from '../render.ts'
import { type PageStrings, stringsFor } from '../strings.ts'

type Interaction = Awaited<ReturnType<ReturnType<OidcProvider['current']>['interactionDetails']>>
/** A second step a code is typed for. */
export type SecondFactor = 'totp' | 'sms' | 'backup_code'
/** In the order the MFA page offers them. */
const CODE_METHODS: readonly SecondFactor[] = ['totp', 'sms', 'backup_code']

const retryAfter = (err: AppError) => Number(err.headers['retry-after'] ?? 60)

/** What a refused sign-in says: the same words whether or not the account exists. */
function signInError(strings: PageStrings, err: AppError): FieldError {
  const s = strings.signIn
  if (err.status === 429) return { message: s.tooManyAttempts(retryAfter(err)) }
  if (err.code === 'email_not_verified') return { message: s.emailNotVerified }
  if (err.code === 'account_disabled') return { message: s.accountDisabled }
  if (err.code === 'invalid_mfa_token') return { message: s.signInExpired }
  return { message: s.invalidCredentials }
}

function registerError(strings: PageStrings, err: AppError): FieldError {
  const s = strings.register
  if (err.code === 'email_taken') return { field: 'email', message: s.emailTaken }
  if (err.code === 'weak_password')
    return { field: 'password', message: s.weakPassword(err.detail ?? err.code) }
  if (err.status === 429) return { message: strings.signIn.tooManyAttempts(retryAfter(err)) }
  return { field: 'email', message: s.emailInvalid }
}

function mfaError(strings: PageStrings, err: AppError): FieldError {
  const s = strings.mfa
  if (err.status === 429) return { field: 'code', message: s.tooManyAttempts(retryAfter(err)) }
  return { field: 'code', message: s.wrongCode }
}

/** Why no text was sent: too many, or the SMS provider failed (`502`). */
function smsError(strings: PageStrings, err: AppError): FieldError {
  const s = strings.mfa
  if (err.status === 429) return { message: s.tooManyAttempts(retryAfter(err)) }
  return { message: s.smsFailed }
}

/** The code field of the MFA page for one method: its label, hint and keyboard. */
function codeField(s: PageStrings['mfa'], method: SecondFactor) {
  if (method === 'backup_code') return { label: s.backupCode, hint: s.backupCodeHint, inputmode: 'text' }
  if (method === 'sms') return { label: s.smsCode, hint: s.smsHint, inputmode: 'numeric' }
  return { label: s.totpCode, hint: s.totpHint, inputmode: 'numeric' }
}

/** What the button that switches to `method` says; texting again when a text was just sent. */
function switchLabel(s: PageStrings['mfa'], method: SecondFactor, current: SecondFactor | undefined): string {
  if (method === 'sms') return current === 'sms' ? s.resendSms : s.sendSms
  return method === 'backup_code' ? s.useBackupCode : s.useTotp
}

/**
 * The CSP source of where a redirect URI points: its origin, or its scheme for a native app's
 * private-use URI (`com.example.app:`). The provider has already matched it to the client.
 */
function redirectSource(uri: unknown): string[] {
  const url = typeof uri === 'string' ? URL.parse(uri) : null
  if (!url) return []
  return [url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : url.protocol]
}

export interface ViewDeps {
  oidc: LazyOidc
  csrf: Csrf
}

export function createInteractionViews(deps: ViewDeps) {
  const base = (i: Interaction) => `/interaction/${i.uid}`
  const csrfOf = (i: Interaction) => deps.csrf.token(`interaction:${i.uid}`)
  const clientOf = async (i: Interaction) =>
    (await deps.oidc.load()).current().Client.find(i.params.client_id as string)
  // Each step may end in the redirect back to the client (see PageOptions.formRedirects).
  const options = (i: Interaction) => ({ formRedirects: redirectSource(i.params.redirect_uri) })

  return {
    signInError,
    registerError,
    mfaError,
    smsError,

    async signIn(
      reply: FastifyReply,
      status: number,
      i: Interaction,
      form: { email?: string; error?: FieldError },
    ) {
      const client = await clientOf(i)
      return sendView(
        reply,
        status,
        'sign-in/view',
        {
          title: pageStrings(reply.request).signIn.title,
          scripts: ['/assets/sign-in.js'],
          clientName: client?.clientName ?? client?.clientId,
          action: `${base(i)}/login`,
          registerUrl: `${base(i)}/register`,
          passkeyAction: `${base(i)}/passkey`,
          csrf: csrfOf(i),
          email: form.email ?? (i.params.login_hint as string | undefined) ?? '',
          errors: form.error ? [form.error] : [],
        },
        options(i),
      )
    },

    mfa(
      reply: FastifyReply,
      status: number,
      i: Interaction,
      form: {
        mfaToken: string
        methods: SecondFactorMethod[]
        /** The code asked for; none until the account asks for a text, when a text is its first. */
        method: SecondFactor | undefined
        /** The masked number a code was just texted to. */
        sentTo?: string
        error?: FieldError
      },
    ) {
      const s = pageStrings(reply.request).mfa
      const { method } = form
      const passkey = form.methods.includes('passkey')
      const codeForm = method !== undefined && form.methods.includes(method)
      // Every other code the account can give, and another text once one was sent.
      const switches = CODE_METHODS.filter((m) => form.methods.includes(m) && (m !== method || m === 'sms'))
      return sendView(
        reply,
        status,
        'mfa/view',
        {
          title: s.title,
          scripts: passkey ? ['/assets/sign-in.js'] : [],
          methods: form.methods.join(' '),
          passkey,
          codeForm,
          code: method ? codeField(s, method) : undefined,
          sentTo: form.sentTo,
          switches: switches.map((to, index) => ({
            to,
            label: switchLabel(s, to, method),
            primary: !codeForm && index === 0,
          })),
          action: `${base(i)}/mfa`,
          csrf: csrfOf(i),
          mfaToken: form.mfaToken,
          method: method ?? '',
          errors: form.error ? [form.error] : [],
        },
        options(i),
      )
    },

    register(
      reply: FastifyReply,
      status: number,
      i: Interaction,
      form: { name?: string; email?: string; error?: FieldError },
    ) {
      return sendView(
        reply,
        status,
        'register/view',
        {
          title: pageStrings(reply.request).register.title,
          action: `${base(i)}/register`,
          signInUrl: base(i),
          csrf: csrfOf(i),
          name: form.name ?? '',
          email: form.email ?? '',
          minLength: PASSWORD_MIN_LENGTH,
          maxLength: PASSWORD_MAX_LENGTH,
          errors: form.error ? [form.error] : [],
        },
        options(i),
      )
    },

    checkEmail(reply: FastifyReply) {
      const s = pageStrings(reply.request)
      return sendView(reply, 200, 'message/view', {
        title: s.register.checkEmailTitle,
        text: s.register.checkEmail,
      })
    },

    async consent(reply: FastifyReply, i: Interaction, email: string | undefined) {
      const client = await clientOf(i)
      const details = i.prompt.details as {
        missingOIDCScope?: string[]
        missingResourceScopes?: Record<string, string[]>
      }
      const strings = pageStrings(reply.request).consent
      const scopes = [
        ...(details.missingOIDCScope ?? []).map((scope) => strings.scopes[scope] ?? scope),
        ...Object.values(details.missingResourceScopes ?? {}).flat(),
      ]
      const clientName = client?.clientName ?? client?.clientId ?? ''
      return sendView(
        reply,
        200,
        'consent/view',
        {
          title: strings.title(clientName),
          clientName,
          logoUri: client?.logoUri,
          policyUri: client?.policyUri,
          tosUri: client?.tosUri,
          email,
          scopes,
          action: `${base(i)}/consent`,
          abortAction: `${base(i)}/abort`,
          csrf: csrfOf(i),
        },
        options(i),
      )
    },
  }
}

export type InteractionViews = ReturnType<typeof createInteractionViews>

/** Why the device code form is shown again (oidc-provider passes the error it met). */
function deviceError(s: PageStrings, err: unknown): FieldError | undefined {
  if (!err) return undefined
  const { name, userCode } = err as { name?: string; userCode?: string }
  if (name === 'NoCodeError') return { field: 'user-code', message: s.device.codeMissing }
  if (userCode || name === 'NotFoundError' || name === 'ExpiredError')
    return { field: 'user-code', message: s.device.invalidCode }
  return { message: s.device.invalidCode }
}

/**
 * Pages the provider renders itself, written to its Koa context. `app` is the root Fastify
 * instance, where render.ts keeps the brand and the view engine.
 */
export function createProviderPages(app: () => FastifyInstance): OidcPages {
  async function send(
    ctx: KoaContextWithOIDC,
    view: string,
    data: ViewData,
    status = 200,
    formRedirects?: string[],
  ) {
    const page = await renderPage(app(), view, data, {
      acceptLanguage: ctx.get('accept-language'),
      formRedirects,
    })
    ctx.status = status
    for (const [name, value] of Object.entries(page.headers)) ctx.set(name, value)
    ctx.body = page.html
  }
  const clientName = (ctx: KoaContextWithOIDC) =>
    ctx.oidc.client?.clientName ?? ctx.oidc.client?.clientId ?? ''
  const stringsOf = (ctx: KoaContextWithOIDC) => stringsFor(ctx.get('accept-language'))

  return {
    async deviceInput(ctx, form, err) {
      const s = stringsOf(ctx)
      // Cancel on the confirmation page, or consent denied: the device was refused, as asked.
      if ((err as { name?: string } | undefined)?.name === 'AbortedError')
        return send(ctx, 'message/view', { title: s.device.cancelledTitle, text: s.device.cancelled })
      const error = deviceError(s, err)
      const data = { title: s.device.title, ...providerForm(form), errors: error ? [error] : [] }
      await send(ctx, 'device/input', data, error ? 400 : 200)
    },
    async deviceConfirm(ctx, form, name, userCode) {
      await send(ctx, 'device/confirm', {
        title: stringsOf(ctx).device.confirmTitle,
        ...providerForm(form),
        clientName: name,
        userCode,
      })
    },
    async deviceSuccess(ctx) {
      const s = stringsOf(ctx)
      await send(ctx, 'message/view', { title: s.device.successTitle, text: s.device.success })
    },
    async logoutConfirm(ctx, form) {
      await send(ctx, 'sign-out/view', {
        title: stringsOf(ctx).signOut.title,
        ...providerForm(form),
        clientName: clientName(ctx),
      })
    },
    async loggedOut(ctx) {
      const s = stringsOf(ctx)
      await send(ctx, 'message/view', { title: s.signOut.doneTitle, text: s.signOut.done })
    },
    async error(ctx, out: ErrorOut) {
      const status = ctx.status >= 400 ? ctx.status : 400
      const s = stringsOf(ctx)
      await send(ctx, 'error/view', { title: s.error.title, text: s.error.body, code: out.error }, status)
    },
  }
}
