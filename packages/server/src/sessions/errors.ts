import { AppError } from '../core/errors.ts'

export const sessionErrors = {
  invalidCredentials: () => new AppError(401, 'invalid_credentials', 'the email or password is incorrect'),
  accountLocked: (retryAfterSeconds: number) =>
    new AppError(429, 'account_locked', 'too many failed sign-in attempts; try again later', {
      'retry-after': String(retryAfterSeconds),
    }),
  accountDisabled: () => new AppError(403, 'account_disabled', 'this account has been disabled'),
  invalidRefreshToken: () =>
    new AppError(401, 'invalid_refresh_token', 'the refresh token is invalid or expired'),
  refreshTokenReused: () =>
    new AppError(
      401,
      'refresh_token_reused',
      'this refresh token was already used; the session has been ended',
    ),
  sessionEnded: () => new AppError(401, 'session_ended', 'the session has ended; sign in again'),
}
