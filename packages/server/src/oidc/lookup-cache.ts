/**
 * A short-lived memo for the two lookups on the provider's hot path (the client of every token
 * request, the API of every resource-bound token): one row read per key per `ttlMs` instead of
 * one per request. An admin's change (a new secret, a deleted client, a new token lifetime)
 * reaches every instance within `ttlMs`. Misses are remembered too, so unknown client ids cannot
 * be used to hammer the database; the map is bounded and emptied when full.
 */
export function cachedLookup<T>(
  load: (key: string) => Promise<T | undefined>,
  options: { ttlMs: number; maxEntries: number; now: () => number },
): (key: string) => Promise<T | undefined> {
  const entries = new Map<string, { value: Promise<T | undefined>; until: number }>()
  return (key) => {
    const now = options.now()
    const hit = entries.get(key)
    if (hit && hit.until > now) return hit.value
    if (entries.size >= options.maxEntries) entries.clear()
    const value = load(key)
    entries.set(key, { value, until: now + options.ttlMs })
    value.catch(() => entries.delete(key)) // a failed read is retried, not remembered
    return value
  }
}
