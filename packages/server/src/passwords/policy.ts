/**
 * Password policy (NIST SP 800-63B §5.1.1.2): length limits, no composition rules, and no
 * password from the shipped list of common ones.
 */
import { readFileSync } from 'node:fs'
import { AppError } from '../core/errors.ts'

export const PASSWORD_MIN_LENGTH = 8
export const PASSWORD_MAX_LENGTH = 256

// The list is lower-case; lookups lower-case the candidate.
let common: Set<string> | undefined

/** Loaded on first use: the list costs memory only once someone sets a password. */
function commonPasswords(): Set<string> {
  common ??= new Set(
    readFileSync(new URL('./common-passwords.txt', import.meta.url), 'utf8')
      .split('\n')
      .filter(Boolean),
  )
  return common
}

export function isCommonPassword(password: string): boolean {
  return commonPasswords().has(password.toLowerCase())
}

/**
 * Throws `400 weak_password` with the reason; length is also enforced by the request schemas.
 * `field` names the body property the error points at (`newPassword` on a change).
 */
export function assertAcceptablePassword(password: string, email?: string, field = 'password'): void {
  const length = [...password].length
  if (length < PASSWORD_MIN_LENGTH || length > PASSWORD_MAX_LENGTH) {
    throw weakPassword(field, `use between ${PASSWORD_MIN_LENGTH} and ${PASSWORD_MAX_LENGTH} characters`)
  }
  if (isCommonPassword(password)) {
    throw weakPassword(field, 'this password is among the most commonly used ones; choose another')
  }
  if (email && password.toLowerCase() === email.toLowerCase()) {
    throw weakPassword(field, 'do not use your email address as your password')
  }
}

function weakPassword(field: string, detail: string): AppError {
  return new AppError(400, 'weak_password', detail, {}, [{ pointer: `/body/${field}`, detail }])
}
