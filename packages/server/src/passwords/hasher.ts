/**
 * Password hashing: argon2id with OWASP's parameters (19 MiB, t=2, p=1).
 * Hashes made with other parameters still verify and are flagged for rehash on the next login.
 * Only a few hashes run at once (`defaultHashConcurrency`); the others wait their turn.
 */
import { availableParallelism } from 'node:os'
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

/**
 * Hashes computed at once unless configured: one per core, and never all of libuv's threads,
 * which file and DNS work share. More than one per core is no faster (two at once on two cores
 * hash as fast as four, bench/) and each holds 19 MiB.
 */
function defaultHashConcurrency(): number {
  const threads = Number(process.env.UV_THREADPOOL_SIZE) || 4
  return Math.max(1, Math.min(availableParallelism(), threads - 1))
}

/** The two argon2id computations; tests count them. */
export interface Argon2 {
  hash: typeof hash
  verify: typeof verify
}

export function createPasswordHasher(
  params: Argon2Params = OWASP_ARGON2ID,
  concurrency: number = defaultHashConcurrency(),
  argon2: Argon2 = { hash, verify },
): PasswordHasher {
  const options = { algorithm: ARGON2ID, ...params }
  const expectedPrefix = `$argon2id$v=19$m=${params.memoryCost},t=${params.timeCost},p=${params.parallelism}$`
  const inTurn = limitConcurrency(concurrency)
  let dummyHash: string | undefined
  return {
    hash: (password) => inTurn(() => argon2.hash(password, options)),
    async verify(hashed, password) {
      try {
        return await inTurn(() => argon2.verify(hashed, password))
      } catch {
        return false // a malformed stored hash never authenticates
      }
    },
    needsRehash: (hashed) => !hashed.startsWith(expectedPrefix),
    async verifyDummy(password) {
      // One computation, as a real verify costs, from the very first call: until the dummy hash
      // exists, computing it (a hash costs what a verify costs) is this call's work.
      const stored = dummyHash
      if (stored === undefined) {
        dummyHash ??= await inTurn(() => argon2.hash('tessera-dummy-password', options))
      } else {
        await inTurn(() => argon2.verify(stored, password)).catch(() => false)
      }
      return false
    },
  }
}

/** Runs at most `limit` tasks at once; the others wait, first come first served. */
export function limitConcurrency(limit: number) {
  let running = 0
  const waiting: Array<() => void> = []
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running < limit) running++
    else await new Promise<void>((resolve) => waiting.push(resolve))
    try {
      return await task()
    } finally {
      // The slot passes straight to the next waiter, so `running` only drops when none waits.
      const next = waiting.shift()
      if (next) next()
      else running--
    }
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
