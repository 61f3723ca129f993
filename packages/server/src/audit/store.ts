import type { Insertable, Kysely } from 'kysely'
import type { AuditEventsTable, DB } from '../core/db-schema.ts'

export async function insertAuditEvent(db: Kysely<DB>, row: Insertable<AuditEventsTable>): Promise<void> {
  await db.insertInto('audit_events').values(row).execute()
}

export function listAuditEventsForAccount(db: Kysely<DB>, accountId: string, limit = 100) {
  return db
    .selectFrom('audit_events')
    .selectAll()
    .where('account_id', '=', accountId)
    .orderBy('occurred_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute()
}
