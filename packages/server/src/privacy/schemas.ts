import { type Static, Type } from 'typebox'
import { User } from '../accounts/schemas.ts'
import { MfaStatus, Passkey } from '../mfa/schemas.ts'
import { SessionInfo } from '../sessions/schemas.ts'

export const AuditEventInfo = Type.Object(
  {
    type: Type.String({ description: 'what happened, e.g. login.succeeded' }),
    occurredAt: Type.String({ format: 'date-time' }),
    ip: Type.Union([Type.String(), Type.Null()]),
    userAgent: Type.Union([Type.String(), Type.Null()]),
    data: Type.Record(Type.String(), Type.Unknown(), { description: 'facts of the event; never a secret' }),
  },
  { additionalProperties: false },
)

export const GrantInfo = Type.Object(
  {
    clientId: Type.String(),
    scope: Type.String({ description: 'OpenID Connect scopes granted, space-separated' }),
    resources: Type.Record(Type.String(), Type.String(), { description: 'scopes granted per API audience' }),
    expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  { additionalProperties: false },
)

export const AccountExport = Type.Object(
  {
    exportedAt: Type.String({ format: 'date-time' }),
    user: User,
    sessions: Type.Array(SessionInfo, { description: 'live sessions' }),
    mfa: MfaStatus,
    passkeys: Type.Array(Passkey),
    grants: Type.Array(GrantInfo, { description: 'what the account allowed OAuth / OpenID Connect clients' }),
    auditEvents: Type.Array(AuditEventInfo, { description: 'newest first' }),
  },
  { additionalProperties: false },
)
export type AccountExport = Static<typeof AccountExport>
