/** The stylesheet every page shares (`GET /assets/page.css`), read once. */
import { readFileSync } from 'node:fs'
import type { FastifyPluginAsync } from 'fastify'

const pageStyle = readFileSync(new URL('./page.css', import.meta.url))

export const pageAssetRoutes: FastifyPluginAsync = async (app) => {
  app.get('/assets/page.css', { schema: { hide: true } }, async (_req, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'no-cache').send(pageStyle),
  )
}
