/**
 * The page a password-reset link lands on (`<publicUrl>/reset-password?token=…`).
 *
 * - GET shows the form and spends nothing (mail scanners fetch links).
 * - POST checks the origin, that both passwords match, then hands over to the same service as
 *   `POST /v1/auth/password/reset`: it applies the policy before consuming the token, so a
 *   refused password re-renders the form with the link still usable; a used, expired or unknown
 *   token gets a friendly 400 page; success ends every session of the account.
 */
import type { FastifyPluginAsync, FastifyReply } from 'fastify'
import { AppError } from '../../core/errors.ts'
import { clientInfo } from '../../core/http.ts'
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../../passwords/policy.ts'
import { type PasswordService, RESET_TOKEN_TTL_MINUTES } from '../../passwords/service.ts'
import { assertSameOriginPost, formField, installFormPosts, isMailToken, linkToken } from '../forms.ts'
import { type FieldError, pageStrings, sendMessage, sendView } from '../render.ts'

export const resetPasswordPageRoutes: FastifyPluginAsync<{
  passwords: PasswordService
  publicUrl: string
}> = async (app, { passwords, publicUrl }) => {
  const publicOrigin = new URL(publicUrl).origin
  installFormPosts(app)

  /** The form, or the form again with one error (the field ids are the view's). */
  const sendForm = (reply: FastifyReply, token: string, error?: FieldError) =>
    sendView(reply, error ? 400 : 200, 'reset-password/view', {
      title: pageStrings(reply.request).resetPassword.title,
      token,
      errors: error ? [error] : [],
      minLength: PASSWORD_MIN_LENGTH,
      maxLength: PASSWORD_MAX_LENGTH,
    })
  const sendLinkInvalid = (reply: FastifyReply) => {
    const s = pageStrings(reply.request).resetPassword
    return sendMessage(reply, 400, { title: s.invalidTitle, body: s.invalid(RESET_TOKEN_TTL_MINUTES) })
  }

  app.get('/reset-password', { schema: { hide: true } }, async (req, reply) => {
    const token = linkToken(req)
    if (!token) return sendMessage(reply, 400, pageStrings(req).linkIncomplete)
    return sendForm(reply, token)
  })

  app.post('/reset-password', { schema: { hide: true } }, async (req, reply) => {
    assertSameOriginPost(req, publicOrigin)
    const s = pageStrings(req).resetPassword
    const token = formField(req.body, 'token')
    if (!isMailToken(token)) return sendLinkInvalid(reply)
    const newPassword = formField(req.body, 'newPassword') ?? ''
    const confirmPassword = formField(req.body, 'confirmPassword') ?? ''

    if (newPassword === '')
      return sendForm(reply, token, { field: 'new-password', message: s.passwordMissing })
    if (newPassword !== confirmPassword)
      return sendForm(reply, token, { field: 'confirm-password', message: s.mismatch })
    try {
      await passwords.resetPassword({ token, newPassword }, clientInfo(req))
    } catch (err) {
      if (!(err instanceof AppError)) throw err
      if (err.code === 'reset_token_invalid') return sendLinkInvalid(reply)
      // The policy's reason is meant for the user ("use between 8 and 256 characters").
      if (err.code === 'weak_password')
        return sendForm(reply, token, { field: 'new-password', message: s.weak(err.detail ?? err.code) })
      throw err
    }
    return sendMessage(reply, 200, { title: s.doneTitle, body: s.done })
  })
}
