import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { clientInfo } from '../core/http.ts'
import { errorResponses } from '../core/openapi.ts'
import type { RequireRecentAuth } from '../sessions/require-recent-auth.ts'
import type { RequireUser } from '../sessions/require-user.ts'
import { smsErrors } from './errors.ts'
import { FactorActivated, SmsCodeSent, SmsEnrolBody, SmsSignInCodeBody, SmsVerifyBody } from './schemas.ts'
import type { MfaService } from './service.ts'
import type { SmsService } from './sms.ts'

interface Options {
  sms: SmsService
  mfa: MfaService
  requireUser: RequireUser
  requireRecentAuth: RequireRecentAuth
}

const security = [{ bearer: [] }]
const notConfigured = ' Answers `404 sms_not_configured` when the server has no SMS provider.'

export const smsRoutes: FastifyPluginAsyncTypebox<Options> = async (
  app,
  { sms, mfa, requireUser, requireRecentAuth },
) => {
  // Before authentication and validation: the same stable answer whatever the request holds.
  app.addHook('onRequest', async () => {
    if (!sms.enabled) throw smsErrors.notConfigured()
  })

  app.post(
    '/v1/me/mfa/sms',
    {
      preHandler: requireRecentAuth,
      schema: {
        tags: ['mfa'],
        summary: 'Start SMS enrolment: text a code to the number (replaces an unfinished enrolment)',
        description: `SMS is a weaker factor than TOTP or passkeys (SIM swap, interception).${notConfigured}`,
        security,
        body: SmsEnrolBody,
        response: { 200: SmsCodeSent, ...errorResponses(400, 401, 404, 409, 429, 502) },
      },
    },
    async (req) => sms.startEnrolment(req.auth!.accountId, req.body.phoneNumber, clientInfo(req)),
  )

  app.post(
    '/v1/me/mfa/sms/verify',
    {
      preHandler: requireRecentAuth,
      schema: {
        tags: ['mfa'],
        summary: 'Activate SMS with the texted code (returns backup codes when it is the first factor)',
        description: notConfigured.trim(),
        security,
        body: SmsVerifyBody,
        response: { 200: FactorActivated, ...errorResponses(400, 401, 404, 429) },
      },
    },
    async (req) => sms.confirmEnrolment(req.auth!.accountId, req.body.code, clientInfo(req)),
  )

  app.post(
    '/v1/me/mfa/sms/send',
    {
      preHandler: requireUser,
      schema: {
        tags: ['mfa'],
        summary: 'Text a code for re-authentication (then POST /v1/me/reauthenticate {method: "sms", code})',
        description: notConfigured.trim(),
        security,
        response: { 200: SmsCodeSent, ...errorResponses(400, 401, 404, 429, 502) },
      },
    },
    async (req) => sms.sendSignInCode(req.auth!.accountId, clientInfo(req)),
  )

  app.post(
    '/v1/auth/mfa/sms',
    {
      schema: {
        tags: ['auth'],
        summary: 'Text a sign-in code (then POST /v1/auth/mfa {mfaToken, method: "sms", code})',
        description: notConfigured.trim(),
        body: SmsSignInCodeBody,
        response: { 200: SmsCodeSent, ...errorResponses(400, 401, 404, 429, 502) },
      },
    },
    async (req) => sms.sendSignInCode(await mfa.challengeAccount(req.body.mfaToken), clientInfo(req)),
  )
}
