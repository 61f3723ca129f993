/**
 * Rate limiters from rate-limiter-flexible: atomic counters in Redis when configured
 * (shared by every instance), in process memory otherwise.
 */

import type { RateLimiterAbstract } from 'rate-limiter-flexible'
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible'
import { commonErrors } from './errors.ts'
import type { Kv } from './kv.ts'

export interface LimiterSpec {
  /** Namespace of the counters, e.g. `ip:login`. */
  name: string
  points: number
  /** Window in seconds. */
  duration: number
}

export type LimiterFactory = (spec: LimiterSpec) => RateLimiterAbstract

export function createLimiterFactory(kv: Kv, prefix = 'tessera'): LimiterFactory {
  return ({ name, points, duration }) => {
    const keyPrefix = `${prefix}:rl:${name}`
    return kv.redis
      ? new RateLimiterRedis({ storeClient: kv.redis, keyPrefix, points, duration })
      : new RateLimiterMemory({ keyPrefix, points, duration })
  }
}

export function retryAfterSeconds(res: RateLimiterRes): number {
  return Math.max(1, Math.ceil(res.msBeforeNext / 1000))
}

/** Consumes one point; over the limit it throws `429 rate_limited` with Retry-After. */
export async function consumeOrThrow(limiter: RateLimiterAbstract, key: string): Promise<void> {
  try {
    await limiter.consume(key)
  } catch (err) {
    if (err instanceof RateLimiterRes) throw commonErrors.rateLimited(retryAfterSeconds(err))
    throw err
  }
}
