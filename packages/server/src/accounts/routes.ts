import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses } from '../core/openapi.ts'
import type { RequireUser } from '../sessions/require-user.ts'
import { UpdateProfileBody, User } from './schemas.ts'
import type { AccountService } from './service.ts'

export const accountRoutes: FastifyPluginAsyncTypebox<{
  accounts: AccountService
  requireUser: RequireUser
}> = async (app, { accounts, requireUser }) => {
  app.addHook('preHandler', requireUser)

  app.get(
    '/v1/me',
    {
      schema: {
        tags: ['account'],
        summary: 'My profile',
        security: [{ bearer: [] }],
        response: { 200: User, ...errorResponses(401) },
      },
    },
    async (req) => accounts.getProfile(req.auth!.accountId),
  )

  app.patch(
    '/v1/me',
    {
      schema: {
        tags: ['account'],
        summary: 'Update my profile (name, locale, time zone)',
        security: [{ bearer: [] }],
        body: UpdateProfileBody,
        response: { 200: User, ...errorResponses(400, 401) },
      },
    },
    async (req) => accounts.updateProfile(req.auth!.accountId, req.body),
  )
}
