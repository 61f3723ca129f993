/**
 * The passkeys page (`GET /passkeys`): sign in with a password or a passkey, add a passkey.
 * The view (the shared layout) plus a script module from this folder and
 * @simplewebauthn/browser's ES module build from node_modules. No inline script or style, so the
 * page runs under the strict page CSP; its forms are submitted by the script only (`form-action
 * 'none'`).
 *
 * TODO(hosted pages issue): keep tokens server-side in a cookie session instead of in page memory.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyPluginAsync, FastifyReply } from 'fastify'
import { pageStrings, sendView } from '../render.ts'

const here = dirname(fileURLToPath(import.meta.url))
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

  app.get('/passkeys', { schema: { hide: true } }, async (req, reply) =>
    sendView(
      reply,
      200,
      'passkeys/view',
      { title: pageStrings(req).passkeys.title, scripts: ['/assets/passkeys.js'] },
      { nativeForms: false },
    ),
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
