/**
 * Backup codes: ten single-use codes of 10 characters from an unambiguous alphabet
 * (50 bits each), shown once and stored only as keyed hashes.
 */
import { randomInt } from 'node:crypto'

export const BACKUP_CODE_COUNT = 10
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789' // no 0/o, 1/l/i
const CODE_LENGTH = 10

export function generateBackupCodes(): string[] {
  return Array.from({ length: BACKUP_CODE_COUNT }, () => {
    const chars = Array.from({ length: CODE_LENGTH }, () => ALPHABET[randomInt(ALPHABET.length)])
    return `${chars.slice(0, 5).join('')}-${chars.slice(5).join('')}`
  })
}

/** Accepts the code as typed: any case, with or without the dash and spaces. */
export function normalizeBackupCode(code: string): string {
  return code.toLowerCase().replace(/[\s-]/g, '')
}
