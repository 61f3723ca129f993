// The one place Fastify's types are augmented.
import 'fastify'

export interface RequestAuth {
  accountId: string
  sessionId: string
  tokenId: string
  scope: string[]
  amr: string[]
  /** Platform roles from the token (`admin`), as they were when it was issued. */
  roles: string[]
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the requireUser pre-handler; null on routes that do not require it. */
    auth: RequestAuth | null
  }
}
