/**
 * Mail templates: each returns a subject, a plain-text body and an HTML body. Every value
 * interpolated into HTML goes through `escapeHtml` (a name or an MFA label is user input).
 */

export interface MailContent {
  subject: string
  text: string
  html: string
}

export interface TemplateContext {
  productName: string
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!)
}

/** "15 minutes", "24 hours". */
export function describeDuration(minutes: number): string {
  if (minutes % 60 !== 0) return `${minutes} minute${minutes === 1 ? '' : 's'}`
  const hours = minutes / 60
  return `${hours} hour${hours === 1 ? '' : 's'}`
}

interface Parts {
  subject: string
  /** Paragraphs of plain text (escaped for HTML by the layout). */
  paragraphs: string[]
  action?: { label: string; link: string }
  /** Closing paragraph, e.g. what to do if this was not you. */
  footer: string
}

function render(ctx: TemplateContext, parts: Parts): MailContent {
  const text = [
    ...parts.paragraphs,
    ...(parts.action ? [`${parts.action.label}:\n${parts.action.link}`] : []),
    parts.footer,
    `— ${ctx.productName}`,
  ].join('\n\n')
  const p = (s: string) => `<p>${escapeHtml(s)}</p>`
  const html = [
    '<!doctype html>',
    `<html><head><meta charset="utf-8"><title>${escapeHtml(parts.subject)}</title></head>`,
    '<body style="font-family: sans-serif; line-height: 1.5">',
    ...parts.paragraphs.map(p),
    ...(parts.action
      ? [
          `<p><a href="${escapeHtml(parts.action.link)}">${escapeHtml(parts.action.label)}</a></p>`,
          `<p style="font-size: small">Or paste this address into your browser: ${escapeHtml(parts.action.link)}</p>`,
        ]
      : []),
    p(parts.footer),
    p(`— ${ctx.productName}`),
    '</body></html>',
  ].join('\n')
  return { subject: parts.subject, text: `${text}\n`, html: `${html}\n` }
}

const NOT_YOU_RESET =
  'If this was not you, reset your password at once and review your active sessions and sign-in methods.'

export function verifyEmailTemplate(ctx: TemplateContext, link: string, validMinutes: number): MailContent {
  return render(ctx, {
    subject: `Confirm your email address for ${ctx.productName}`,
    paragraphs: [
      `Please confirm that this is your email address. The link works once and expires in ${describeDuration(validMinutes)}.`,
    ],
    action: { label: 'Confirm my email address', link },
    footer: 'If you did not create an account or change your address, ignore this message.',
  })
}

export function resetPasswordTemplate(ctx: TemplateContext, link: string, validMinutes: number): MailContent {
  return render(ctx, {
    subject: `Reset your ${ctx.productName} password`,
    paragraphs: [
      `Someone asked to reset the password of the ${ctx.productName} account for this address. ` +
        `The link works once and expires in ${describeDuration(validMinutes)}; any earlier reset link no longer works.`,
      'Choosing a new password signs you out everywhere.',
    ],
    action: { label: 'Choose a new password', link },
    footer: 'If you did not ask for this, ignore this message: your password stays as it is.',
  })
}

export function passwordChangedTemplate(ctx: TemplateContext): MailContent {
  return render(ctx, {
    subject: `Your ${ctx.productName} password was changed`,
    paragraphs: [`The password of your ${ctx.productName} account was just changed.`],
    footer: NOT_YOU_RESET,
  })
}

export function emailChangedTemplate(ctx: TemplateContext, newEmail: string): MailContent {
  return render(ctx, {
    subject: `Your ${ctx.productName} email address was changed`,
    paragraphs: [
      `The email address of your ${ctx.productName} account was changed to ${newEmail}. ` +
        'Messages about the account now go there, not to this address.',
    ],
    footer: NOT_YOU_RESET,
  })
}

export function mfaFactorAddedTemplate(ctx: TemplateContext, label: string): MailContent {
  return render(ctx, {
    subject: `A new sign-in method was added to your ${ctx.productName} account`,
    paragraphs: [`A new multi-factor sign-in method was added to your account: ${label}.`],
    footer: NOT_YOU_RESET,
  })
}

export function mfaDisabledTemplate(ctx: TemplateContext): MailContent {
  return render(ctx, {
    subject: `Multi-factor authentication was turned off for your ${ctx.productName} account`,
    paragraphs: [
      'Multi-factor authentication was turned off for your account: a password alone now signs you in.',
    ],
    footer: NOT_YOU_RESET,
  })
}
