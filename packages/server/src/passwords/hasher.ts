/**
 * Password hashing: argon2id with OWASP's parameters (19 MiB, t=2, p=1).
 * Hashes made with other parameters still verify and are flagged for rehash on the next login.
 */
import { type Algorithm, hash, verify } from '@node-rs/argon2'

/** `Algorithm.Argon2id`; the package declares it as a const enum, which erasable TypeScript cannot read. */
const ARGON2ID = 2 as Algorithm

export interface Argon2Params {
  memoryCost: number
  timeCost: number
  parallelism: number
}

/** OWASP Password Storage Cheat Sheet, argon2id minimum configuration. */
export const OWASP_ARGON2ID: Argon2Params = { memoryCost: 19456, timeCost: 2, parallelism: 1 }

export interface PasswordHasher {
  hash(password: string): Promise<string>
  verify(hashed: string, password: string): Promise<boolean>
  /** True when the stored hash uses weaker or different parameters than today's. */
  needsRehash(hashed: string): boolean
  /** Spends the same time as a real verify; used when there is no account, so timing reveals nothing. */
  verifyDummy(password: string): Promise<false>
}

export function createPasswordHasher(params: Argon2Params = OWASP_ARGON2ID): PasswordHasher {
  const options = { algorithm: ARGON2ID, ...params }
  const expectedPrefix = `$argon2id$v=19$m=${params.memoryCost},t=${params.timeCost},p=${params.parallelism}$`
  let dummy: Promise<string> | undefined
  return {
    hash: (password) => hash(password, options),
    async verify(hashed, password) {
      try {
        return await verify(hashed, password)
      } catch {
        return false // a malformed stored hash never authenticates
      }
    },
    needsRehash: (hashed) => !hashed.startsWith(expectedPrefix),
    async verifyDummy(password) {
      dummy ??= hash('tessera-dummy-password', options)
      await verify(await dummy, password).catch(() => false)
      return false
    },
  }
}

/**
 * Checks an account's password; with no account (or no password set) it spends the same time
 * on a dummy hash, so the answer's timing does not tell whether the account exists.
 */
export async function verifyAccountPassword(
  hasher: PasswordHasher,
  account: { password_hash: string | null } | undefined,
  password: string,
): Promise<boolean> {
  if (!account?.password_hash) return hasher.verifyDummy(password)
  return hasher.verify(account.password_hash, password)
}
