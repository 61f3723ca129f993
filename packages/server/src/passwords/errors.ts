import { AppError } from '../core/errors.ts'

export const passwordErrors = {
  resetTokenInvalid: () =>
    new AppError(400, 'reset_token_invalid', 'this reset link is invalid, expired or already used'),
}
