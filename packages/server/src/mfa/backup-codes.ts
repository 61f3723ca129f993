/**
 * Backup codes as a set: issued when an account's first factor is activated, replaced as a
 * whole, each consumed once with a conditional update. Shared by every kind of factor.
 */
import type { Kysely } from 'kysely'
import type { Clock } from '../core/clock.ts'
import type { DB } from '../core/db-schema.ts'
import { newId } from '../core/ids.ts'
import { generateBackupCodes, normalizeBackupCode } from './recovery-codes.ts'
import {
  consumeBackupCode,
  countActiveSecondFactors,
  countUnusedBackupCodes,
  replaceBackupCodes,
} from './store.ts'

export function createBackupCodes(deps: {
  db: Kysely<DB>
  clock: Clock
  hashCode: (code: string) => string
}) {
  const hash = (code: string) => deps.hashCode(normalizeBackupCode(code))

  async function replace(trx: Kysely<DB>, accountId: string): Promise<string[]> {
    const codes = generateBackupCodes()
    const now = deps.clock.now()
    await replaceBackupCodes(
      trx,
      accountId,
      codes.map((code) => ({
        id: newId(),
        account_id: accountId,
        code_hash: hash(code),
        created_at: now,
        used_at: null,
      })),
    )
    return codes
  }

  return {
    replace,

    /**
     * Activates a factor inside `trx` and, when it is the account's first, issues a set of
     * codes (returned once, never stored in the clear).
     */
    async activateWithCodes(
      trx: Kysely<DB>,
      accountId: string,
      activate: () => Promise<void>,
    ): Promise<string[] | undefined> {
      const first = (await countActiveSecondFactors(trx, accountId)) === 0
      await activate()
      return first ? replace(trx, accountId) : undefined
    },

    consume: (accountId: string, code: string) =>
      consumeBackupCode(deps.db, accountId, hash(code), deps.clock.now()),
    countUnused: (accountId: string) => countUnusedBackupCodes(deps.db, accountId),
  }
}

export type BackupCodes = ReturnType<typeof createBackupCodes>
