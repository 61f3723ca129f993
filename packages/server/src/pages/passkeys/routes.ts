/**
 * The passkeys page (`GET /passkeys`): sign in with a password or a passkey, add a passkey.
 * Static HTML and a script module from this folder, the shared stylesheet (pages/assets), plus
 * @simplewebauthn/browser's ES module build from node_modules. No inline script or style, so the
 * page runs under a strict CSP.
 *
 * TODO(hosted pages issue): render through @fastify/view + Eta with the shared layout, and keep
 * tokens server-side in a cookie session instead of in page memory.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyPluginAsync, FastifyReply } from 'fastify'

/** Only our own files, nothing inline, never framed, forms never submitted natively. */
const PAGE_CSP = [
  "default-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ')

const here = dirname(fileURLToPath(import.meta.url))
const page = readFileSync(join(here, 'view.html'))
const pageScript = readFileSync(join(here, 'passkeys.js'))

/** Every module of the library, read once: the URL path can only name one of these files. */
function browserLibrary(): Map<string, Buffer> {
  const root = dirname(fileURLToPath(import.meta.resolve('@simplewebauthn/browser')))
  const files = new Map<string, Buffer>()
  for (const entry of readdirSync(root, { recursive: true, encoding: 'utf8' })) {
    if (entry.endsWith('.js')) files.set(entry.split('\\').join('/'), readFileSync(join(root, entry)))
  }
  return files
}

const sendScript = (reply: FastifyReply, body: Buffer) =>
  reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(body)

export const passkeyPageRoutes: FastifyPluginAsync = async (app) => {
  const library = browserLibrary()

  app.get('/passkeys', { schema: { hide: true } }, async (_req, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', PAGE_CSP)
      .header('cache-control', 'no-store')
      .send(page),
  )

  app.get('/assets/passkeys.js', { schema: { hide: true } }, async (_req, reply) =>
    sendScript(reply, pageScript),
  )

  app.get<{ Params: { '*': string } }>(
    '/assets/simplewebauthn-browser/*',
    { schema: { hide: true } },
    async (req, reply) => {
      const file = library.get(req.params['*'])
      if (!file) return reply.callNotFound()
      return sendScript(reply, file)
    },
  )
}
