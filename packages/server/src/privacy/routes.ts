import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { clientInfo } from '../core/http.ts'
import { errorResponses } from '../core/openapi.ts'
import type { RequireRecentAuth } from '../sessions/require-recent-auth.ts'
import { AccountExport } from './schemas.ts'
import type { PrivacyService } from './service.ts'

const security = [{ bearer: [] }]
const recentAuth =
  ' Needs a sign-in or re-authentication (`POST /v1/me/reauthenticate`) within the last 5 minutes.'

export const privacyRoutes: FastifyPluginAsyncTypebox<{
  privacy: PrivacyService
  requireRecentAuth: RequireRecentAuth
}> = async (app, { privacy, requireRecentAuth }) => {
  // A stolen access token alone must not read the account's history, nor delete the account.
  app.addHook('preHandler', requireRecentAuth)

  app.get(
    '/v1/me/export',
    {
      schema: {
        tags: ['account'],
        summary: 'A copy of everything kept about me: profile, sessions, factors, passkeys, grants, history',
        description: `Secrets (password hash, factor secrets, tokens) are never part of it.${recentAuth}`,
        security,
        response: { 200: AccountExport, ...errorResponses(401, 403) },
      },
    },
    async (req) => privacy.exportAccount(req.auth!.accountId, req.auth!.sessionId),
  )

  app.delete(
    '/v1/me',
    {
      schema: {
        tags: ['account'],
        summary: 'Delete my account and everything it owns; every session ends at once',
        description: `The audit history of the account stays.${recentAuth}`,
        security,
        response: { 204: Type.Null(), ...errorResponses(401, 403) },
      },
    },
    async (req, reply) => {
      await privacy.eraseAccount(req.auth!.accountId, { self: clientInfo(req) })
      return reply.status(204).send(null)
    },
  )
}
