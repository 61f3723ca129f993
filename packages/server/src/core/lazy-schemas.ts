/**
 * Route schemas compiled on each route's first request instead of at startup.
 *
 * Fastify compiles every route's validators (Ajv) and response serializers
 * (fast-json-stringify) before it is ready: about a fifth of the time from start to ready, and
 * the memory of code for routes an instance may never serve (admin, MFA enrolment). These are
 * Fastify's own compilers, with the options Fastify gives them; only the moment changes.
 */
import AjvCompiler from '@fastify/ajv-compiler'
import SerializerSelector from '@fastify/fast-json-stringify-compiler'
import type { FastifyServerOptions } from 'fastify'

type Validate = ((data: unknown) => unknown) & { errors?: unknown }

/** A validator that compiles on its first call; Fastify reads `errors` after a failed call. */
function lazyValidator(compile: () => Validate): Validate {
  let validate: Validate | undefined
  const validateLazily: Validate = (data) => {
    validate ??= compile()
    return validate(data)
  }
  Object.defineProperty(validateLazily, 'errors', { get: () => validate?.errors })
  return validateLazily
}

function lazySerializer(compile: () => (data: unknown) => string): (data: unknown) => string {
  let serialize: ((data: unknown) => string) | undefined
  return (data) => {
    serialize ??= compile()
    return serialize(data)
  }
}

const buildValidator = AjvCompiler()
const buildSerializer = SerializerSelector()

export const lazySchemaCompilers = {
  compilersFactory: {
    buildValidator: (...args: Parameters<typeof buildValidator>) => {
      const compile = buildValidator(...args)
      return (route: Parameters<typeof compile>[0]) => lazyValidator(() => compile(route) as Validate)
    },
    buildSerializer: (...args: Parameters<typeof buildSerializer>) => {
      const compile = buildSerializer(...args)
      return (route: Parameters<typeof compile>[0]) => lazySerializer(() => compile(route))
    },
  },
  // Fastify reads only `errors` from a validator (and `schemaEnv`, to let Ajv replace a root
  // value, which nothing here needs: types are never coerced).
} as unknown as NonNullable<FastifyServerOptions['schemaController']>
