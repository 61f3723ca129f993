import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { errorResponses } from '../core/openapi.ts'
import { actorOf, type RequireAdmin } from '../sessions/require-admin.ts'
import {
  ApiResourceIdParams,
  ApiResourcePage,
  ApiResourceView,
  CreateApiResourceBody,
  ListApiResourcesQuery,
  UpdateApiResourceBody,
} from './schemas.ts'
import type { ApiResourceService } from './service.ts'

const security = [{ bearer: [] }]
const tags = ['admin']

export const apiResourceRoutes: FastifyPluginAsyncTypebox<{
  apiResources: ApiResourceService
  requireAdmin: RequireAdmin
}> = async (app, { apiResources, requireAdmin }) => {
  // At onRequest, before parsing and validation: non-administrators learn nothing about these routes.
  app.addHook('onRequest', requireAdmin)

  app.post(
    '/v1/admin/api-resources',
    {
      schema: {
        tags,
        summary: 'Register an API that access tokens may be issued for (RFC 8707 resource indicator)',
        security,
        body: CreateApiResourceBody,
        response: { 201: ApiResourceView, ...errorResponses(400, 401, 403, 409) },
      },
    },
    async (req, reply) =>
      reply.status(201).send(await apiResources.createApiResource(actorOf(req), req.body)),
  )

  app.get(
    '/v1/admin/api-resources',
    {
      schema: {
        tags,
        summary: 'List API resources, newest first',
        security,
        querystring: ListApiResourcesQuery,
        response: { 200: ApiResourcePage, ...errorResponses(400, 401, 403) },
      },
    },
    async (req) => apiResources.listApiResources(req.query),
  )

  app.get(
    '/v1/admin/api-resources/:id',
    {
      schema: {
        tags,
        summary: 'One API resource',
        security,
        params: ApiResourceIdParams,
        response: { 200: ApiResourceView, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (req) => apiResources.getApiResource(req.params.id),
  )

  app.patch(
    '/v1/admin/api-resources/:id',
    {
      schema: {
        tags,
        summary: 'Change an API resource (its audience, name, scopes or token lifetime)',
        security,
        params: ApiResourceIdParams,
        body: UpdateApiResourceBody,
        response: { 200: ApiResourceView, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (req) => apiResources.updateApiResource(actorOf(req), req.params.id, req.body),
  )

  app.delete(
    '/v1/admin/api-resources/:id',
    {
      schema: {
        tags,
        summary: 'Delete an API resource: no new tokens are issued for it',
        security,
        params: ApiResourceIdParams,
        response: { 204: Type.Null(), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (req, reply) => {
      await apiResources.deleteApiResource(actorOf(req), req.params.id)
      return reply.status(204).send(null)
    },
  )
}
