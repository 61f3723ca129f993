/**
 * Notifications: the mails Tessera sends, composed from templates and handed to the mailer's
 * queue (every method returns at once and never throws for delivery problems).
 *
 * Links are built here and only here, from the configured public URL — never from the
 * request's Host header, which an attacker controls (a forged Host would otherwise put the
 * victim's reset token into a link to the attacker's site).
 */
import type { MailMessage } from '../core/mailer.ts'
import {
  emailChangedTemplate,
  type MailContent,
  mfaDisabledTemplate,
  mfaFactorAddedTemplate,
  passwordChangedTemplate,
  resetPasswordTemplate,
  type TemplateContext,
  verifyEmailTemplate,
} from './templates.ts'

/** Where the links in mail point; the hosted pages there hand the token to the API. */
export const LINK_PATHS = { verifyEmail: '/verify-email', resetPassword: '/reset-password' } as const

export interface NotifierDeps {
  mailer: { send(message: MailMessage): void }
  /** `config.publicUrl`, without a trailing slash. */
  publicUrl: string
  productName?: string
}

export function createNotifier(deps: NotifierDeps) {
  const ctx: TemplateContext = { productName: deps.productName ?? 'Tessera' }
  const base = deps.publicUrl.replace(/\/+$/, '')
  const link = (path: string, token: string) => `${base}${path}?token=${encodeURIComponent(token)}`
  const send = (to: string, content: MailContent, links: string[] = []) =>
    deps.mailer.send({ to, ...content, links })

  return {
    /** "Confirm this address" with a single-use link (after sign-up, on resend, or for a new address). */
    verifyEmail(to: string, token: string, validMinutes: number): void {
      const url = link(LINK_PATHS.verifyEmail, token)
      send(to, verifyEmailTemplate(ctx, url, validMinutes), [url])
    },
    resetPassword(to: string, token: string, validMinutes: number): void {
      const url = link(LINK_PATHS.resetPassword, token)
      send(to, resetPasswordTemplate(ctx, url, validMinutes), [url])
    },
    passwordChanged(to: string): void {
      send(to, passwordChangedTemplate(ctx))
    },
    /** To the old address, once the change is done. */
    emailChanged(to: string, newEmail: string): void {
      send(to, emailChangedTemplate(ctx, newEmail))
    },
    /** For the MFA feature: a factor (authenticator app, passkey, backup codes) was added. */
    mfaFactorAdded(to: string, label: string): void {
      send(to, mfaFactorAddedTemplate(ctx, label))
    },
    /** For the MFA feature: the last factor was removed. */
    mfaDisabled(to: string): void {
      send(to, mfaDisabledTemplate(ctx))
    },
  }
}

export type Notifier = ReturnType<typeof createNotifier>
