import type { Insertable, Kysely, QueryCreator, Selectable } from 'kysely'
import type { Database } from '../core/db.ts'
import type { DB, RefreshTokensTable, SessionsTable } from '../core/db-schema.ts'

export type SessionRow = Selectable<SessionsTable>
export type RefreshTokenRow = Selectable<RefreshTokensTable>

export async function insertSession(db: Kysely<DB>, row: Insertable<SessionsTable>): Promise<void> {
  await db.insertInto('sessions').values(row).execute()
}

export function findSession(db: Kysely<DB>, id: string): Promise<SessionRow | undefined> {
  return db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst()
}

export function findLiveSession(db: Kysely<DB>, id: string, now: number) {
  return db
    .selectFrom('sessions')
    .select(['id', 'account_id'])
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst()
}

/**
 * Live sessions with the time each was last used: its last sign-in or re-authentication
 * (`last_seen_at`) or its newest refresh token, whichever is later. Refreshes do not write
 * the session row: the refresh token they insert already records the time.
 */
export async function listLiveSessions(db: Kysely<DB>, accountId: string, now: number) {
  const rows = await db
    .selectFrom('sessions')
    .selectAll()
    .select((eb) =>
      eb
        .selectFrom('refresh_tokens')
        .select((sub) => sub.fn.max('refresh_tokens.created_at').as('t'))
        .whereRef('refresh_tokens.session_id', '=', 'sessions.id')
        .as('last_refreshed_at'),
    )
    .where('account_id', '=', accountId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .execute()
  return rows
    .map(({ last_refreshed_at, ...session }) => ({
      ...session,
      last_seen_at: Math.max(session.last_seen_at, Number(last_refreshed_at ?? 0)),
    }))
    .sort((a, b) => b.last_seen_at - a.last_seen_at)
}

/** Start of the account's newest session (each sign-in starts one); null when there is none. */
export async function findLastSignIn(db: Kysely<DB>, accountId: string): Promise<number | null> {
  const row = await db
    .selectFrom('sessions')
    .select('created_at')
    .where('account_id', '=', accountId)
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirst()
  return row?.created_at ?? null
}

export async function markSessionAuthenticated(db: Kysely<DB>, id: string, now: number): Promise<void> {
  await db
    .updateTable('sessions')
    .set({ authenticated_at: now, last_seen_at: now })
    .where('id', '=', id)
    .execute()
}

/** Revokes the given live sessions of one account; returns the ids actually revoked. */
export async function revokeSessions(
  db: Kysely<DB>,
  accountId: string,
  filter: { only?: string; except?: string },
  now: number,
  reason: string,
): Promise<string[]> {
  let query = db
    .updateTable('sessions')
    .set({ revoked_at: now, revoked_reason: reason })
    .where('account_id', '=', accountId)
    .where('revoked_at', 'is', null)
  if (filter.only) query = query.where('id', '=', filter.only)
  if (filter.except) query = query.where('id', '!=', filter.except)
  const rows = await query.returning('id').execute()
  return rows.map((r) => r.id)
}

export async function insertRefreshToken(db: Kysely<DB>, row: Insertable<RefreshTokensTable>): Promise<void> {
  await db.insertInto('refresh_tokens').values(row).execute()
}

export function findRefreshToken(db: Kysely<DB>, id: string): Promise<RefreshTokenRow | undefined> {
  return db.selectFrom('refresh_tokens').selectAll().where('id', '=', id).executeTakeFirst()
}

/** A refresh token and its session in one round trip (the refresh hot path). */
export async function findRefreshTokenWithSession(
  db: Kysely<DB>,
  id: string,
): Promise<{ token: RefreshTokenRow; session: SessionRow } | undefined> {
  const row = await db
    .selectFrom('refresh_tokens as t')
    .innerJoin('sessions as s', 's.id', 't.session_id')
    .select([
      't.id as t_id',
      't.secret_hash as t_secret_hash',
      't.created_at as t_created_at',
      't.expires_at as t_expires_at',
      't.used_at as t_used_at',
    ])
    .selectAll('s')
    .where('t.id', '=', id)
    .executeTakeFirst()
  if (!row) return undefined
  const { t_id, t_secret_hash, t_created_at, t_expires_at, t_used_at, ...session } = row
  return {
    token: {
      id: t_id,
      session_id: session.id,
      secret_hash: t_secret_hash,
      created_at: t_created_at,
      expires_at: t_expires_at,
      used_at: t_used_at,
    },
    session,
  }
}

/**
 * The atomic step of rotation (RFC 9700 §4.14.2): marks `usedId` used and stores `successor`, or
 * does neither when `usedId` was used already, so of two concurrent uses exactly one wins. True
 * when this call rotated.
 *
 * On PostgreSQL it is one statement (the update in a WITH, feeding the insert): a transaction
 * would take four round trips to the database. SQLite runs in the process and cannot put an
 * update in a WITH, so there it is a transaction.
 */
export async function rotateRefreshToken(
  database: Pick<Database, 'db' | 'dialect'>,
  usedId: string,
  successor: Insertable<RefreshTokensTable>,
): Promise<boolean> {
  const markUsed = (db: QueryCreator<DB>) =>
    db
      .updateTable('refresh_tokens')
      .set({ used_at: successor.created_at })
      .where('id', '=', usedId)
      .where('used_at', 'is', null)
  if (database.dialect === 'postgres') {
    const result = await database.db
      .with('used', (db) => markUsed(db).returning('id'))
      .insertInto('refresh_tokens')
      .columns(['id', 'session_id', 'secret_hash', 'created_at', 'expires_at'])
      .expression((eb) =>
        eb
          .selectFrom('used')
          .select([
            eb.val(successor.id).as('id'),
            eb.val(successor.session_id).as('session_id'),
            eb.val(successor.secret_hash).as('secret_hash'),
            eb.val(successor.created_at).as('created_at'),
            eb.val(successor.expires_at).as('expires_at'),
          ]),
      )
      .executeTakeFirst()
    return Number(result.numInsertedOrUpdatedRows) === 1
  }
  return database.db.transaction().execute(async (trx) => {
    const marked = await markUsed(trx).executeTakeFirst()
    if (Number(marked.numUpdatedRows) !== 1) return false
    await insertRefreshToken(trx, successor)
    return true
  })
}
