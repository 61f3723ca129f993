import { v7 } from 'uuid'

/** Time-ordered UUIDv7 (RFC 9562): index-friendly primary keys. */
export function newId(): string {
  return v7()
}
