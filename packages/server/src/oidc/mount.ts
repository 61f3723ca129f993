/**
 * Serves the provider's endpoints from Fastify. Each route hands the raw request to the provider
 * at `onRequest`, before Fastify parses a body (the provider reads its own), and never calls the
 * rest of Fastify's lifecycle for it.
 *
 * Before that, the request is normalised: Host and X-Forwarded-Host/-Proto say the public URL and
 * X-Forwarded-For says the client address Fastify resolved (under `trustProxy`). The provider
 * builds its endpoint URLs from these, so a forged Host header cannot reach discovery, and it
 * trusts them (`provider.proxy`) only because they were set here.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type Provider from 'oidc-provider'
import { isSameOriginPost } from '../pages/forms.ts'
import type { LazyOidc } from './install.ts'

/** Where the provider's endpoints live; discovery stays at the issuer's `/.well-known/`. */
export const OIDC_ROUTES = {
  authorization: '/oidc/auth',
  token: '/oidc/token',
  userinfo: '/oidc/me',
  jwks: '/.well-known/jwks.json',
  introspection: '/oidc/token/introspection',
  revocation: '/oidc/token/revocation',
  end_session: '/oidc/session/end',
  device_authorization: '/oidc/device/auth',
  code_verification: '/oidc/device',
  pushed_authorization_request: '/oidc/request',
}

/** The provider's endpoints that take form posts from its own pages (device code, sign-out). */
const BROWSER_FORMS = new Set([OIDC_ROUTES.code_verification, `${OIDC_ROUTES.end_session}/confirm`])

/** For what the provider answers itself: JSON, redirects and the form_post page (pages set their own). */
const PROVIDER_CSP = "default-src 'none'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'"

export interface MountOptions {
  oidc: LazyOidc
  publicUrl: string
  /** Security headers every response carries (core/http.ts). */
  headers: Record<string, string>
}

export async function mountProvider(app: FastifyInstance, options: MountOptions): Promise<void> {
  const publicUrl = new URL(options.publicUrl)
  const proto = publicUrl.protocol.slice(0, -1)
  const headers = { ...options.headers, 'content-security-policy': PROVIDER_CSP }
  const handlers = new WeakMap<Provider, ReturnType<Provider['callback']>>()

  const handlerOf = (provider: Provider) => {
    let handler = handlers.get(provider)
    if (!handler) {
      handler = provider.callback()
      handlers.set(provider, handler)
    }
    return handler
  }

  async function handOver(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (request.method === 'POST' && BROWSER_FORMS.has(request.url.split('?', 1)[0]!)) {
      // The provider checks its own `xsrf` token on these; a post from another site is refused first.
      if (!isSameOriginPost(request, publicUrl.origin)) {
        reply.code(403).type('text/plain; charset=utf-8').send('This form was sent from another site.')
        return
      }
    }
    // Before the hijack, so that a provider that fails to load is a problem+json answer.
    const handler = handlerOf((await options.oidc.load()).current())
    reply.hijack()
    const { raw } = request
    raw.headers.host = publicUrl.host
    raw.headers['x-forwarded-host'] = publicUrl.host
    raw.headers['x-forwarded-proto'] = proto
    raw.headers['x-forwarded-for'] = request.ip
    for (const [name, value] of Object.entries(headers)) reply.raw.setHeader(name, value)
    reply.raw.setHeader('x-request-id', request.id)
    handler(raw, reply.raw)
  }

  const onRequest = (request: FastifyRequest, reply: FastifyReply) => handOver(request, reply)
  app.route({
    method: ['GET', 'POST', 'OPTIONS', 'DELETE'],
    url: '/oidc/*',
    schema: { hide: true },
    onRequest,
    handler: async () => undefined, // never reached: onRequest hands the request over
  })
  app.get('/.well-known/openid-configuration', {
    schema: { tags: ['discovery'], summary: 'OpenID Provider metadata (served by the OIDC provider)' },
    onRequest,
    handler: async () => undefined,
  })
  app.get('/.well-known/jwks.json', {
    schema: { tags: ['discovery'], summary: 'Public signing keys of every Tessera token (JWKS)' },
    onRequest,
    handler: async () => undefined,
  })
}
