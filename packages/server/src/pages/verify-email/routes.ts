/**
 * The page a verification link lands on (`<publicUrl>/verify-email?token=…`).
 *
 * - GET only shows a button: mail scanners and link previews fetch links, and must not spend
 *   the token.
 * - POST (the button) hands the token to the same service as `POST /v1/auth/email/verify`,
 *   after the same-origin check; a used, expired or unknown token gets a friendly 400 page.
 */
import type { FastifyPluginAsync } from 'fastify'
import type { EmailVerification } from '../../accounts/email-verification.ts'
import { AppError } from '../../core/errors.ts'
import { clientInfo } from '../../core/http.ts'
import { assertSameOriginPost, formField, installFormPosts, isMailToken, linkToken } from '../forms.ts'
import { linkIncompletePage, pageContext, sendPage } from '../render.ts'
import { confirmPage, emailTakenPage, linkInvalidPage, verifiedPage } from './view.ts'

export const verifyEmailPageRoutes: FastifyPluginAsync<{
  emailVerification: EmailVerification
  productName: string
  publicUrl: string
}> = async (app, { emailVerification, productName, publicUrl }) => {
  const ctx = pageContext(productName)
  const publicOrigin = new URL(publicUrl).origin
  installFormPosts(app, ctx)

  app.get('/verify-email', { schema: { hide: true } }, async (req, reply) => {
    const token = linkToken(req)
    if (!token) return sendPage(reply, 400, linkIncompletePage(ctx))
    return sendPage(reply, 200, confirmPage(ctx, token))
  })

  app.post('/verify-email', { schema: { hide: true } }, async (req, reply) => {
    assertSameOriginPost(req, publicOrigin)
    const token = formField(req.body, 'token')
    if (!isMailToken(token)) return sendPage(reply, 400, linkInvalidPage(ctx))
    try {
      const user = await emailVerification.verify(token, clientInfo(req))
      return sendPage(reply, 200, verifiedPage(ctx, user.email))
    } catch (err) {
      if (!(err instanceof AppError)) throw err
      if (err.code === 'verification_token_invalid') return sendPage(reply, 400, linkInvalidPage(ctx))
      if (err.code === 'email_taken') return sendPage(reply, 409, emailTakenPage(ctx))
      throw err
    }
  })
}
