/**
 * Small crypto helpers and envelope encryption for secrets at rest.
 *
 * Envelope: each secret gets its own random data key (AES-256-GCM); the data key is wrapped
 * with the master key (AES-256-GCM). The stored record names the master key by a fingerprint,
 * so a wrong or rotated master key fails loudly instead of decrypting garbage.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto'

/** 32 random bytes (256 bits), base64url. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url')
}

export function sha256(input: string | Buffer): string {
  return createHash('sha256').update(input).digest('base64url')
}

export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a)
  const right = Buffer.from(b)
  return left.length === right.length && timingSafeEqual(left, right)
}

interface Envelope {
  v: 1
  /** Fingerprint of the master key that wrapped the data key. */
  mk: string
  /** Wrapped data key: iv.ciphertext.tag */
  dk: string
  /** Payload: iv.ciphertext.tag */
  ct: string
}

const ALGORITHM = 'aes-256-gcm'
const IV_BYTES = 12

function seal(key: Buffer, plaintext: Buffer, aad: string): string {
  const iv = randomBytes(IV_BYTES)
  const cipher = createCipheriv(ALGORITHM, key, iv).setAAD(Buffer.from(aad))
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()])
  return [iv, ct, cipher.getAuthTag()].map((b) => b.toString('base64url')).join('.')
}

function open(key: Buffer, sealed: string, aad: string): Buffer {
  const [iv, ct, tag] = sealed.split('.').map((p) => Buffer.from(p, 'base64url'))
  if (!iv || !ct || !tag) throw new Error('malformed sealed value')
  const decipher = createDecipheriv(ALGORITHM, key, iv).setAAD(Buffer.from(aad)).setAuthTag(tag)
  return Buffer.concat([decipher.update(ct), decipher.final()])
}

export interface SecretBox {
  /** Encrypts `plaintext`; `context` (e.g. `signing_key:<kid>`) binds the ciphertext to its row. */
  encrypt(plaintext: string, context: string): string
  decrypt(sealed: string, context: string): string
}

export function createSecretBox(masterKeyBase64url: string): SecretBox {
  const masterKey = Buffer.from(masterKeyBase64url, 'base64url')
  const fingerprint = sha256(masterKey).slice(0, 16)
  return {
    encrypt(plaintext, context) {
      const dataKey = randomBytes(32)
      const envelope: Envelope = {
        v: 1,
        mk: fingerprint,
        dk: seal(masterKey, dataKey, `dk:${context}`),
        ct: seal(dataKey, Buffer.from(plaintext, 'utf8'), context),
      }
      return JSON.stringify(envelope)
    },
    decrypt(sealed, context) {
      const envelope = JSON.parse(sealed) as Envelope
      if (envelope.mk !== fingerprint) {
        throw new Error('secret was encrypted with a different master key (check TESSERA_MASTER_KEY)')
      }
      const dataKey = open(masterKey, envelope.dk, `dk:${context}`)
      return open(dataKey, envelope.ct, context).toString('utf8')
    },
  }
}

/**
 * HMAC-SHA256 under a key derived from the master key (HKDF, per purpose). For short one-time
 * codes (backup codes, SMS codes): a leaked database alone is not enough to brute-force them.
 */
export function createCodeHasher(masterKeyBase64url: string, purpose: string): (code: string) => string {
  const key = Buffer.from(
    hkdfSync('sha256', Buffer.from(masterKeyBase64url, 'base64url'), '', `tessera:${purpose}`, 32),
  )
  return (code) => createHmac('sha256', key).update(code).digest('base64url')
}
