import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { AppError, commonErrors } from '../core/errors.ts'
import { clientInfo } from '../core/http.ts'
import { errorResponses } from '../core/openapi.ts'
import type { RequireUser } from './require-user.ts'
import { bearerToken } from './require-user.ts'
import {
  LoginBody,
  LogoutBody,
  RefreshBody,
  RegisterBody,
  SessionIdParams,
  SessionInfo,
  TokenBody,
} from './schemas.ts'
import type { SessionService } from './service.ts'

interface Options {
  sessions: SessionService
  requireUser: RequireUser
}

export const sessionRoutes: FastifyPluginAsyncTypebox<Options> = async (app, { sessions, requireUser }) => {
  app.post(
    '/v1/auth/register',
    {
      schema: {
        tags: ['auth'],
        summary: 'Create an account and its first session',
        body: RegisterBody,
        response: { 201: TokenBody, ...errorResponses(400, 409, 413, 415, 429) },
      },
    },
    async (req, reply) => reply.status(201).send(await sessions.register(req.body, clientInfo(req))),
  )

  app.post(
    '/v1/auth/login',
    {
      schema: {
        tags: ['auth'],
        summary: 'Sign in with email and password',
        body: LoginBody,
        response: { 200: TokenBody, ...errorResponses(400, 401, 403, 429) },
      },
    },
    async (req) => sessions.login(req.body, clientInfo(req)),
  )

  app.post(
    '/v1/auth/refresh',
    {
      schema: {
        tags: ['auth'],
        summary: 'Exchange a refresh token for new tokens (the old refresh token dies)',
        body: RefreshBody,
        response: { 200: TokenBody, ...errorResponses(400, 401, 429) },
      },
    },
    async (req) => sessions.refresh(req.body.refreshToken, clientInfo(req)),
  )

  app.post(
    '/v1/auth/logout',
    {
      schema: {
        tags: ['auth'],
        summary: 'End the session (bearer access token, or a refresh token in the body)',
        body: Type.Optional(LogoutBody),
        response: { 204: Type.Null(), ...errorResponses(400, 401) },
      },
    },
    async (req, reply) => {
      if (bearerToken(req)) {
        await requireUser(req)
        await sessions.logout(req.auth!.accountId, req.auth!.sessionId, clientInfo(req))
      } else if (req.body?.refreshToken) {
        await sessions.logoutWithRefreshToken(req.body.refreshToken, clientInfo(req))
      } else {
        throw new AppError(401, 'unauthorized', 'send a bearer access token or a refreshToken')
      }
      return reply.status(204).send(null)
    },
  )

  app.get(
    '/v1/me/sessions',
    {
      preHandler: requireUser,
      schema: {
        tags: ['sessions'],
        summary: 'List my active sessions',
        security: [{ bearer: [] }],
        response: { 200: Type.Object({ sessions: Type.Array(SessionInfo) }), ...errorResponses(401) },
      },
    },
    async (req) => ({ sessions: await sessions.listSessions(req.auth!.accountId, req.auth!.sessionId) }),
  )

  app.delete(
    '/v1/me/sessions',
    {
      preHandler: requireUser,
      schema: {
        tags: ['sessions'],
        summary: 'End all my other sessions (this one stays)',
        security: [{ bearer: [] }],
        response: { 200: Type.Object({ ended: Type.Integer() }), ...errorResponses(401) },
      },
    },
    async (req) => ({
      ended: await sessions.endOtherSessions(req.auth!.accountId, req.auth!.sessionId, clientInfo(req)),
    }),
  )

  app.delete(
    '/v1/me/sessions/:id',
    {
      preHandler: requireUser,
      schema: {
        tags: ['sessions'],
        summary: 'End one of my sessions',
        security: [{ bearer: [] }],
        params: SessionIdParams,
        response: { 204: Type.Null(), ...errorResponses(401, 404) },
      },
    },
    async (req, reply) => {
      if (!(await sessions.endSession(req.auth!.accountId, req.params.id, clientInfo(req))))
        throw commonErrors.notFound()
      return reply.status(204).send(null)
    },
  )
}
