import { Type } from 'typebox'
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from './policy.ts'

/** Any password a user could have set; the policy (common list) applies only when setting one. */
export const Password = Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH })
export const NewPassword = Type.String({ minLength: PASSWORD_MIN_LENGTH, maxLength: PASSWORD_MAX_LENGTH })
