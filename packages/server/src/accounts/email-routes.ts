import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { clientInfo } from '../core/http.ts'
import { errorResponses } from '../core/openapi.ts'
import type { RequireUser } from '../sessions/require-user.ts'
import type { EmailVerification } from './email-verification.ts'
import {
  ChangeEmailBody,
  EmailChangePending,
  ResendAccepted,
  ResendVerificationBody,
  User,
  VerifyEmailBody,
} from './schemas.ts'

/** Identical for every address, so the answer says nothing about who has an account. */
const RESEND_ACCEPTED = {
  message: 'If this address belongs to an account awaiting verification, a new link is on its way.',
}

export const emailRoutes: FastifyPluginAsyncTypebox<{
  emailVerification: EmailVerification
  requireUser: RequireUser
}> = async (app, { emailVerification, requireUser }) => {
  app.post(
    '/v1/auth/email/verify',
    {
      schema: {
        tags: ['auth'],
        summary:
          'Confirm an email address with the token from the mailed link (also completes an email change)',
        description:
          'The token is single-use and expires after 24 hours. `400 verification_token_invalid` for an ' +
          'unknown, used or expired token; `409 email_taken` when the new address of an email change ' +
          'was taken by another account meanwhile.',
        body: VerifyEmailBody,
        response: { 200: User, ...errorResponses(400, 409) },
      },
    },
    async (req) => emailVerification.verify(req.body.token, clientInfo(req)),
  )

  app.post(
    '/v1/auth/email/resend',
    {
      schema: {
        tags: ['auth'],
        summary: 'Send a new verification link (always 202, whether or not the address has an account)',
        body: ResendVerificationBody,
        response: { 202: ResendAccepted, ...errorResponses(400, 429) },
      },
    },
    async (req, reply) => {
      await emailVerification.resend(req.body.email, clientInfo(req))
      return reply.status(202).send(RESEND_ACCEPTED)
    },
  )

  app.post(
    '/v1/me/email',
    {
      preHandler: requireUser,
      schema: {
        tags: ['account'],
        summary:
          'Change my email address (mails a link to the new address; the change happens when it is followed)',
        security: [{ bearer: [] }],
        body: ChangeEmailBody,
        response: { 202: EmailChangePending, ...errorResponses(400, 401, 403, 409, 429) },
      },
    },
    async (req, reply) => {
      const pending = await emailVerification.requestEmailChange(
        { accountId: req.auth!.accountId, sessionId: req.auth!.sessionId, ...req.body },
        clientInfo(req),
      )
      return reply.status(202).send(pending)
    },
  )
}
