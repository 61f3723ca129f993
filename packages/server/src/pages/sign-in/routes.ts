/** The hosted sign-in pages' script (`/assets/sign-in.js`): passkeys on sign-in and the MFA step. */
import { readFileSync } from 'node:fs'
import type { FastifyPluginAsync } from 'fastify'

const script = readFileSync(new URL('./sign-in.js', import.meta.url))

export const signInAssetRoutes: FastifyPluginAsync = async (app) => {
  app.get('/assets/sign-in.js', { schema: { hide: true } }, async (_req, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(script),
  )
}
