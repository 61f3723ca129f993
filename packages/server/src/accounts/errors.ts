import { AppError } from '../core/errors.ts'

export const accountErrors = {
  emailTaken: () => new AppError(409, 'email_taken', 'an account with this email already exists'),
  accountNotFound: () => new AppError(401, 'unauthorized', 'the account no longer exists'),
  emailNotVerified: () =>
    new AppError(403, 'email_not_verified', 'confirm your email address first (see the link we sent)'),
  verificationTokenInvalid: () =>
    new AppError(400, 'verification_token_invalid', 'this link is invalid, expired or already used'),
  emailUnchanged: () =>
    new AppError(400, 'email_unchanged', "this is already the account's address", {}, [
      { pointer: '/body/newEmail', detail: 'unchanged' },
    ]),
  invalidPassword: () =>
    new AppError(403, 'invalid_current_password', 'the password is incorrect', {}, [
      { pointer: '/body/password', detail: 'incorrect' },
    ]),
}
