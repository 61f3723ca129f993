import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { clientInfo } from '../core/http.ts'
import { errorResponses } from '../core/openapi.ts'
import type { RequireUser } from '../sessions/require-user.ts'
import { NewPassword, Password } from './schemas.ts'
import type { PasswordService } from './service.ts'

const ChangePasswordBody = Type.Object(
  { currentPassword: Password, newPassword: NewPassword },
  { additionalProperties: false },
)

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
}
