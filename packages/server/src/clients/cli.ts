/**
 * `tessera clients create|list`: the registration of POST /v1/admin/clients with flags instead
 * of a JSON body, checked by the same schema and then the same service rules.
 */
import { Value } from 'typebox/value'
import { MAX_PAGE_SIZE } from '../core/paging.ts'
import { type ClientPage, CreateClientBody, type OAuthClient } from './schemas.ts'
import type { ClientService } from './service.ts'

/** parseArgs options of `clients create` (beside `--name`, which `admin create` shares). */
export const CLIENT_FLAG_OPTIONS = {
  'redirect-uri': { type: 'string', multiple: true },
  'post-logout-redirect-uri': { type: 'string', multiple: true },
  grant: { type: 'string', multiple: true },
  'auth-method': { type: 'string' },
  scope: { type: 'string' },
  'application-type': { type: 'string' },
} as const

export interface ClientFlags {
  name?: string | undefined
  'redirect-uri'?: string[] | undefined
  'post-logout-redirect-uri'?: string[] | undefined
  grant?: string[] | undefined
  'auth-method'?: string | undefined
  scope?: string | undefined
  'application-type'?: string | undefined
}

/** Each flag and the registration field it sets. */
const FIELDS: Record<keyof ClientFlags, string> = {
  name: 'client_name',
  'redirect-uri': 'redirect_uris',
  'post-logout-redirect-uri': 'post_logout_redirect_uris',
  grant: 'grant_types',
  'auth-method': 'token_endpoint_auth_method',
  scope: 'scope',
  'application-type': 'application_type',
}

/** The flags as a registration body, or the first problem with them, named by its flag. */
export function clientBodyFromFlags(flags: ClientFlags): { body: CreateClientBody } | { problem: string } {
  if (!flags.name) return { problem: 'needs --name <name>' }
  const body = Object.fromEntries(
    (Object.keys(FIELDS) as (keyof ClientFlags)[])
      .filter((flag) => flags[flag] !== undefined)
      .map((flag) => [FIELDS[flag], flags[flag]]),
  )
  if (Value.Check(CreateClientBody, body)) return { body }
  const errors = [...Value.Errors(CreateClientBody, body)]
  const first = errors[0]
  if (!first) return { problem: 'invalid flags' }
  const field = first.instancePath.split('/')[1] ?? ''
  const flag = (Object.keys(FIELDS) as (keyof ClientFlags)[]).find((f) => FIELDS[f] === field)
  // A value outside a list of literals fails each literal in turn: name them all instead.
  const allowed = errors
    .filter((e) => e.instancePath === first.instancePath && e.keyword === 'const')
    .map((e) => (e.params as { allowedValue?: unknown }).allowedValue)
  const reason = allowed.length > 0 ? `must be one of ${allowed.join(', ')}` : first.message
  return { problem: `${flag ? `--${flag}` : 'the flags'}: ${reason}` }
}

/** Every client, newest first, page after page. */
export async function listAllClients(clients: ClientService): Promise<OAuthClient[]> {
  const all: OAuthClient[] = []
  let page: ClientPage | undefined
  do {
    const limit = String(MAX_PAGE_SIZE)
    page = await clients.listClients(page?.nextCursor ? { cursor: page.nextCursor, limit } : { limit })
    all.push(...page.clients)
  } while (page.nextCursor)
  return all
}
