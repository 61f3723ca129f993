import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { KeyRing } from './keys.ts'

const Jwks = Type.Object({ keys: Type.Array(Type.Record(Type.String(), Type.Unknown())) })
const Discovery = Type.Object({
  issuer: Type.String(),
  jwks_uri: Type.String(),
  id_token_signing_alg_values_supported: Type.Array(Type.String()),
})

/** Discovery and keys. The OIDC provider takes over the discovery document when it lands. */
export const discoveryRoutes: FastifyPluginAsyncTypebox<{ keys: KeyRing; issuer: string }> = async (
  app,
  { keys, issuer },
) => {
  app.get(
    '/.well-known/jwks.json',
    { schema: { tags: ['discovery'], summary: 'Public signing keys (JWKS)', response: { 200: Jwks } } },
    async (_req, reply) => {
      reply.header('cache-control', 'public, max-age=300')
      return keys.jwks()
    },
  )
  app.get(
    '/.well-known/openid-configuration',
    { schema: { tags: ['discovery'], summary: 'Issuer metadata', response: { 200: Discovery } } },
    async (_req, reply) => {
      reply.header('cache-control', 'public, max-age=300')
      return {
        issuer,
        jwks_uri: `${issuer}/.well-known/jwks.json`,
        id_token_signing_alg_values_supported: [keys.activeKey().alg],
      }
    },
  )
}
