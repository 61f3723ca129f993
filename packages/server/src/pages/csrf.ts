/**
 * CSRF tokens for the hosted sign-in pages. A token is an HMAC of what the form acts on (e.g.
 * `interaction:<uid>`) under a key derived from the master key: nothing is stored, every instance
 * agrees, and a token from one interaction is worthless for another. Forms also pass the
 * same-origin check of forms.ts; the interaction itself is bound to the browser by the provider's
 * cookie, so a page from another site can neither read nor forge a working form.
 */
import { constantTimeEqual, createCodeHasher } from '../core/crypto.ts'

export interface Csrf {
  token(binding: string): string
  verify(binding: string, token: string | undefined): boolean
}

export function createCsrf(masterKey: string): Csrf {
  const token = createCodeHasher(masterKey, 'page-csrf')
  return {
    token,
    verify: (binding, candidate) => candidate !== undefined && constantTimeEqual(token(binding), candidate),
  }
}
