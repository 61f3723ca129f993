/**
 * Is the session behind an access token still live? Asked on every authenticated request, so
 * answers are cached briefly; every revocation purges the cache at once, here and (through the
 * kv bus, Redis when configured) on every other instance.
 */
import type { Kysely } from 'kysely'
import type { Clock } from '../core/clock.ts'
import type { DB } from '../core/db-schema.ts'
import type { Kv } from '../core/kv.ts'
import { findLiveSession } from './store.ts'

const CHANNEL = 'sessions:revoked'
const MAX_ENTRIES = 100_000

export function createSessionLiveness(deps: { db: Kysely<DB>; kv: Kv; clock: Clock; ttlSeconds: number }) {
  /** sid → time (ms) until which "live" may be answered from memory. */
  const cache = new Map<string, number>()
  const forget = (ids: string[]) => {
    for (const id of ids) cache.delete(id)
  }

  return {
    async start(): Promise<void> {
      await deps.kv.subscribe(CHANNEL, (message) => forget(JSON.parse(message) as string[]))
    },

    async isLive(sessionId: string, accountId: string): Promise<boolean> {
      const now = deps.clock.now()
      const cachedUntil = cache.get(sessionId)
      if (cachedUntil !== undefined && cachedUntil > now) return true
      const row = await findLiveSession(deps.db, sessionId, now)
      if (!row || row.account_id !== accountId) return false
      if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value!)
      cache.set(sessionId, now + deps.ttlSeconds * 1000)
      return true
    },

    /** Call after revoking sessions in the database. */
    async revoked(sessionIds: string[]): Promise<void> {
      if (sessionIds.length === 0) return
      forget(sessionIds)
      await deps.kv.publish(CHANNEL, JSON.stringify(sessionIds))
    },
  }
}

export type SessionLiveness = ReturnType<typeof createSessionLiveness>
