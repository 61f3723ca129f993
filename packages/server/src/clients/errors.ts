import { AppError } from '../core/errors.ts'

/** Longest provider message passed on: enough for a sentence, never a dump. */
const MAX_DETAIL = 300

export const clientErrors = {
  /** `field` is a path into the body such as `redirect_uris/1`; the detail and pointer name it. */
  invalidMetadata: (field: string, detail: string) =>
    new AppError(400, 'invalid_client_metadata', `${field}: ${detail}`, {}, [
      { pointer: `/body/${field}`, detail },
    ]),
  /** oidc-provider refused the metadata; only its one-line description is passed on. */
  refusedByProvider: (description: string) =>
    new AppError(400, 'invalid_client_metadata', description.slice(0, MAX_DETAIL)),
  clientNotFound: () => new AppError(404, 'client_not_found', 'no client has this client_id'),
  noSecret: () =>
    new AppError(
      409,
      'client_secret_not_used',
      'this client does not authenticate with a secret (token_endpoint_auth_method none or private_key_jwt)',
    ),
  changedMeanwhile: () =>
    new AppError(409, 'client_changed', 'the client was changed by another request at the same time; retry'),
}
