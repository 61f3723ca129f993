import { AppError } from '../core/errors.ts'

export const accountErrors = {
  emailTaken: () => new AppError(409, 'email_taken', 'an account with this email already exists'),
  accountNotFound: () => new AppError(401, 'unauthorized', 'the account no longer exists'),
}
