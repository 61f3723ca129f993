import { type Static, Type } from 'typebox'
import { Password } from '../passwords/schemas.ts'

/**
 * An address as typed: surrounding spaces are trimmed and Unicode (EAI, RFC 6531) is allowed,
 * which JSON Schema's `email` format refuses; one `@`, no inner spaces.
 */
export const Email = Type.String({ pattern: '^\\s*[^\\s@]{1,64}@[^\\s@]+\\.[^\\s@]+\\s*$', maxLength: 254 })
export const PersonName = Type.String({ minLength: 1, maxLength: 200 })
/** BCP 47 language tag, e.g. `en-GB`. */
export const Locale = Type.String({ pattern: '^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$', maxLength: 35 })
/** IANA time zone, e.g. `Europe/Paris`. */
export const TimeZone = Type.String({ pattern: '^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$', maxLength: 64 })

export const User = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    email: Type.String(),
    emailVerified: Type.Boolean(),
    name: Type.Union([Type.String(), Type.Null()]),
    locale: Type.Union([Type.String(), Type.Null()]),
    timeZone: Type.Union([Type.String(), Type.Null()]),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'User', additionalProperties: false },
)
export type User = Static<typeof User>

export const UpdateProfileBody = Type.Object(
  {
    name: Type.Optional(Type.Union([PersonName, Type.Null()])),
    locale: Type.Optional(Type.Union([Locale, Type.Null()])),
    timeZone: Type.Optional(Type.Union([TimeZone, Type.Null()])),
  },
  { additionalProperties: false, minProperties: 1 },
)
export type UpdateProfileBody = Static<typeof UpdateProfileBody>

/** A token from a mailed link (`?token=…`). */
export const MailToken = Type.String({ minLength: 20, maxLength: 200, pattern: '^[A-Za-z0-9_-]+$' })

export const VerifyEmailBody = Type.Object({ token: MailToken }, { additionalProperties: false })
export type VerifyEmailBody = Static<typeof VerifyEmailBody>

export const ResendVerificationBody = Type.Object({ email: Email }, { additionalProperties: false })
export type ResendVerificationBody = Static<typeof ResendVerificationBody>

export const ChangeEmailBody = Type.Object(
  { newEmail: Email, password: Password },
  { additionalProperties: false },
)
export type ChangeEmailBody = Static<typeof ChangeEmailBody>

/** The one answer to a resend, whoever the address belongs to. */
export const ResendAccepted = Type.Object(
  { message: Type.String() },
  { additionalProperties: false, description: 'the same body whether or not the address has an account' },
)

export const EmailChangePending = Type.Object(
  {
    pendingEmail: Type.String({ description: 'the new address; it takes effect once its link is followed' }),
  },
  { additionalProperties: false },
)

/** Register's answer when `requireVerifiedEmail` is on: no session until the address is confirmed. */
export const VerificationRequired = Type.Object(
  {
    // User's shape without its $id: both answers of register embed a user, and one schema may
    // not define the same $id twice.
    user: Type.Object(User.properties, { additionalProperties: false }),
    verificationRequired: Type.Literal(true, {
      description: 'a link was mailed to the address; sign in once it has been followed',
    }),
  },
  { $id: 'VerificationRequired', additionalProperties: false },
)
export type VerificationRequired = Static<typeof VerificationRequired>
