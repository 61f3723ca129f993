/**
 * The files every page shares:
 * - `GET /assets/page.css`, the stylesheet, read once (`no-cache`: revalidated on each use);
 * - `GET /assets/brand.css`, the accent color from config (pages/brand.ts), built once; the
 *   layout links it as `?v=<hash of its content>`, so it may be cached for good;
 * - `GET /assets/tessera-logo.svg`, Tessera's own mark, for `TESSERA_LOGO_URL` to point at.
 */
import { readFileSync } from 'node:fs'
import type { FastifyPluginAsync } from 'fastify'
import type { Brand } from '../brand.ts'

const pageStyle = readFileSync(new URL('./page.css', import.meta.url))
const tesseraLogo = readFileSync(new URL('./tessera-logo.svg', import.meta.url))

/** A year: the URL changes whenever the content does. */
const IMMUTABLE = 'public, max-age=31536000, immutable'

export const pageAssetRoutes: FastifyPluginAsync<{ brand: Brand }> = async (app, { brand }) => {
  app.get('/assets/page.css', { schema: { hide: true } }, async (_req, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'no-cache').send(pageStyle),
  )
  app.get('/assets/brand.css', { schema: { hide: true } }, async (_req, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', IMMUTABLE).send(brand.stylesheet),
  )
  app.get('/assets/tessera-logo.svg', { schema: { hide: true } }, async (_req, reply) =>
    reply.type('image/svg+xml').header('cache-control', 'public, max-age=86400').send(tesseraLogo),
  )
}
