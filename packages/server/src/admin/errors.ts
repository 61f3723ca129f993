import { AppError } from '../core/errors.ts'

export const adminErrors = {
  userNotFound: () => new AppError(404, 'user_not_found', 'no user has this id'),
  cannotModifySelf: () =>
    new AppError(409, 'cannot_modify_self', 'administrators cannot disable or delete their own account'),
}
