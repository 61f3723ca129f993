/**
 * The page a password-reset link lands on (`<publicUrl>/reset-password?token=…`).
 *
 * - GET shows the form and spends nothing (mail scanners fetch links).
 * - POST checks the origin, that both passwords match, then hands over to the same service as
 *   `POST /v1/auth/password/reset`: it applies the policy before consuming the token, so a
 *   refused password re-renders the form with the link still usable; a used, expired or unknown
 *   token gets a friendly 400 page; success ends every session of the account.
 */
import type { FastifyPluginAsync } from 'fastify'
import { AppError } from '../../core/errors.ts'
import { clientInfo } from '../../core/http.ts'
import type { PasswordService } from '../../passwords/service.ts'
import { assertSameOriginPost, formField, installFormPosts, isMailToken, linkToken } from '../forms.ts'
import { linkIncompletePage, pageContext, sendPage } from '../render.ts'
import { type FormError, linkInvalidPage, passwordChangedPage, resetForm } from './view.ts'

export const resetPasswordPageRoutes: FastifyPluginAsync<{
  passwords: PasswordService
  productName: string
  publicUrl: string
}> = async (app, { passwords, productName, publicUrl }) => {
  const ctx = pageContext(productName)
  const s = ctx.strings.resetPassword
  const publicOrigin = new URL(publicUrl).origin
  installFormPosts(app, ctx)

  app.get('/reset-password', { schema: { hide: true } }, async (req, reply) => {
    const token = linkToken(req)
    if (!token) return sendPage(reply, 400, linkIncompletePage(ctx))
    return sendPage(reply, 200, resetForm(ctx, token))
  })

  app.post('/reset-password', { schema: { hide: true } }, async (req, reply) => {
    assertSameOriginPost(req, publicOrigin)
    const token = formField(req.body, 'token')
    if (!isMailToken(token)) return sendPage(reply, 400, linkInvalidPage(ctx))
    const newPassword = formField(req.body, 'newPassword') ?? ''
    const confirmPassword = formField(req.body, 'confirmPassword') ?? ''
    const refuse = (error: FormError) => sendPage(reply, 400, resetForm(ctx, token, error))

    if (newPassword === '') return refuse({ field: 'newPassword', message: s.passwordMissing })
    if (newPassword !== confirmPassword) return refuse({ field: 'confirmPassword', message: s.mismatch })
    try {
      await passwords.resetPassword({ token, newPassword }, clientInfo(req))
    } catch (err) {
      if (!(err instanceof AppError)) throw err
      if (err.code === 'reset_token_invalid') return sendPage(reply, 400, linkInvalidPage(ctx))
      // The policy's reason is meant for the user ("use between 8 and 256 characters").
      if (err.code === 'weak_password')
        return refuse({ field: 'newPassword', message: s.weak(err.detail ?? err.code) })
      throw err
    }
    return sendPage(reply, 200, passwordChangedPage(ctx))
  })
}
