import { AppError } from '../core/errors.ts'

export const mfaErrors = {
  invalidCode: () => new AppError(400, 'invalid_mfa_code', 'the code is incorrect or was already used'),
  invalidMfaToken: () =>
    new AppError(401, 'invalid_mfa_token', 'the sign-in attempt has expired or is invalid; sign in again'),
  methodUnavailable: () =>
    new AppError(400, 'mfa_method_unavailable', 'this method is not set up for the account'),
  noPendingEnrolment: () => new AppError(400, 'no_pending_enrolment', 'start the enrolment first'),
  factorNotFound: () => new AppError(404, 'not_found', 'no such factor'),
  tooManyAttempts: (retryAfterSeconds: number) =>
    new AppError(429, 'too_many_mfa_attempts', 'too many wrong codes; try again later', {
      'retry-after': String(retryAfterSeconds),
    }),
}

export const smsErrors = {
  /** `status` 404 on the SMS endpoints (the feature is absent), 400 where `method: 'sms'` is offered. */
  notConfigured: (status: 404 | 400 = 404) =>
    new AppError(status, 'sms_not_configured', 'SMS codes are not enabled on this server'),
  invalidPhoneNumber: () =>
    new AppError(400, 'invalid_phone_number', 'give the phone number in E.164 form, e.g. +15551234567'),
  factorExists: () =>
    new AppError(
      409,
      'sms_factor_exists',
      'a phone number is already set up; remove it before adding another',
    ),
  noActiveFactor: () =>
    new AppError(400, 'mfa_method_unavailable', 'no phone number is set up for the account'),
  /** The provider's answer goes to the log (as `cause`), never to the client. */
  deliveryFailed: (cause: unknown) => {
    const err = new AppError(
      502,
      'sms_delivery_failed',
      'the text message could not be sent; try again later',
    )
    err.cause = cause
    return err
  },
}

export const passkeyErrors = {
  /** One answer for an unknown credential and a bad assertion: nothing to enumerate. */
  invalidPasskey: () => new AppError(401, 'invalid_passkey', 'the passkey could not be verified'),
  registrationFailed: () =>
    new AppError(400, 'passkey_registration_failed', 'the passkey could not be verified; start again'),
  alreadyRegistered: () => new AppError(409, 'passkey_exists', 'this passkey is already registered'),
  notFound: () => new AppError(404, 'not_found', 'no such passkey'),
}
