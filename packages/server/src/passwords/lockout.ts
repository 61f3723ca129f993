/**
 * Progressive account lockout, keyed by the normalised email (so unknown emails lock exactly
 * like real ones and reveal nothing).
 *
 * Each password attempt first takes a point from the key's budget (`maxFailures` per window),
 * atomically, before the password is checked: concurrent guesses cannot all slip past a
 * "not locked yet" read. The attempt that spends the last point and fails locks the key; each
 * further lock within a day doubles, up to a cap. A locked key stays locked even for the
 * right password. A right password gives the budget back.
 */
import { RateLimiterRes } from 'rate-limiter-flexible'
import type { LimiterFactory } from '../core/rate-limit.ts'
import { retryAfterSeconds } from '../core/rate-limit.ts'
import { passwordErrors } from './errors.ts'

const FAILURE_WINDOW_SECONDS = 15 * 60
const LOCK_MEMORY_SECONDS = 24 * 3600
const MAX_LOCKS_COUNTED = 1000

export interface LockoutOptions {
  maxFailures: number
  lockSeconds: number
  maxLockSeconds: number
}

/** A started attempt: whether it spent the key's last point (failing it then locks the key). */
export interface Attempt {
  key: string
  lastPoint: boolean
}

export type FailureOutcome = { locked: false } | { locked: true; seconds: number; lockNumber: number }

export function createLockout(limiters: LimiterFactory, options: LockoutOptions) {
  const failures = limiters({
    name: 'login-failures',
    points: options.maxFailures,
    duration: FAILURE_WINDOW_SECONDS,
  })
  const locks = limiters({ name: 'login-locks', points: MAX_LOCKS_COUNTED, duration: LOCK_MEMORY_SECONDS })

  return {
    /** Takes a point before the password is checked; throws `429 account_locked` when none is left. */
    async begin(key: string): Promise<Attempt> {
      try {
        const res = await failures.consume(key)
        return { key, lastPoint: res.remainingPoints === 0 }
      } catch (err) {
        if (err instanceof RateLimiterRes) throw passwordErrors.accountLocked(retryAfterSeconds(err))
        throw err
      }
    },

    async failed(attempt: Attempt): Promise<FailureOutcome> {
      if (!attempt.lastPoint) return { locked: false }
      const lockNumber = (await locks.penalty(attempt.key, 1)).consumedPoints
      const seconds = Math.min(options.lockSeconds * 2 ** (lockNumber - 1), options.maxLockSeconds)
      await failures.block(attempt.key, seconds)
      return { locked: true, seconds, lockNumber }
    },

    async succeeded(attempt: Attempt): Promise<void> {
      await failures.delete(attempt.key)
    },
  }
}

export type Lockout = ReturnType<typeof createLockout>
