import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { errorResponses } from '../core/openapi.ts'
import { actorOf, type RequireAdmin } from '../sessions/require-admin.ts'
import {
  ClientIdParams,
  ClientPage,
  CreateClientBody,
  ListClientsQuery,
  OAuthClient,
  OAuthClientWithSecret,
  UpdateClientBody,
} from './schemas.ts'
import type { ClientService } from './service.ts'

const security = [{ bearer: [] }]
const tags = ['admin']

export const clientRoutes: FastifyPluginAsyncTypebox<{
  clients: ClientService
  requireAdmin: RequireAdmin
}> = async (app, { clients, requireAdmin }) => {
  // At onRequest, before parsing and validation: non-administrators learn nothing, not even
  // which input these routes accept.
  app.addHook('onRequest', requireAdmin)

  app.post(
    '/v1/admin/clients',
    {
      schema: {
        tags,
        summary: 'Register an OAuth 2 / OpenID Connect client; a generated secret is returned only here',
        security,
        body: CreateClientBody,
        response: { 201: OAuthClientWithSecret, ...errorResponses(400, 401, 403) },
      },
    },
    async (req, reply) => reply.status(201).send(await clients.createClient(actorOf(req), req.body)),
  )

  app.get(
    '/v1/admin/clients',
    {
      schema: {
        tags,
        summary: 'List clients, newest first (never their secrets)',
        security,
        querystring: ListClientsQuery,
        response: { 200: ClientPage, ...errorResponses(400, 401, 403) },
      },
    },
    async (req) => clients.listClients(req.query),
  )

  app.get(
    '/v1/admin/clients/:clientId',
    {
      schema: {
        tags,
        summary: 'One client (never its secret)',
        security,
        params: ClientIdParams,
        response: { 200: OAuthClient, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (req) => clients.getClient(req.params.clientId),
  )

  app.patch(
    '/v1/admin/clients/:clientId',
    {
      schema: {
        tags,
        summary:
          'Change a client (JSON merge patch: null clears a field); a switch to a secret method returns the new secret',
        security,
        params: ClientIdParams,
        body: UpdateClientBody,
        response: { 200: OAuthClientWithSecret, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (req) => clients.updateClient(actorOf(req), req.params.clientId, req.body),
  )

  app.delete(
    '/v1/admin/clients/:clientId',
    {
      schema: {
        tags,
        summary: 'Delete a client; its tokens and grants stop working',
        security,
        params: ClientIdParams,
        response: { 204: Type.Null(), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (req, reply) => {
      await clients.deleteClient(actorOf(req), req.params.clientId)
      return reply.status(204).send(null)
    },
  )

  app.post(
    '/v1/admin/clients/:clientId/secret',
    {
      schema: {
        tags,
        summary: 'Issue a new client secret, returned only here; the old one stops working at once',
        security,
        params: ClientIdParams,
        response: { 200: OAuthClientWithSecret, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (req) => clients.rotateSecret(actorOf(req), req.params.clientId),
  )
}
