/**
 * Signing keys: generated on first start, stored envelope-encrypted, published as a JWKS.
 *
 * Rotation (`tessera keys rotate`) inserts a new active key and retires the old ones, which
 * stay published until every token they signed has expired: the access-token lifetime plus the
 * interval at which other running instances re-read keys (they keep signing with the old key
 * until then).
 */
import { createPrivateKey, createPublicKey, type KeyObject, sign } from 'node:crypto'
import { type CryptoKey, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose'
import type { Kysely } from 'kysely'
import type { Clock } from '../core/clock.ts'
import type { SecretBox } from '../core/crypto.ts'
import type { DB } from '../core/db-schema.ts'
import { newId } from '../core/ids.ts'
import {
  deleteExpiredKeys,
  insertSigningKey,
  listAllKeys,
  listPublishedKeys,
  retireKeysExcept,
  type SigningKeyRow,
} from './store.ts'

export type SigningAlg = 'EdDSA' | 'ES256' | 'RS256'

export interface PublicKey {
  kid: string
  alg: SigningAlg
  key: CryptoKey
}

/**
 * A key that signs on the calling thread. node:crypto's one-shot `sign` costs half of what
 * WebCrypto's job round trip costs per token (bench/), and every token endpoint signs.
 */
export interface SigningKey {
  kid: string
  alg: SigningAlg
  publicKey: KeyObject
  /** The JWS signature of `data` (raw r‖s for ES256, as JWS wants it). */
  sign(data: Uint8Array): Buffer
}

export interface KeyRingOptions {
  db: Kysely<DB>
  box: SecretBox
  clock: Clock
  alg: SigningAlg
  accessTokenTtl: number
  keyReloadInterval: number
}

const privateContext = (kid: string) => `signing_key:${kid}`

function signingKey(row: SigningKeyRow, box: SecretBox): SigningKey {
  const privateKey = createPrivateKey({
    key: JSON.parse(box.decrypt(row.private_jwk, privateContext(row.kid))),
    format: 'jwk',
  })
  const alg = row.alg as SigningAlg
  const signData =
    alg === 'EdDSA'
      ? (data: Uint8Array) => sign(null, data, privateKey)
      : (data: Uint8Array) => sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' })
  return { kid: row.kid, alg, publicKey: createPublicKey(privateKey), sign: signData }
}

/** A compact JWS (RFC 7515) of `payload`, signed with `key`; `header` gets the key's `alg` and `kid`. */
export function signJws(key: SigningKey, header: Record<string, unknown>, payload: object): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const input = `${encode({ ...header, alg: key.alg, kid: key.kid })}.${encode(payload)}`
  return `${input}.${key.sign(Buffer.from(input)).toString('base64url')}`
}

async function generateKeyRow(options: KeyRingOptions): Promise<SigningKeyRow> {
  const kid = newId()
  const { publicKey, privateKey } = await generateKeyPair(options.alg, { extractable: true })
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: options.alg, use: 'sig' }
  const privateJwk = await exportJWK(privateKey)
  return {
    kid,
    alg: options.alg,
    public_jwk: JSON.stringify(publicJwk),
    private_jwk: options.box.encrypt(JSON.stringify(privateJwk), privateContext(kid)),
    created_at: options.clock.now(),
    retired_at: null,
    expires_at: null,
  }
}

/** Adds a new signing key and retires the others; returns the new kid. */
export async function rotateSigningKeys(options: KeyRingOptions): Promise<string> {
  const row = await generateKeyRow(options)
  const now = options.clock.now()
  const publishUntil = now + (options.accessTokenTtl + options.keyReloadInterval) * 1000
  await options.db.transaction().execute(async (trx) => {
    await insertSigningKey(trx, row)
    await retireKeysExcept(trx, row.kid, now, publishUntil)
    await deleteExpiredKeys(trx, now)
  })
  return row.kid
}

export interface KeySummary {
  kid: string
  alg: string
  createdAt: string
  status: 'active' | 'retired' | 'expired'
  publishedUntil: string | null
}

export async function listSigningKeys(db: Kysely<DB>, now: number): Promise<KeySummary[]> {
  const rows = await listAllKeys(db)
  return rows.map((r) => ({
    kid: r.kid,
    alg: r.alg,
    createdAt: new Date(r.created_at).toISOString(),
    status:
      r.retired_at === null ? 'active' : r.expires_at !== null && r.expires_at <= now ? 'expired' : 'retired',
    publishedUntil: r.expires_at === null ? null : new Date(r.expires_at).toISOString(),
  }))
}

export function createKeyRing(options: KeyRingOptions) {
  let active: SigningKey | undefined
  let signingKeys: SigningKey[] | undefined
  let published = new Map<string, PublicKey>()
  let jwks: { keys: JWK[] } = { keys: [] }
  let rows: SigningKeyRow[] = []
  let lastLoad = 0
  let timer: NodeJS.Timeout | undefined
  const changeListeners: Array<() => void> = []

  async function load(): Promise<void> {
    const previousKids = rows.map((r) => r.kid).join(' ')
    rows = await listPublishedKeys(options.db, options.clock.now())
    const next = new Map<string, PublicKey>()
    for (const row of rows) {
      const key = (await importJWK(JSON.parse(row.public_jwk), row.alg)) as CryptoKey
      next.set(row.kid, { kid: row.kid, alg: row.alg as SigningAlg, key })
    }
    // The newest unretired key signs (two instances racing at first start may both create one).
    const activeRow = rows.find((r) => r.retired_at === null)
    if (activeRow && activeRow.kid !== active?.kid) {
      active = signingKey(activeRow, options.box)
    }
    const kids = rows.map((r) => r.kid).join(' ')
    if (kids !== previousKids) signingKeys = undefined
    published = next
    jwks = { keys: rows.map((r) => JSON.parse(r.public_jwk) as JWK) }
    lastLoad = options.clock.now()
    if (previousKids !== '' && previousKids !== kids) {
      for (const listener of changeListeners) listener()
    }
  }

  return {
    /** Loads keys, creating the first one on a fresh database, and starts periodic reloads. */
    async start(): Promise<void> {
      await load()
      if (!active) {
        await rotateSigningKeys(options)
        await load()
      }
      timer = setInterval(() => void load().catch(() => {}), options.keyReloadInterval * 1000)
      timer.unref()
    },
    stop(): void {
      clearInterval(timer)
    },
    reload: load,
    activeKey(): SigningKey {
      if (!active) throw new Error('key ring not started')
      return active
    },
    /**
     * The published key for `kid`. An unknown kid triggers at most one reload per second, so a
     * key rotated in by another instance is picked up without letting junk kids hammer the DB.
     */
    async publicKey(kid: string): Promise<PublicKey | undefined> {
      const known = published.get(kid)
      if (known || options.clock.now() - lastLoad < 1000) return known
      await load()
      return published.get(kid)
    },
    jwks: () => jwks,
    /**
     * Every published key, the active one first: the OIDC provider's key set, so that its tokens
     * and ours are signed by the same keys and rotate together.
     */
    signingKeys(): SigningKey[] {
      signingKeys ??= [...rows]
        .sort((a, b) => Number(a.retired_at !== null) - Number(b.retired_at !== null))
        .map((row) => (row.kid === active?.kid ? active : signingKey(row, options.box)))
      return signingKeys
    },
    /** Called after a reload that found a different set of keys (a rotation here or elsewhere). */
    onChange(listener: () => void): void {
      changeListeners.push(listener)
    },
  }
}

export type KeyRing = ReturnType<typeof createKeyRing>
