/**
 * The OpenAPI 3.1 document (`/openapi.json`) and its docs page (`/docs`), generated from the
 * route schemas, plus the shared problem+json response schema.
 */
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { PROBLEM_CONTENT_TYPE } from './errors.ts'

export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    code: Type.String({ description: 'stable, machine-readable error code' }),
    detail: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(Type.Object({ pointer: Type.String(), detail: Type.String() }))),
  },
  { $id: 'Problem', description: 'RFC 9457 problem details' },
)

const DESCRIPTIONS: Record<number, string> = {
  400: 'invalid request (validation_failed, malformed_json, weak_password, …)',
  401: 'not authenticated (unauthorized, invalid_token, token_expired, invalid_credentials, …)',
  403: 'not allowed',
  404: 'not found',
  409: 'conflict',
  413: 'body over 64 KiB',
  415: 'not application/json',
  429: 'rate limited or locked; see Retry-After',
  502: 'an upstream provider (e.g. SMS) failed; nothing was changed',
}

/** Response entries for the error statuses a route can answer, as problem+json. */
export function errorResponses(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: DESCRIPTIONS[status] ?? 'error',
        content: { [PROBLEM_CONTENT_TYPE]: { schema: Type.Ref('Problem') } },
      },
    ]),
  )
}

export async function installOpenApi(app: FastifyInstance, options: { publicUrl: string; version: string }) {
  app.addSchema(ProblemSchema)
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Tessera API',
        version: options.version,
        description: 'Accounts, sessions and tokens. Errors are RFC 9457 problem+json with a stable `code`.',
      },
      servers: [{ url: options.publicUrl }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
  })
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    transformSpecificationClone: true,
    uiConfig: { url: '/openapi.json' },
  })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
}
