/**
 * Refresh tokens are `<id>.<secret>`: the id finds the row, only SHA-256(secret) is stored, and
 * the comparison is constant-time. 256 bits of secret.
 */
import { constantTimeEqual, randomToken, sha256 } from '../core/crypto.ts'
import { newId } from '../core/ids.ts'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

export interface NewRefreshToken {
  id: string
  token: string
  secretHash: string
}

export function generateRefreshToken(): NewRefreshToken {
  const id = newId()
  const secret = randomToken(32)
  return { id, token: `${id}.${secret}`, secretHash: sha256(secret) }
}

export function parseRefreshToken(token: string): { id: string; secret: string } | undefined {
  const dot = token.indexOf('.')
  const id = token.slice(0, dot)
  const secret = token.slice(dot + 1)
  return dot > 0 && UUID.test(id) && secret.length >= 43 ? { id, secret } : undefined
}

export function refreshSecretMatches(secret: string, storedHash: string): boolean {
  return constantTimeEqual(sha256(secret), storedHash)
}
