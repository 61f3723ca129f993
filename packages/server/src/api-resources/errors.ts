import { AppError } from '../core/errors.ts'

export const apiResourceErrors = {
  /** A field that passed the schema but not the rules; `field` is a path into the body. */
  invalid: (field: string, detail: string) =>
    new AppError(400, 'validation_failed', `${field}: ${detail}`, {}, [
      { pointer: `/body/${field}`, detail },
    ]),
  audienceTaken: () =>
    new AppError(
      409,
      'audience_taken',
      'this audience is already registered (or is the built-in first-party API)',
    ),
  notFound: () => new AppError(404, 'api_resource_not_found', 'no API resource has this id'),
}
