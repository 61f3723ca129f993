/**
 * Errors on the wire are RFC 9457 problem details with a stable `code`.
 * Only AppError details are exposed; anything else becomes a generic 500 (cause logged).
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

export const PROBLEM_CONTENT_TYPE = 'application/problem+json'

export interface ProblemField {
  /** JSON pointer into the request part that failed, e.g. `/body/email`. */
  pointer: string
  detail: string
}

export interface Problem {
  type: string
  title: string
  status: number
  code: string
  detail?: string
  errors?: ProblemField[]
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
}

export class AppError extends Error {
  readonly status: number
  readonly code: string
  readonly detail: string | undefined
  readonly headers: Record<string, string>
  readonly errors: ProblemField[] | undefined

  constructor(
    status: number,
    code: string,
    detail?: string,
    headers: Record<string, string> = {},
    errors?: ProblemField[],
  ) {
    super(detail ?? code)
    this.name = 'AppError'
    this.status = status
    this.code = code
    this.detail = detail
    this.headers = headers
    this.errors = errors
  }
}

export function problem(status: number, code: string, detail?: string, errors?: ProblemField[]): Problem {
  return {
    type: `urn:tessera:problem:${code}`,
    title: TITLES[status] ?? 'Error',
    status,
    code,
    ...(detail ? { detail } : {}),
    ...(errors ? { errors } : {}),
  }
}

/** RFC 6750 §3: a 401 for a missing bearer token names the scheme the resource expects. */
export const BEARER_CHALLENGE = 'Bearer'

export const commonErrors = {
  unauthorized: (detail = 'a valid access token is required') =>
    new AppError(401, 'unauthorized', detail, { 'www-authenticate': BEARER_CHALLENGE }),
  rateLimited: (retryAfterSeconds: number) =>
    new AppError(429, 'rate_limited', 'too many requests; try again later', {
      'retry-after': String(retryAfterSeconds),
    }),
  notFound: () => new AppError(404, 'not_found', 'no such resource'),
  unavailable: (detail = 'a backing service is unreachable; try again shortly') =>
    new AppError(503, 'service_unavailable', detail, { 'retry-after': '5' }),
}

/** Errors that mean "the database or Redis cannot be reached", not "the request was bad". */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
  '57P01', // admin_shutdown
  '57P03', // cannot_connect_now
  '08000',
  '08003',
  '08006',
  'SQLITE_BUSY',
  'SQLITE_CANTOPEN',
])

export function isUnavailableError(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | null
  if (!e) return false
  if (e.code && UNAVAILABLE_CODES.has(e.code)) return true
  return /Connection terminated|connection timeout|Connection is closed|Client has encountered a connection error/i.test(
    e.message ?? '',
  )
}

function fromFastifyError(err: FastifyError): AppError | undefined {
  if (err.validation) {
    const context = err.validationContext ?? 'body'
    const errors = err.validation.map((v) => {
      const { additionalProperty: extra, missingProperty: missing } = v.params as {
        additionalProperty?: string
        missingProperty?: string
      }
      // Point at the field itself (`/body/password`), not its parent object, so clients can map it.
      const field = extra ?? missing
      const pointer = `/${context}${v.instancePath}${field ? `/${field}` : ''}`
      return { pointer, detail: extra ? 'unknown field' : missing ? 'required' : (v.message ?? 'invalid') }
    })
    return new AppError(400, 'validation_failed', 'the request is invalid', {}, errors)
  }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError(413, 'payload_too_large', 'the request body is too large')
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError(415, 'unsupported_media_type', 'send application/json')
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError(400, 'malformed_json', 'the body is not valid JSON')
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError(400, 'bad_request', 'invalid content-length')
  }
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
    return new AppError(err.statusCode, 'bad_request', 'the request could not be processed')
  }
  return undefined
}

export function sendProblem(reply: FastifyReply, err: AppError): FastifyReply {
  return reply
    .status(err.status)
    .headers(err.headers)
    .type(PROBLEM_CONTENT_TYPE)
    .send(problem(err.status, err.code, err.detail, err.errors))
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const known = err instanceof AppError ? err : fromFastifyError(err)
    if (known) {
      if (known.status >= 500) request.log.warn({ err }, known.code)
      return sendProblem(reply, known)
    }
    if (isUnavailableError(err)) {
      request.log.error({ err }, 'backing service unavailable')
      return sendProblem(reply, commonErrors.unavailable())
    }
    request.log.error({ err }, 'unhandled error')
    return sendProblem(reply, new AppError(500, 'internal_error', 'something went wrong on our side'))
  })
  app.setNotFoundHandler((_request, reply) =>
    sendProblem(reply, new AppError(404, 'not_found', 'no route matches this method and path')),
  )
}
