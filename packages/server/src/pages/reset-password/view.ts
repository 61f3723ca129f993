import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../../passwords/policy.ts'
import { RESET_TOKEN_TTL_MINUTES } from '../../passwords/service.ts'
import { escapeHtml, layout, messagePage, type PageContext } from '../render.ts'

export type PasswordField = 'newPassword' | 'confirmPassword'

/** A refused form: which field is at fault and why (plain text). */
export interface FormError {
  field: PasswordField
  message: string
}

const FIELD_IDS: Record<PasswordField, string> = {
  newPassword: 'new-password',
  confirmPassword: 'confirm-password',
}

/**
 * The form, or the form again with an error summary (announced by `role="alert"`, linking to the
 * field) and the field marked `aria-invalid` and described by its error. Passwords are never
 * echoed back; the token is.
 */
export function resetForm(ctx: PageContext, token: string, error?: FormError): string {
  const s = ctx.strings.resetPassword
  const field = (name: PasswordField, label: string, hint?: string) => {
    const id = FIELD_IDS[name]
    const invalid = error?.field === name
    const describedBy = [hint ? `${id}-hint` : '', invalid ? `${id}-error` : ''].filter(Boolean).join(' ')
    const input = [
      `<input id="${id}" name="${name}" type="password" autocomplete="new-password" required`,
      `minlength="${PASSWORD_MIN_LENGTH}" maxlength="${PASSWORD_MAX_LENGTH}"`,
      ...(invalid ? ['aria-invalid="true"'] : []),
      ...(describedBy ? [`aria-describedby="${describedBy}"`] : []),
    ].join(' ')
    return [
      '        <div class="field">',
      `          <label for="${id}">${escapeHtml(label)}</label>`,
      ...(hint ? [`          <span class="hint" id="${id}-hint">${escapeHtml(hint)}</span>`] : []),
      ...(invalid
        ? [
            `          <span class="field-error" id="${id}-error"><span class="visually-hidden">` +
              `${escapeHtml(s.errorPrefix)} </span>${escapeHtml(error.message)}</span>`,
          ]
        : []),
      `          ${input}>`,
      '        </div>',
    ].join('\n')
  }
  const summary = error
    ? `      <div class="error-summary" role="alert" aria-labelledby="error-summary-title">
        <h2 id="error-summary-title">${escapeHtml(s.errorSummary)}</h2>
        <ul><li><a href="#${FIELD_IDS[error.field]}">${escapeHtml(error.message)}</a></li></ul>
      </div>
`
    : ''
  return layout(
    ctx,
    s.title,
    `${summary}      <p>${escapeHtml(s.intro)}</p>
      <form method="post" action="/reset-password">
        <input type="hidden" name="token" value="${escapeHtml(token)}">
${field('newPassword', s.newPassword, s.newPasswordHint(PASSWORD_MIN_LENGTH))}
${field('confirmPassword', s.confirmPassword)}
        <button type="submit">${escapeHtml(s.button)}</button>
      </form>`,
  )
}

export function passwordChangedPage(ctx: PageContext): string {
  const s = ctx.strings.resetPassword
  return messagePage(ctx, { title: s.doneTitle, body: s.done })
}

export function linkInvalidPage(ctx: PageContext): string {
  const s = ctx.strings.resetPassword
  return messagePage(ctx, { title: s.invalidTitle, body: s.invalid(RESET_TOKEN_TTL_MINUTES) })
}
