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
  /** Space-separated platform roles (`admin`); empty for most accounts. */
  roles: string
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

export type FactorType = 'totp' | 'sms'

/** TOTP and SMS factors. Passkeys have their own table (they are also a first factor). */
export interface MfaFactorsTable {
  id: string
  account_id: string
  type: FactorType
  label: string
  /** Envelope-encrypted: the TOTP secret (base32) or the phone number (E.164). */
  secret: string
  status: 'pending' | 'active'
  /** Last accepted TOTP time step; a code for this step or earlier is a replay. */
  last_totp_step: number | null
  last_used_at: EpochMs | null
  created_at: EpochMs
  activated_at: EpochMs | null
}

export interface PasskeysTable {
  id: string
  account_id: string
  /** base64url credential id from the authenticator. */
  credential_id: string
  /** base64url COSE public key. */
  public_key: string
  /** Signature counter (WebAuthn §6.1.1); 0 for authenticators that do not count. */
  counter: number
  /** Comma-separated AuthenticatorTransport values. */
  transports: string
  device_type: string
  /** 0/1: the credential is synced (backed up). */
  backed_up: number
  label: string
  created_at: EpochMs
  last_used_at: EpochMs | null
}

export interface BackupCodesTable {
  id: string
  account_id: string
  /** Keyed hash (core/crypto.ts createCodeHasher) of the normalised code. */
  code_hash: string
  created_at: EpochMs
  used_at: EpochMs | null
}

/** A login that passed its first factor and waits for a second (`mfaToken`). */
export interface MfaChallengesTable {
  id: string
  account_id: string
  secret_hash: string
  /** Methods already passed, space-separated (`pwd`). */
  amr: string
  failed_attempts: number
  created_at: EpochMs
  expires_at: EpochMs
  consumed_at: EpochMs | null
}

export interface WebauthnChallengesTable {
  id: string
  /** Null for passwordless sign-in, where the user is not known yet. */
  account_id: string | null
  purpose: 'register' | 'authenticate' | 'second_factor'
  challenge: string
  created_at: EpochMs
  expires_at: EpochMs
  consumed_at: EpochMs | null
}

export interface SmsCodesTable {
  id: string
  factor_id: string
  code_hash: string
  created_at: EpochMs
  expires_at: EpochMs
  consumed_at: EpochMs | null
}

export type OneTimeTokenPurpose = 'verify_email' | 'change_email' | 'reset_password'

export interface OneTimeTokensTable {
  id: string
  purpose: OneTimeTokenPurpose
  account_id: string
  /** SHA-256 of the token sent by mail; the token itself is never stored. */
  secret_hash: string
  /** JSON object, e.g. `{"email": …}`: the address the link was sent to (the new one for a change). */
  data: string
  created_at: EpochMs
  expires_at: EpochMs
  /** Set by the one use (a conditional update), or when a newer token replaces this one. */
  consumed_at: EpochMs | null
}

/** One object persisted by the OIDC provider (oidc/adapter.ts). */
export interface OidcModelsTable {
  /** oidc-provider's model name: `Session`, `Grant`, `AccessToken`, `RefreshToken`, … */
  model: string
  id: string
  /** The provider's JSON payload, stored as given. */
  payload: string
  grant_id: string | null
  user_code: string | null
  uid: string | null
  /** The account the object belongs to, when it has one. */
  account_id: string | null
  expires_at: EpochMs | null
  consumed_at: EpochMs | null
}

/** An OAuth 2 / OIDC client registered by an admin. */
export interface OauthClientsTable {
  client_id: string
  client_name: string
  /** JSON object of oidc-provider client metadata (redirect_uris, grant_types, …), without the secret. */
  metadata: string
  /** Envelope-encrypted secret for client_secret_basic/post; null for public and private_key_jwt clients. */
  client_secret: string | null
  created_at: EpochMs
  updated_at: EpochMs
}

/** An API that tokens may be issued for (RFC 8707 resource indicator). */
export interface ApiResourcesTable {
  id: string
  /** The resource indicator: an absolute URI without a fragment; the `aud` of its tokens. */
  audience: string
  name: string
  /** Space-separated scopes the API accepts. */
  scopes: string
  /** Access-token lifetime in seconds. */
  access_token_ttl: number
  created_at: EpochMs
  updated_at: EpochMs
}

export interface DB {
  accounts: AccountsTable
  sessions: SessionsTable
  refresh_tokens: RefreshTokensTable
  signing_keys: SigningKeysTable
  audit_events: AuditEventsTable
  one_time_tokens: OneTimeTokensTable
  mfa_factors: MfaFactorsTable
  passkeys: PasskeysTable
  backup_codes: BackupCodesTable
  mfa_challenges: MfaChallengesTable
  webauthn_challenges: WebauthnChallengesTable
  sms_codes: SmsCodesTable
  oidc_models: OidcModelsTable
  oauth_clients: OauthClientsTable
  api_resources: ApiResourcesTable
  kysely_migration: { name: string; timestamp: Generated<string> }
}
