import { type Static, Type } from 'typebox'
import { Email, PersonName, User } from '../accounts/schemas.ts'
import { FactorProof, OtpCode, SecondFactorMethod } from '../mfa/schemas.ts'
import { NewPassword, Password } from '../passwords/schemas.ts'

export const RefreshTokenString = Type.String({ minLength: 1, maxLength: 200 })

export const RegisterBody = Type.Object(
  { email: Email, password: NewPassword, name: Type.Optional(PersonName) },
  { additionalProperties: false },
)
export type RegisterBody = Static<typeof RegisterBody>

export const LoginBody = Type.Object({ email: Email, password: Password }, { additionalProperties: false })
export type LoginBody = Static<typeof LoginBody>

export const MfaLoginBody = Type.Object(
  { mfaToken: Type.String({ minLength: 1, maxLength: 4096 }), ...FactorProof.properties },
  { additionalProperties: false },
)
export type MfaLoginBody = Static<typeof MfaLoginBody>

export const ReauthBody = Type.Object(
  {
    password: Type.Optional(Password),
    method: Type.Optional(SecondFactorMethod),
    code: Type.Optional(OtpCode),
    credential: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
)
export type ReauthBody = Static<typeof ReauthBody>

export const RefreshBody = Type.Object({ refreshToken: RefreshTokenString }, { additionalProperties: false })

export const LogoutBody = Type.Object(
  { refreshToken: Type.Optional(RefreshTokenString) },
  { additionalProperties: false },
)

export const TokenBody = Type.Object(
  {
    user: User,
    accessToken: Type.String(),
    refreshToken: Type.String(),
    tokenType: Type.Literal('Bearer'),
    expiresIn: Type.Integer({ description: 'access token lifetime in seconds' }),
  },
  { $id: 'TokenBody', additionalProperties: false },
)
export type TokenBody = Static<typeof TokenBody>

export const SessionInfo = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    current: Type.Boolean(),
    ip: Type.Union([Type.String(), Type.Null()]),
    userAgent: Type.Union([Type.String(), Type.Null()]),
    amr: Type.Array(Type.String()),
    createdAt: Type.String({ format: 'date-time' }),
    lastSeenAt: Type.String({ format: 'date-time' }),
    expiresAt: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false },
)
export type SessionInfo = Static<typeof SessionInfo>

export const SessionIdParams = Type.Object(
  { id: Type.String({ format: 'uuid' }) },
  { additionalProperties: false },
)
