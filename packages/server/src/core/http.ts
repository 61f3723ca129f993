/**
 * The HTTP edge: security headers, CORS allowlist, content types, request ids, client info.
 */
import cors from '@fastify/cors'
import type { FastifyInstance, FastifyRequest } from 'fastify'

export const BODY_LIMIT_BYTES = 64 * 1024

export interface ClientInfo {
  ip: string
  userAgent: string | null
}

const MAX_USER_AGENT = 512

export function clientInfo(request: FastifyRequest): ClientInfo {
  const ua = request.headers['user-agent']
  return { ip: request.ip, userAgent: ua ? ua.slice(0, MAX_USER_AGENT) : null }
}

export interface EdgeOptions {
  corsOrigins: string[]
  /** HSTS only makes sense (and is only sent) when the public URL is https. */
  https: boolean
}

/**
 * Security headers for every response, computed once (OWASP Secure Headers). API responses
 * may not be framed, sniffed or run; pages that need more (the docs, /passkeys) set their own
 * Content-Security-Policy on their routes.
 */
export function securityHeaders(https: boolean): Record<string, string> {
  return {
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'x-permitted-cross-domain-policies': 'none',
    'x-dns-prefetch-control': 'off',
    ...(https ? { 'strict-transport-security': 'max-age=31536000; includeSubDomains' } : {}),
  }
}

export async function installEdge(app: FastifyInstance, options: EdgeOptions): Promise<void> {
  const headers = securityHeaders(options.https)
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers)
    done()
  })
  await app.register(cors, {
    origin: options.corsOrigins.length > 0 ? options.corsOrigins : false,
    credentials: true,
    methods: ['GET', 'POST', 'PATCH', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type'],
    exposedHeaders: ['retry-after'],
    maxAge: 600,
  })
  // JSON only: a text/plain body is a 415, not a string handed to a handler.
  app.removeContentTypeParser(['text/plain'])
}

/** How often a closing server looks for connections whose last answer has gone out. */
const CLOSING_SWEEP_MS = 100

/**
 * Closes the app once every request in flight has its answer. Node closes idle keep-alive
 * connections only at the moment close() starts; one whose request was still in flight then
 * stays open after its answer until the keep-alive timeout, and holds the exit back that long.
 */
export async function closeGracefully(app: FastifyInstance): Promise<void> {
  const sweep = setInterval(() => app.server.closeIdleConnections(), CLOSING_SWEEP_MS)
  try {
    await app.close()
  } finally {
    clearInterval(sweep)
  }
}
