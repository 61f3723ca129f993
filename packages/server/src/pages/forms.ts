/**
 * Native HTML form posts for a page plugin, confined to that plugin's encapsulated context (the
 * JSON API keeps answering 415 to form bodies). Checks, in order:
 * - body: `application/x-www-form-urlencoded` only, at most FORM_BODY_LIMIT_BYTES, parsed with
 *   URLSearchParams into plain strings (the first value of a repeated field wins);
 * - CSRF: the form's one-time token is itself an unguessable secret, and on top the POST must come
 *   from our own origin (`Origin`, or Fetch Metadata when the browser sends `Origin: null`);
 * - errors: rendered as a friendly page with the right status; 5xx details go to the log only.
 */
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify'
import { Value } from 'typebox/value'
import { MailToken } from '../accounts/schemas.ts'
import { AppError, isUnavailableError } from '../core/errors.ts'
import { pageStrings, sendErrorPage } from './render.ts'

export const FORM_BODY_LIMIT_BYTES = 8 * 1024

export type FormFields = Record<string, string>

/** Form bodies and friendly error pages for one page plugin's context. */
export function installFormPosts(app: FastifyInstance): void {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT_BYTES },
    (_req, body, done) => {
      const fields: FormFields = {}
      for (const [name, value] of new URLSearchParams(body as string)) {
        if (!Object.hasOwn(fields, name)) Object.defineProperty(fields, name, { value, enumerable: true })
      }
      done(null, fields)
    },
  )

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const s = pageStrings(request)
    if (err instanceof AppError) reply.headers(err.headers) // Retry-After on 429
    const status =
      err instanceof AppError
        ? err.status
        : err.statusCode && err.statusCode >= 400 && err.statusCode < 500
          ? err.statusCode
          : isUnavailableError(err)
            ? 503
            : 500
    if (status >= 500) request.log.error({ err }, 'page error')
    const message =
      status === 403
        ? s.forbidden
        : status === 429
          ? s.tooManyRequests
          : status >= 500
            ? s.serverError
            : s.badRequest
    return sendErrorPage(reply, status, message)
  })
}

/** A field of a parsed form body, or undefined (no body, or the field is missing). */
export function formField(body: unknown, name: string): string | undefined {
  if (typeof body !== 'object' || body === null || !Object.hasOwn(body, name)) return undefined
  const value = (body as FormFields)[name]
  return typeof value === 'string' ? value : undefined
}

/**
 * True when the POST comes from a page of `publicOrigin`. Under `Referrer-Policy: no-referrer`
 * browsers send `Origin: null` on form posts (Fetch Standard, "serializing a request origin"); then
 * `Sec-Fetch-Site: same-origin` must vouch for it. A request with neither header is refused.
 */
export function isSameOriginPost(request: FastifyRequest, publicOrigin: string): boolean {
  const origin = request.headers.origin
  if (origin !== undefined && origin !== 'null') return origin === publicOrigin
  return request.headers['sec-fetch-site'] === 'same-origin'
}

/** Throws the 403 the error handler renders as the "sent from another site" page. */
export function assertSameOriginPost(request: FastifyRequest, publicOrigin: string): void {
  if (!isSameOriginPost(request, publicOrigin))
    throw new AppError(403, 'cross_site_form', 'the form was not posted from this site')
}

/** The `token` of a mailed link (`?token=…`), when there is exactly one and it is not empty. */
export function linkToken(request: FastifyRequest): string | undefined {
  const { token } = request.query as { token?: unknown }
  return typeof token === 'string' && token !== '' ? token : undefined
}

/** Shaped like a token we mail; anything else is refused without a database look-up. */
export function isMailToken(token: string | undefined): token is string {
  return token !== undefined && Value.Check(MailToken, token)
}
