/**
 * The page a verification link lands on (`<publicUrl>/verify-email?token=…`).
 *
 * - GET only shows a button: mail scanners and link previews fetch links, and must not spend
 *   the token.
 * - POST (the button) hands the token to the same service as `POST /v1/auth/email/verify`,
 *   after the same-origin check; a used, expired or unknown token gets a friendly 400 page.
 */
import type { FastifyPluginAsync, FastifyReply } from 'fastify'
import { type EmailVerification, VERIFY_EMAIL_TTL_MINUTES } from '../../accounts/email-verification.ts'
import { AppError } from '../../core/errors.ts'
import { clientInfo } from '../../core/http.ts'
import { assertSameOriginPost, formField, installFormPosts, isMailToken, linkToken } from '../forms.ts'
import { pageStrings, sendMessage, sendView } from '../render.ts'

export const verifyEmailPageRoutes: FastifyPluginAsync<{
  emailVerification: EmailVerification
  publicUrl: string
}> = async (app, { emailVerification, publicUrl }) => {
  const publicOrigin = new URL(publicUrl).origin
  installFormPosts(app)

  const sendLinkInvalid = (reply: FastifyReply) => {
    const s = pageStrings(reply.request).verifyEmail
    return sendMessage(reply, 400, { title: s.invalidTitle, body: s.invalid(VERIFY_EMAIL_TTL_MINUTES) })
  }

  app.get('/verify-email', { schema: { hide: true } }, async (req, reply) => {
    const token = linkToken(req)
    if (!token) return sendMessage(reply, 400, pageStrings(req).linkIncomplete)
    return sendView(reply, 200, 'verify-email/view', { title: pageStrings(req).verifyEmail.title, token })
  })

  app.post('/verify-email', { schema: { hide: true } }, async (req, reply) => {
    assertSameOriginPost(req, publicOrigin)
    const s = pageStrings(req).verifyEmail
    const token = formField(req.body, 'token')
    if (!isMailToken(token)) return sendLinkInvalid(reply)
    try {
      const user = await emailVerification.verify(token, clientInfo(req))
      return sendMessage(reply, 200, { title: s.doneTitle, body: s.done(user.email) })
    } catch (err) {
      if (!(err instanceof AppError)) throw err
      if (err.code === 'verification_token_invalid') return sendLinkInvalid(reply)
      if (err.code === 'email_taken')
        return sendMessage(reply, 409, { title: s.emailTakenTitle, body: s.emailTaken })
      throw err
    }
  })
}
