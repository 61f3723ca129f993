import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { errorResponses } from '../core/openapi.ts'
import { actorOf, type RequireAdmin } from '../sessions/require-admin.ts'
import { AdminUser, AdminUserDetail, ListUsersQuery, UserIdParams, UserPage } from './schemas.ts'
import type { AdminService } from './service.ts'

const security = [{ bearer: [] }]

export const adminRoutes: FastifyPluginAsyncTypebox<{
  admin: AdminService
  requireAdmin: RequireAdmin
}> = async (app, { admin, requireAdmin }) => {
  // At onRequest, before parsing and validation: whoever is not an administrator learns
  // nothing about these routes, not even what input they accept.
  app.addHook('onRequest', requireAdmin)

  app.get(
    '/v1/admin/users',
    {
      schema: {
        tags: ['admin'],
        summary: 'List users, newest first, optionally searching email and name',
        security,
        querystring: ListUsersQuery,
        response: { 200: UserPage, ...errorResponses(400, 401, 403) },
      },
    },
    async (req) => admin.listUsers(req.query),
  )

  app.get(
    '/v1/admin/users/:id',
    {
      schema: {
        tags: ['admin'],
        summary: 'One user, with MFA and sign-in status',
        security,
        params: UserIdParams,
        response: { 200: AdminUserDetail, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (req) => admin.getUser(req.params.id),
  )

  app.post(
    '/v1/admin/users/:id/disable',
    {
      schema: {
        tags: ['admin'],
        summary: 'Disable a user: sign-in is refused and every session ends at once',
        security,
        params: UserIdParams,
        response: { 200: AdminUser, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (req) => admin.disableUser(actorOf(req), req.params.id),
  )

  app.post(
    '/v1/admin/users/:id/enable',
    {
      schema: {
        tags: ['admin'],
        summary: 'Enable a disabled user (they sign in again)',
        security,
        params: UserIdParams,
        response: { 200: AdminUser, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (req) => admin.enableUser(actorOf(req), req.params.id),
  )

  app.delete(
    '/v1/admin/users/:id',
    {
      schema: {
        tags: ['admin'],
        summary: 'Delete a user and everything they own (sessions, tokens, factors)',
        security,
        params: UserIdParams,
        response: { 204: Type.Null(), ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (req, reply) => {
      await admin.deleteUser(actorOf(req), req.params.id)
      return reply.status(204).send(null)
    },
  )
}
