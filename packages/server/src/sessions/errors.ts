import { AppError } from '../core/errors.ts'

export const sessionErrors = {
  invalidCredentials: () => new AppError(401, 'invalid_credentials', 'the email or password is incorrect'),
  accountDisabled: () => new AppError(403, 'account_disabled', 'this account has been disabled'),
  invalidRefreshToken: () =>
    new AppError(401, 'invalid_refresh_token', 'the refresh token is invalid or expired'),
  refreshTokenReused: () =>
    new AppError(
      401,
      'refresh_token_reused',
      'this refresh token was already used; the session has been ended',
    ),
  reauthenticationRequired: () =>
    new AppError(
      403,
      'reauthentication_required',
      'confirm your identity again (POST /v1/me/reauthenticate) and retry',
    ),
  reauthenticationInputMissing: () =>
    new AppError(400, 'validation_failed', 'send your password, or a method with its code or credential'),
  sessionEnded: () => new AppError(401, 'session_ended', 'the session has ended; sign in again'),
  adminRequired: () =>
    new AppError(
      403,
      'admin_required',
      'this needs an administrator token (a role granted after sign-in needs a new token)',
    ),
}
