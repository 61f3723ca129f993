/**
 * Cross-instance plumbing: Redis when REDIS_URL is set, otherwise this process only.
 * Carries revocation fan-out (pub/sub) and is the store behind rate limits.
 */
import { EventEmitter } from 'node:events'
import { createRequire } from 'node:module'
import type { Redis } from 'ioredis'

export type MessageHandler = (message: string) => void

export interface Kv {
  /** The Redis client for stores that speak Redis directly (rate limits); undefined in memory mode. */
  redis: Redis | undefined
  publish(channel: string, message: string): Promise<void>
  subscribe(channel: string, handler: MessageHandler): Promise<void>
  ping(): Promise<void>
  close(): Promise<void>
}

export function createMemoryKv(): Kv {
  const bus = new EventEmitter()
  bus.setMaxListeners(0)
  return {
    redis: undefined,
    publish: async (channel, message) => {
      bus.emit(channel, message)
    },
    subscribe: async (channel, handler) => {
      bus.on(channel, handler)
    },
    ping: async () => {},
    close: async () => {
      bus.removeAllListeners()
    },
  }
}

const require = createRequire(import.meta.url)

export function createRedisKv(url: string, keyPrefix = ''): Kv {
  // Loaded only when Redis is configured: a single instance never needs the client.
  const { Redis } = require('ioredis') as typeof import('ioredis')
  const options = { lazyConnect: false, maxRetriesPerRequest: 2, enableOfflineQueue: true }
  const redis = new Redis(url, options)
  const subscriber = new Redis(url, options)
  const handlers = new Map<string, MessageHandler[]>()
  // Errors surface on the commands that fail (→ 503); the events themselves only need to be quiet.
  redis.on('error', () => {})
  subscriber.on('error', () => {})
  subscriber.on('message', (channel: string, message: string) => {
    for (const handler of handlers.get(channel) ?? []) handler(message)
  })
  return {
    redis,
    publish: async (channel, message) => {
      await redis.publish(keyPrefix + channel, message)
    },
    subscribe: async (channel, handler) => {
      const name = keyPrefix + channel
      const list = handlers.get(name) ?? []
      list.push(handler)
      handlers.set(name, list)
      if (list.length === 1) await subscriber.subscribe(name)
    },
    ping: async () => {
      await redis.ping()
    },
    close: async () => {
      await Promise.allSettled([redis.quit(), subscriber.quit()])
    },
  }
}
