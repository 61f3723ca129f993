import { AppError } from '../core/errors.ts'

export const passwordErrors = {
  accountLocked: (retryAfterSeconds: number) =>
    new AppError(429, 'account_locked', 'too many failed sign-in attempts; try again later', {
      'retry-after': String(retryAfterSeconds),
    }),
  invalidCurrentPassword: (field = 'currentPassword') =>
    new AppError(403, 'invalid_current_password', 'the current password is incorrect', {}, [
      { pointer: `/body/${field}`, detail: 'incorrect' },
    ]),
  resetTokenInvalid: () =>
    new AppError(400, 'reset_token_invalid', 'this reset link is invalid, expired or already used'),
}
