import { type Static, Type } from 'typebox'

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
