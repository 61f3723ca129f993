/**
 * The HTTP edge: security headers, CORS allowlist, content types, request ids, client info.
 */
import cors from '@fastify/cors'
import helmet from '@fastify/helmet'
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

export async function installEdge(app: FastifyInstance, options: EdgeOptions): Promise<void> {
  await app.register(helmet, {
    // API responses: nothing may frame or run them. The docs page relaxes this for itself.
    contentSecurityPolicy: { directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    hsts: options.https ? { maxAge: 31536000, includeSubDomains: true } : false,
    crossOriginResourcePolicy: { policy: 'same-origin' },
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
