import { VERIFY_EMAIL_TTL_MINUTES } from '../../accounts/email-verification.ts'
import { escapeHtml, layout, messagePage, type PageContext } from '../render.ts'

/** The button that spends the token: a GET (a mail scanner's prefetch) must not. */
export function confirmPage(ctx: PageContext, token: string): string {
  const s = ctx.strings.verifyEmail
  return layout(
    ctx,
    s.title,
    `      <p>${escapeHtml(s.intro(ctx.productName))}</p>
      <form method="post" action="/verify-email">
        <input type="hidden" name="token" value="${escapeHtml(token)}">
        <button type="submit">${escapeHtml(s.button)}</button>
      </form>`,
  )
}

export function verifiedPage(ctx: PageContext, email: string): string {
  const s = ctx.strings.verifyEmail
  return messagePage(ctx, { title: s.doneTitle, body: s.done(email) })
}

export function linkInvalidPage(ctx: PageContext): string {
  const s = ctx.strings.verifyEmail
  return messagePage(ctx, { title: s.invalidTitle, body: s.invalid(VERIFY_EMAIL_TTL_MINUTES) })
}

export function emailTakenPage(ctx: PageContext): string {
  const s = ctx.strings.verifyEmail
  return messagePage(ctx, { title: s.emailTakenTitle, body: s.emailTaken })
}
