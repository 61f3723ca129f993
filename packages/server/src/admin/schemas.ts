import { type Static, Type } from 'typebox'
import { User } from '../accounts/schemas.ts'
import { NextCursor, PageLimit } from '../core/paging.ts'

const Timestamp = Type.String({ format: 'date-time' })
const NullableTimestamp = Type.Union([Timestamp, Type.Null()])

export const UserIdParams = Type.Object(
  { id: Type.String({ format: 'uuid' }) },
  { additionalProperties: false },
)

export const ListUsersQuery = Type.Object(
  {
    query: Type.Optional(
      Type.String({ maxLength: 254, description: 'case-insensitive substring of the email or the name' }),
    ),
    limit: PageLimit,
    cursor: Type.Optional(Type.String({ format: 'uuid', description: '`nextCursor` of the previous page' })),
  },
  { additionalProperties: false },
)
export type ListUsersQuery = Static<typeof ListUsersQuery>

/** A user as administrators see them: the profile plus status. Never a hash or a secret. */
export const AdminUser = Type.Object(
  {
    ...User.properties,
    disabled: Type.Boolean(),
    disabledAt: NullableTimestamp,
    roles: Type.Array(Type.String(), { description: 'platform roles, e.g. `admin`' }),
  },
  { $id: 'AdminUser', additionalProperties: false },
)
export type AdminUser = Static<typeof AdminUser>

export const AdminUserDetail = Type.Object(
  {
    ...AdminUser.properties,
    mfaEnabled: Type.Boolean({ description: 'has at least one second factor' }),
    lastLoginAt: Type.Union([Timestamp, Type.Null()], { description: 'start of the newest session' }),
  },
  { $id: 'AdminUserDetail', additionalProperties: false },
)
export type AdminUserDetail = Static<typeof AdminUserDetail>

export const UserPage = Type.Object(
  {
    users: Type.Array(AdminUser),
    nextCursor: NextCursor,
  },
  { $id: 'UserPage', additionalProperties: false },
)
export type UserPage = Static<typeof UserPage>
