/**
 * A software WebAuthn authenticator for tests: one ES256 (P-256) credential, "none" attestation,
 * and assertions signed over authenticatorData || SHA-256(clientDataJSON) (WebAuthn §6.3.3).
 * It plays the browser too (clientDataJSON), and every field an attacker controls can be bent:
 * origin, RP ID, challenge, user verification, the signature counter.
 *
 * The CBOR is hand-encoded: only unsigned/negative integers, byte and text strings and maps occur,
 * in the fixed COSE key and attestation object (RFC 8949 §3, deterministic key order §4.2.1).
 */
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto'

type Cbor = number | string | Uint8Array | Map<Cbor, Cbor>

function cborHead(major: number, length: number): Buffer {
  if (length < 24) return Buffer.from([(major << 5) | length])
  if (length < 0x100) return Buffer.from([(major << 5) | 24, length])
  if (length < 0x10000) {
    const head = Buffer.alloc(3)
    head[0] = (major << 5) | 25
    head.writeUInt16BE(length, 1)
    return head
  }
  const head = Buffer.alloc(5)
  head[0] = (major << 5) | 26
  head.writeUInt32BE(length, 1)
  return head
}

export function encodeCbor(value: Cbor): Buffer {
  if (typeof value === 'number') return value >= 0 ? cborHead(0, value) : cborHead(1, -1 - value)
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8')
    return Buffer.concat([cborHead(3, bytes.length), bytes])
  }
  if (value instanceof Uint8Array) return Buffer.concat([cborHead(2, value.length), value])
  const entries = [...value].map(([k, v]) => [encodeCbor(k), encodeCbor(v)] as const)
  entries.sort(([a], [b]) => Buffer.compare(a, b))
  return Buffer.concat([cborHead(5, entries.length), ...entries.flat()])
}

const FLAG_UP = 0x01
const FLAG_UV = 0x04
const FLAG_BE = 0x08
const FLAG_BS = 0x10
const FLAG_AT = 0x40

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest()
const b64url = (data: Uint8Array) => Buffer.from(data).toString('base64url')

export interface CeremonyOverrides {
  /** clientDataJSON.origin (default: the authenticator's origin). */
  origin?: string
  /** The RP ID whose hash goes into authenticatorData (default: the authenticator's). */
  rpId?: string
  /** The challenge to sign instead of the one in the options. */
  challenge?: string
  /** The UV flag (default true). */
  userVerified?: boolean
  /** The signature counter to report instead of the next one. */
  counter?: number
}

/** The parts of the server's options JSON this authenticator reads. */
interface CreationOptions {
  challenge: string
  rp: { id?: string }
  user: { id: string }
}
interface RequestOptions {
  challenge: string
  rpId?: string
}

export interface SoftwareAuthenticator {
  readonly credentialId: string
  /** The last counter value reported. */
  readonly counter: number
  /** navigator.credentials.create(), as @simplewebauthn/browser's startRegistration() returns it. */
  register(options: CreationOptions, overrides?: CeremonyOverrides): Record<string, unknown>
  /** navigator.credentials.get(), as startAuthentication() returns it. */
  authenticate(options: RequestOptions, overrides?: CeremonyOverrides): Record<string, unknown>
}

export function createSoftwareAuthenticator(
  setup: {
    origin?: string
    rpId?: string
    /** Backup eligible and backed up (a synced passkey): sets BE and BS. */
    synced?: boolean
    /** Never counts (signCount stays 0), like many synced passkey providers. */
    countless?: boolean
  } = {},
): SoftwareAuthenticator {
  const origin = setup.origin ?? 'http://localhost:3000'
  const defaultRpId = setup.rpId ?? 'localhost'
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const credentialId = randomBytes(16)
  let counter = 0
  let userHandle: string | undefined

  const coseKey = (key: KeyObject) => {
    const jwk = key.export({ format: 'jwk' })
    return encodeCbor(
      new Map<Cbor, Cbor>([
        [1, 2], // kty: EC2
        [3, -7], // alg: ES256
        [-1, 1], // crv: P-256
        [-2, Buffer.from(jwk.x!, 'base64url')],
        [-3, Buffer.from(jwk.y!, 'base64url')],
      ]),
    )
  }

  const nextCounter = (overrides: CeremonyOverrides) => {
    if (overrides.counter !== undefined) return overrides.counter
    if (!setup.countless) counter += 1
    return counter
  }

  const authenticatorData = (rpId: string, flags: number, signCount: number, attested?: Buffer) => {
    const head = Buffer.alloc(37)
    sha256(rpId).copy(head, 0)
    head[32] = flags | (setup.synced ? FLAG_BE | FLAG_BS : 0)
    head.writeUInt32BE(signCount, 33)
    return attested ? Buffer.concat([head, attested]) : head
  }

  const clientData = (type: string, challenge: string, overrides: CeremonyOverrides) =>
    Buffer.from(JSON.stringify({ type, challenge, origin: overrides.origin ?? origin, crossOrigin: false }))

  return {
    credentialId: b64url(credentialId),
    get counter() {
      return counter
    },

    register(options, overrides = {}) {
      userHandle = options.user.id
      const idLength = Buffer.alloc(2)
      idLength.writeUInt16BE(credentialId.length)
      const attested = Buffer.concat([
        Buffer.alloc(16) /* AAGUID: none */,
        idLength,
        credentialId,
        coseKey(publicKey),
      ])
      const uv = overrides.userVerified ?? true
      const authData = authenticatorData(
        overrides.rpId ?? options.rp.id ?? defaultRpId,
        FLAG_UP | (uv ? FLAG_UV : 0) | FLAG_AT,
        nextCounter(overrides),
        attested,
      )
      const attestationObject = encodeCbor(
        new Map<Cbor, Cbor>([
          ['fmt', 'none'],
          ['attStmt', new Map()],
          ['authData', authData],
        ]),
      )
      const clientDataJSON = clientData(
        'webauthn.create',
        overrides.challenge ?? options.challenge,
        overrides,
      )
      return {
        id: b64url(credentialId),
        rawId: b64url(credentialId),
        type: 'public-key',
        response: {
          clientDataJSON: b64url(clientDataJSON),
          attestationObject: b64url(attestationObject),
          transports: ['internal'],
        },
        clientExtensionResults: {},
        authenticatorAttachment: 'platform',
      }
    },

    authenticate(options, overrides = {}) {
      const uv = overrides.userVerified ?? true
      const authData = authenticatorData(
        overrides.rpId ?? options.rpId ?? defaultRpId,
        FLAG_UP | (uv ? FLAG_UV : 0),
        nextCounter(overrides),
      )
      const clientDataJSON = clientData('webauthn.get', overrides.challenge ?? options.challenge, overrides)
      // DER-encoded ECDSA (node's default for EC keys), as authenticators send it.
      const signature = sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), privateKey)
      return {
        id: b64url(credentialId),
        rawId: b64url(credentialId),
        type: 'public-key',
        response: {
          clientDataJSON: b64url(clientDataJSON),
          authenticatorData: b64url(authData),
          signature: b64url(signature),
          ...(userHandle ? { userHandle } : {}),
        },
        clientExtensionResults: {},
        authenticatorAttachment: 'platform',
      }
    },
  }
}
