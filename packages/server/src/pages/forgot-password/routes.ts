/**
 * "Forgot your password?" from the sign-in page (`/forgot-password`): asks for the address and
 * hands it to the same service as `POST /v1/auth/password/forgot`, which mails a reset link when
 * the account exists. The page says the same either way, so it reveals nothing.
 */
import type { FastifyPluginAsync } from 'fastify'
import { Value } from 'typebox/value'
import { Email } from '../../accounts/schemas.ts'
import { clientInfo } from '../../core/http.ts'
import type { PasswordService } from '../../passwords/service.ts'
import { assertSameOriginPost, formField, installFormPosts } from '../forms.ts'
import { pageStrings, sendMessage, sendView } from '../render.ts'

export const forgotPasswordPageRoutes: FastifyPluginAsync<{
  passwords: PasswordService
  publicUrl: string
}> = async (app, { passwords, publicUrl }) => {
  const publicOrigin = new URL(publicUrl).origin
  installFormPosts(app)

  app.get('/forgot-password', { schema: { hide: true } }, async (req, reply) =>
    sendView(reply, 200, 'forgot-password/view', { title: pageStrings(req).forgotPassword.title, email: '' }),
  )

  app.post('/forgot-password', { schema: { hide: true } }, async (req, reply) => {
    assertSameOriginPost(req, publicOrigin)
    const s = pageStrings(req).forgotPassword
    const email = formField(req.body, 'email')?.trim() ?? ''
    if (!Value.Check(Email, email)) {
      const errors = [{ field: 'email', message: s.emailInvalid }]
      return sendView(reply, 400, 'forgot-password/view', { title: s.title, email, errors })
    }
    await passwords.forgotPassword(email, clientInfo(req))
    return sendMessage(reply, 202, { title: s.sentTitle, body: s.sent })
  })
}
