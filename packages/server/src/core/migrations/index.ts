/**
 * Numbered migrations, applied in order on SQLite and PostgreSQL alike. Add a file, then add it
 * here; never edit one that has shipped.
 */
import type { Migration } from 'kysely/migration'
import * as m0001 from './0001-accounts-sessions-tokens.ts'
import * as m0002 from './0002-one-time-tokens.ts'
import * as m0003 from './0003-mfa.ts'
import * as m0004 from './0004-account-roles.ts'
import * as m0005 from './0005-oidc.ts'

export const migrations: Record<string, Migration> = {
  '0001-accounts-sessions-tokens': m0001,
  '0002-one-time-tokens': m0002,
  '0003-mfa': m0003,
  '0004-account-roles': m0004,
  '0005-oidc': m0005,
}
