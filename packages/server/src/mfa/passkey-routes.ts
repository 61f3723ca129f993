import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { AccountService } from '../accounts/service.ts'
import { clientInfo } from '../core/http.ts'
import { errorResponses } from '../core/openapi.ts'
import type { RequireRecentAuth } from '../sessions/require-recent-auth.ts'
import type { RequireUser } from '../sessions/require-user.ts'
import { TokenBody } from '../sessions/schemas.ts'
import type { SessionService } from '../sessions/service.ts'
import type { PasskeyService } from './passkeys.ts'
import {
  MfaPasskeyOptionsBody,
  Passkey,
  PasskeyAdded,
  PasskeyList,
  PasskeyParams,
  PasskeySignInBody,
  PasskeySignInOptions,
  RegisterPasskeyBody,
  RenamePasskeyBody,
  WebAuthnOptions,
} from './schemas.ts'
import type { MfaService } from './service.ts'

interface Options {
  passkeys: PasskeyService
  mfa: MfaService
  accounts: AccountService
  sessions: SessionService
  requireUser: RequireUser
  requireRecentAuth: RequireRecentAuth
}

const security = [{ bearer: [] }]

export const passkeyRoutes: FastifyPluginAsyncTypebox<Options> = async (
  app,
  { passkeys, mfa, accounts, sessions, requireUser, requireRecentAuth },
) => {
  app.post(
    '/v1/me/passkeys/options',
    {
      preHandler: requireRecentAuth,
      schema: {
        tags: ['passkeys'],
        summary: 'Options for navigator.credentials.create() (needs a recent sign-in or re-authentication)',
        security,
        response: { 200: WebAuthnOptions, ...errorResponses(401, 403) },
      },
    },
    async (req) => passkeys.registrationOptions(await accounts.getProfile(req.auth!.accountId)),
  )

  app.post(
    '/v1/me/passkeys',
    {
      preHandler: requireRecentAuth,
      schema: {
        tags: ['passkeys'],
        summary: 'Register a passkey (returns backup codes when it is the first second factor)',
        security,
        body: RegisterPasskeyBody,
        response: { 201: PasskeyAdded, ...errorResponses(400, 401, 403, 409) },
      },
    },
    async (req, reply) => {
      const added = await passkeys.registerPasskey(
        req.auth!.accountId,
        req.body.credential,
        req.body.label,
        clientInfo(req),
      )
      return reply.status(201).send(added)
    },
  )

  app.get(
    '/v1/me/passkeys',
    {
      preHandler: requireUser,
      schema: {
        tags: ['passkeys'],
        summary: 'My passkeys',
        security,
        response: { 200: PasskeyList, ...errorResponses(401) },
      },
    },
    async (req) => ({ passkeys: await passkeys.listPasskeys(req.auth!.accountId) }),
  )

  app.patch(
    '/v1/me/passkeys/:id',
    {
      preHandler: requireUser,
      schema: {
        tags: ['passkeys'],
        summary: 'Rename a passkey',
        security,
        params: PasskeyParams,
        body: RenamePasskeyBody,
        response: { 200: Passkey, ...errorResponses(400, 401, 404) },
      },
    },
    async (req) => passkeys.renamePasskey(req.auth!.accountId, req.params.id, req.body.label),
  )

  app.delete(
    '/v1/me/passkeys/:id',
    {
      preHandler: requireRecentAuth,
      schema: {
        tags: ['passkeys'],
        summary: 'Remove a passkey (needs a recent re-authentication)',
        security,
        params: PasskeyParams,
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404) },
      },
    },
    async (req, reply) => {
      await passkeys.deletePasskey(req.auth!.accountId, req.params.id, clientInfo(req))
      return reply.status(204).send(null)
    },
  )

  app.post(
    '/v1/me/reauthenticate/passkey/options',
    {
      preHandler: requireUser,
      schema: {
        tags: ['passkeys'],
        summary: 'Options for navigator.credentials.get() before POST /v1/me/reauthenticate with a passkey',
        security,
        response: { 200: WebAuthnOptions, ...errorResponses(400, 401, 429) },
      },
    },
    async (req) => passkeys.secondFactorOptions(req.auth!.accountId, clientInfo(req)),
  )

  app.post(
    '/v1/auth/mfa/passkey/options',
    {
      schema: {
        tags: ['auth'],
        summary:
          'Options for navigator.credentials.get() for the second step of a login (then POST /v1/auth/mfa)',
        body: MfaPasskeyOptionsBody,
        response: { 200: WebAuthnOptions, ...errorResponses(400, 401, 429) },
      },
    },
    async (req) =>
      passkeys.secondFactorOptions(await mfa.challengeAccount(req.body.mfaToken), clientInfo(req)),
  )

  app.post(
    '/v1/auth/passkey/options',
    {
      schema: {
        tags: ['auth'],
        summary: 'Start a sign-in with a passkey alone: options for a discoverable credential',
        response: { 200: PasskeySignInOptions, ...errorResponses(429) },
      },
    },
    async (req) => passkeys.signInOptions(clientInfo(req)),
  )

  app.post(
    '/v1/auth/passkey/verify',
    {
      schema: {
        tags: ['auth'],
        summary: 'Sign in with a passkey alone (user verification required)',
        body: PasskeySignInBody,
        response: { 200: TokenBody, ...errorResponses(400, 401, 403, 429) },
      },
    },
    async (req) => {
      const client = clientInfo(req)
      const { accountId, amr } = await passkeys.verifySignIn(
        req.body.challengeId,
        req.body.credential,
        client,
      )
      return sessions.signInWithPasskey(accountId, amr, client)
    },
  )
}
