/**
 * Progressive account lockout, keyed by the normalised email (so unknown emails lock exactly
 * like real ones and reveal nothing). After `maxFailures` wrong passwords inside the failure
 * window the key is locked; each further lock within a day doubles the lock, up to a cap.
 * A locked key stays locked even for the right password.
 */

import { RateLimiterRes } from 'rate-limiter-flexible'
import type { LimiterFactory } from '../core/rate-limit.ts'
import { retryAfterSeconds } from '../core/rate-limit.ts'

const FAILURE_WINDOW_SECONDS = 15 * 60
const LOCK_MEMORY_SECONDS = 24 * 3600
const MAX_LOCKS_COUNTED = 1000

export interface LockoutOptions {
  maxFailures: number
  lockSeconds: number
  maxLockSeconds: number
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
    /** Seconds until the lock on `key` lifts, or 0 when it is not locked. */
    async lockedFor(key: string): Promise<number> {
      const res = await failures.get(key)
      return res && res.consumedPoints > options.maxFailures ? retryAfterSeconds(res) : 0
    },

    async recordFailure(key: string): Promise<FailureOutcome> {
      try {
        const res = await failures.consume(key)
        if (res.remainingPoints > 0) return { locked: false }
      } catch (err) {
        if (!(err instanceof RateLimiterRes)) throw err
      }
      const lockNumber = (await locks.penalty(key, 1)).consumedPoints
      const seconds = Math.min(options.lockSeconds * 2 ** (lockNumber - 1), options.maxLockSeconds)
      await failures.block(key, seconds)
      return { locked: true, seconds, lockNumber }
    },

    async clearFailures(key: string): Promise<void> {
      await failures.delete(key)
    },
  }
}

export type Lockout = ReturnType<typeof createLockout>
