import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { VerificationRequired } from '../accounts/schemas.ts'
import { AppError, commonErrors } from '../core/errors.ts'
import { clientInfo } from '../core/http.ts'
import { errorResponses } from '../core/openapi.ts'
import { MfaRequired } from '../mfa/schemas.ts'
import type { RequireUser } from './require-user.ts'
import { bearerToken } from './require-user.ts'
import {
  LoginBody,
  LogoutBody,
  MfaLoginBody,
  ReauthBody,
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
        description:
          'Mails a link to confirm the address. With `TESSERA_REQUIRE_VERIFIED_EMAIL` on, no session is ' +
          'started: the answer is `{user, verificationRequired: true}` and sign-in works once the link is followed.',
        body: RegisterBody,
        response: {
          201: Type.Union([TokenBody, VerificationRequired], {
            description: 'tokens, or `verificationRequired` when a verified email is required to sign in',
          }),
          ...errorResponses(400, 409, 413, 415, 429),
        },
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
        response: {
          200: Type.Union([TokenBody, MfaRequired], {
            description: 'tokens, or the MFA step when the account has a second factor',
          }),
          ...errorResponses(400, 401, 403, 429),
        },
      },
    },
    async (req) => sessions.login(req.body, clientInfo(req)),
  )

  app.post(
    '/v1/auth/mfa',
    {
      schema: {
        tags: ['auth'],
        summary: 'Complete a login with a second factor (mfaToken from /v1/auth/login)',
        body: MfaLoginBody,
        response: { 200: TokenBody, ...errorResponses(400, 401, 403, 429) },
      },
    },
    async (req) => sessions.completeMfa(req.body, clientInfo(req)),
  )

  app.post(
    '/v1/me/reauthenticate',
    {
      preHandler: requireUser,
      schema: {
        tags: ['sessions'],
        summary: 'Confirm identity again (password or a second factor) before sensitive changes',
        security: [{ bearer: [] }],
        body: ReauthBody,
        response: { 204: Type.Null(), ...errorResponses(400, 401, 429) },
      },
    },
    async (req, reply) => {
      await sessions.reauthenticate(req.auth!, req.body, clientInfo(req))
      return reply.status(204).send(null)
    },
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
        body: LogoutBody,
        response: { 204: Type.Null(), ...errorResponses(400, 401) },
      },
      // A bearer logout usually sends no body; Fastify would validate that absence as `null`.
      preValidation: async (req) => {
        req.body ??= {}
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
