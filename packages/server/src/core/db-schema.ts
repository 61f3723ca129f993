/**
 * Table shapes, as Kysely sees them. Times are Unix epoch milliseconds (BIGINT on PostgreSQL,
 * INTEGER on SQLite) so that both dialects compare and index them the same way.
 */
import type { Generated } from 'kysely'

export type EpochMs = number

export interface AccountsTable {
  id: string
  /** As the user typed it, trimmed and NFC-normalised. */
  email: string
  /** Lower-cased `email`; unique. */
  email_key: string
  email_verified_at: EpochMs | null
  name: string | null
  locale: string | null
  time_zone: string | null
  password_hash: string | null
  created_at: EpochMs
  updated_at: EpochMs
  disabled_at: EpochMs | null
}

export interface SessionsTable {
  id: string
  account_id: string
  ip: string | null
  user_agent: string | null
  /** Space-separated RFC 8176 method references, e.g. `pwd otp`. */
  amr: string
  created_at: EpochMs
  authenticated_at: EpochMs
  last_seen_at: EpochMs
  expires_at: EpochMs
  revoked_at: EpochMs | null
  revoked_reason: string | null
}

export interface RefreshTokensTable {
  id: string
  session_id: string
  /** SHA-256 of the secret half of the token; the secret itself is never stored. */
  secret_hash: string
  created_at: EpochMs
  expires_at: EpochMs
  /** Set when rotated; presenting it again is reuse. */
  used_at: EpochMs | null
}

export interface SigningKeysTable {
  kid: string
  alg: string
  public_jwk: string
  /** Envelope-encrypted private JWK (see core/crypto.ts). */
  private_jwk: string
  created_at: EpochMs
  /** When a newer key took over signing; null for the active key. */
  retired_at: EpochMs | null
  /** After this the public key is no longer published (its last token has expired). */
  expires_at: EpochMs | null
}

export interface AuditEventsTable {
  id: string
  occurred_at: EpochMs
  type: string
  account_id: string | null
  session_id: string | null
  ip: string | null
  user_agent: string | null
  /** JSON object with event-specific facts; never secrets. */
  data: string
}

export interface DB {
  accounts: AccountsTable
  sessions: SessionsTable
  refresh_tokens: RefreshTokensTable
  signing_keys: SigningKeysTable
  audit_events: AuditEventsTable
  kysely_migration: { name: string; timestamp: Generated<string> }
}
