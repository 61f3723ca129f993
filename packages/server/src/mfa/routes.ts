import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { AccountService } from '../accounts/service.ts'
import { clientInfo } from '../core/http.ts'
import { errorResponses } from '../core/openapi.ts'
import type { RequireRecentAuth } from '../sessions/require-recent-auth.ts'
import type { RequireUser } from '../sessions/require-user.ts'
import { BackupCodes, FactorActivated, MfaStatus, TotpEnrolment, TotpVerifyBody } from './schemas.ts'
import type { MfaService } from './service.ts'

interface Options {
  mfa: MfaService
  accounts: AccountService
  requireUser: RequireUser
  requireRecentAuth: RequireRecentAuth
}

const FactorParams = Type.Object({ id: Type.String({ format: 'uuid' }) }, { additionalProperties: false })
const security = [{ bearer: [] }]

export const mfaRoutes: FastifyPluginAsyncTypebox<Options> = async (
  app,
  { mfa, accounts, requireUser, requireRecentAuth },
) => {
  app.get(
    '/v1/me/mfa',
    {
      preHandler: requireUser,
      schema: {
        tags: ['mfa'],
        summary: 'My second factors',
        security,
        response: { 200: MfaStatus, ...errorResponses(401) },
      },
    },
    async (req) => mfa.status(req.auth!.accountId),
  )

  app.post(
    '/v1/me/mfa/totp',
    {
      preHandler: requireRecentAuth,
      schema: {
        tags: ['mfa'],
        summary: 'Start TOTP enrolment: secret, otpauth URI and QR code (needs a recent re-authentication)',
        security,
        response: { 200: TotpEnrolment, ...errorResponses(401) },
      },
    },
    async (req) => {
      const account = await accounts.getProfile(req.auth!.accountId)
      return mfa.startTotpEnrolment(account.id, account.email)
    },
  )

  app.post(
    '/v1/me/mfa/totp/verify',
    {
      preHandler: requireRecentAuth,
      schema: {
        tags: ['mfa'],
        summary: 'Activate TOTP with a first code (returns backup codes when it is the first factor)',
        security,
        body: TotpVerifyBody,
        response: { 200: FactorActivated, ...errorResponses(400, 401) },
      },
    },
    async (req) =>
      mfa.confirmTotpEnrolment(req.auth!.accountId, req.body.code, req.body.label, clientInfo(req)),
  )

  app.delete(
    '/v1/me/mfa/factors/:id',
    {
      preHandler: requireRecentAuth,
      schema: {
        tags: ['mfa'],
        summary: 'Remove a TOTP or SMS factor (needs a recent re-authentication)',
        security,
        params: FactorParams,
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404) },
      },
    },
    async (req, reply) => {
      await mfa.deleteFactor(req.auth!.accountId, req.params.id, clientInfo(req))
      return reply.status(204).send(null)
    },
  )

  app.delete(
    '/v1/me/mfa',
    {
      preHandler: requireRecentAuth,
      schema: {
        tags: ['mfa'],
        summary:
          'Disable MFA: remove every factor, passkey and backup code (needs a recent re-authentication)',
        security,
        response: { 204: Type.Null(), ...errorResponses(401, 403) },
      },
    },
    async (req, reply) => {
      await mfa.disable(req.auth!.accountId, clientInfo(req))
      return reply.status(204).send(null)
    },
  )

  app.post(
    '/v1/me/mfa/backup-codes',
    {
      preHandler: requireRecentAuth,
      schema: {
        tags: ['mfa'],
        summary: 'Replace my backup codes (the old set stops working; needs a recent re-authentication)',
        security,
        response: { 200: BackupCodes, ...errorResponses(400, 401, 403) },
      },
    },
    async (req) => ({ backupCodes: await mfa.regenerateBackupCodes(req.auth!.accountId, clientInfo(req)) }),
  )
}
