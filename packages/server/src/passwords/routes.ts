import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { Email } from '../accounts/schemas.ts'
import { clientInfo } from '../core/http.ts'
import { errorResponses } from '../core/openapi.ts'
import type { RequireUser } from '../sessions/require-user.ts'
import { NewPassword, Password } from './schemas.ts'
import type { PasswordService } from './service.ts'

const ChangePasswordBody = Type.Object(
  { currentPassword: Password, newPassword: NewPassword },
  { additionalProperties: false },
)

const ForgotPasswordBody = Type.Object({ email: Email }, { additionalProperties: false })

/** A token from the mailed link (`/reset-password?token=…`). */
const ResetToken = Type.String({ minLength: 20, maxLength: 200, pattern: '^[A-Za-z0-9_-]+$' })
const ResetPasswordBody = Type.Object(
  { token: ResetToken, newPassword: NewPassword },
  { additionalProperties: false },
)

const ForgotAccepted = Type.Object(
  { message: Type.String() },
  { additionalProperties: false, description: 'the same body whether or not the address has an account' },
)
/** Identical for every address, so the answer says nothing about who has an account. */
const FORGOT_ACCEPTED = { message: 'If this address belongs to an account, a reset link is on its way.' }

export const passwordRoutes: FastifyPluginAsyncTypebox<{
  passwords: PasswordService
  requireUser: RequireUser
}> = async (app, { passwords, requireUser }) => {
  app.post(
    '/v1/me/password',
    {
      preHandler: requireUser,
      schema: {
        tags: ['account'],
        summary: 'Change my password (ends every other session)',
        security: [{ bearer: [] }],
        body: ChangePasswordBody,
        response: { 204: Type.Null(), ...errorResponses(400, 401, 403) },
      },
    },
    async (req, reply) => {
      await passwords.changePassword(
        { accountId: req.auth!.accountId, sessionId: req.auth!.sessionId, ...req.body },
        clientInfo(req),
      )
      return reply.status(204).send(null)
    },
  )

  app.post(
    '/v1/auth/password/forgot',
    {
      schema: {
        tags: ['auth'],
        summary:
          'Mail a password-reset link (always 202 with the same body, whether or not the address has an account)',
        body: ForgotPasswordBody,
        response: { 202: ForgotAccepted, ...errorResponses(400, 429) },
      },
    },
    async (req, reply) => {
      await passwords.forgotPassword(req.body.email, clientInfo(req))
      return reply.status(202).send(FORGOT_ACCEPTED)
    },
  )

  app.post(
    '/v1/auth/password/reset',
    {
      schema: {
        tags: ['auth'],
        summary: 'Set a new password with the token from the reset link (ends every session)',
        description:
          'The token is single-use and expires after 15 minutes. `400 reset_token_invalid` for an unknown, ' +
          'used or expired token; `400 weak_password` leaves the token usable.',
        body: ResetPasswordBody,
        response: { 204: Type.Null(), ...errorResponses(400, 429) },
      },
    },
    async (req, reply) => {
      await passwords.resetPassword(req.body, clientInfo(req))
      return reply.status(204).send(null)
    },
  )
}
