import type { Kysely } from 'kysely'

/**
 * The OpenID Connect provider's storage:
 * - `oidc_models`: every short-lived object oidc-provider persists (sessions, interactions,
 *   grants, codes, tokens, device codes, PAR requests), one JSON payload per row. The columns
 *   beside the payload are the ones it looks rows up by, plus `account_id` so that disabling or
 *   deleting an account can end its grants at once. Expired rows are swept on a timer.
 * - `oauth_clients`: clients registered by an admin. `client_secret` is envelope-encrypted
 *   because oidc-provider compares secrets itself (client_secret_basic/post need the plain value).
 * - `api_resources`: APIs (RFC 8707 resource indicators) tokens may be issued for.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and must not depend on the current DB type
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('oidc_models')
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('grant_id', 'text')
    .addColumn('user_code', 'text')
    .addColumn('uid', 'text')
    .addColumn('account_id', 'text')
    .addColumn('expires_at', 'bigint')
    .addColumn('consumed_at', 'bigint')
    .addPrimaryKeyConstraint('oidc_models_pk', ['model', 'id'])
    .execute()
  await db.schema.createIndex('oidc_models_grant_id').on('oidc_models').column('grant_id').execute()
  await db.schema
    .createIndex('oidc_models_user_code')
    .on('oidc_models')
    .columns(['model', 'user_code'])
    .execute()
  await db.schema.createIndex('oidc_models_uid').on('oidc_models').columns(['model', 'uid']).execute()
  await db.schema.createIndex('oidc_models_account_id').on('oidc_models').column('account_id').execute()
  await db.schema.createIndex('oidc_models_expires_at').on('oidc_models').column('expires_at').execute()

  await db.schema
    .createTable('oauth_clients')
    .addColumn('client_id', 'text', (c) => c.primaryKey())
    .addColumn('client_name', 'text', (c) => c.notNull())
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('client_secret', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute()

  await db.schema
    .createTable('api_resources')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('audience', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('access_token_ttl', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute()
}
