/**
 * Keyset paging for admin lists: the `limit` and `nextCursor` fields every list shares, and the
 * one-row-more trick that tells whether another page exists. Each list keeps its own cursor
 * format (an id, or `<created_at>.<id>`) and its own query.
 */
import { Type } from 'typebox'

export const DEFAULT_PAGE_SIZE = 50
export const MAX_PAGE_SIZE = 100

// Query strings arrive as strings and the app never coerces types, so `limit` is a decimal
// string whose pattern alone admits 1 to MAX_PAGE_SIZE.
export const PageLimit = Type.Optional(
  Type.String({
    pattern: `^(?:[1-9][0-9]?|${MAX_PAGE_SIZE})$`,
    description: `page size, 1 to ${MAX_PAGE_SIZE} (default ${DEFAULT_PAGE_SIZE})`,
  }),
)

export const NextCursor = Type.Union([Type.String(), Type.Null()], {
  description: 'pass as `cursor` for the next page; null on the last page',
})

/** The rows to ask the store for: one more than the page, to learn whether another follows. */
export function rowsToFetch(limit: string | undefined): number {
  return (limit ? Number(limit) : DEFAULT_PAGE_SIZE) + 1
}

/** The page out of `rowsToFetch` rows, and the cursor of its last row when more rows follow. */
export function toPage<Row>(rows: Row[], fetched: number, cursorOf: (last: Row) => string) {
  const items = rows.slice(0, fetched - 1)
  const last = items[items.length - 1]
  return { items, nextCursor: rows.length === fetched && last ? cursorOf(last) : null }
}
