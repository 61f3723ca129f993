/**
 * The key ring's keys as the provider's key set. oidc-provider signs through
 * `ExternalSigningKey` objects (its `externalSigningSupport` feature), so the provider never holds
 * a private JWK of its own and signs on the calling thread as first-party tokens do.
 */
import type { KeyObject } from 'node:crypto'
import { ExternalSigningKey } from 'oidc-provider'
import type { SigningKey } from '../tokens/keys.ts'

/** The oidc-provider release this feature was checked against; a new one must be re-checked. */
export const EXTERNAL_SIGNING_ACK = 'experimental-01'

class RingKey extends ExternalSigningKey {
  readonly #key: SigningKey

  constructor(key: SigningKey) {
    super()
    this.#key = key
  }

  override get kid(): string {
    return this.#key.kid
  }

  override get alg(): string {
    return this.#key.alg
  }

  override keyObject(): KeyObject {
    return this.#key.publicKey
  }

  override sign(data: Uint8Array): Buffer {
    return this.#key.sign(data)
  }
}

export const providerKeys = (keys: SigningKey[]): ExternalSigningKey[] => keys.map((key) => new RingKey(key))
