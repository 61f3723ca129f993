/**
 * A real oidc-provider configured with the grants Tessera offers, for tests that check that
 * client metadata Tessera stores is what the provider accepts (and that its refusals surface).
 */
import { exportJWK, generateKeyPair } from 'jose'
import Provider, { type Adapter, type ClientMetadata } from 'oidc-provider'

export const PROVIDER_SCOPES = ['openid', 'offline_access', 'profile', 'email']

/** Validation stores nothing; an adapter is given only so the provider does not warn about its default. */
class NoStorage implements Adapter {
  async upsert() {}
  async find() {
    return undefined
  }
  async findByUserCode() {
    return undefined
  }
  async findByUid() {
    return undefined
  }
  async consume() {}
  async destroy() {}
  async revokeByGrantId() {}
}

export async function createValidatingProvider(): Promise<
  (metadata: Record<string, unknown>) => Promise<void>
> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true })
  const provider = new Provider('http://localhost:3000', {
    adapter: NoStorage,
    jwks: { keys: [{ ...(await exportJWK(privateKey)), alg: 'ES256', use: 'sig' }] },
    clientDefaults: { id_token_signed_response_alg: 'ES256' },
    scopes: PROVIDER_SCOPES,
    features: {
      clientCredentials: { enabled: true },
      deviceFlow: { enabled: true },
      devInteractions: { enabled: false },
    },
  })
  return (metadata) => provider.Client.validate(metadata as unknown as ClientMetadata)
}
