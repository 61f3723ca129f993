import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import {
  FAKE_ACCOUNT_SID,
  FAKE_AUTH_TOKEN,
  type FakeTwilio,
  startFakeTwilio,
} from '../../test/fake-twilio.ts'
import { TEST_MASTER_KEY } from '../../test/harness.ts'
import { loadConfig, redactConfig } from '../core/config.ts'
import { createTwilioSmsProvider, SmsDeliveryError } from './sms-provider.ts'

describe('SMS configuration', () => {
  test('read from TESSERA_TWILIO_*; the auth token is redacted; a partial setup is a warning', () => {
    const env = {
      TESSERA_MASTER_KEY: TEST_MASTER_KEY,
      TESSERA_TWILIO_ACCOUNT_SID: FAKE_ACCOUNT_SID,
      TESSERA_TWILIO_AUTH_TOKEN: FAKE_AUTH_TOKEN,
      TESSERA_TWILIO_FROM: '+15005550006',
    }
    const { config, warnings } = loadConfig(env)
    assert.equal(config.twilioAccountSid, FAKE_ACCOUNT_SID)
    assert.equal(config.twilioBaseUrl, 'https://api.twilio.com')
    assert.ok(!warnings.some((w) => w.includes('SMS')))
    assert.ok(!JSON.stringify(redactConfig(config)).includes(FAKE_AUTH_TOKEN))

    const partial = loadConfig({
      ...env,
      TESSERA_TWILIO_FROM: '',
      TESSERA_TWILIO_BASE_URL: 'http://127.0.0.1:9',
    })
    assert.equal(partial.config.twilioBaseUrl, 'http://127.0.0.1:9')
    assert.ok(partial.warnings.some((w) => w.startsWith('SMS codes are off')))
  })
})

describe('Twilio client', () => {
  let fake: FakeTwilio
  before(async () => {
    fake = await startFakeTwilio()
  })
  after(() => fake.close())

  test('sends To, From and Body with Basic auth, or a Messaging Service SID instead of From', async () => {
    const base = { accountSid: FAKE_ACCOUNT_SID, authToken: FAKE_AUTH_TOKEN, baseUrl: `${fake.baseUrl}/` }
    await createTwilioSmsProvider({ ...base, from: '+15005550006' }).send('+15551230001', 'hello')
    assert.deepEqual(
      { to: fake.messages.at(-1)!.to, from: fake.messages.at(-1)!.from, body: fake.messages.at(-1)!.body },
      { to: '+15551230001', from: '+15005550006', body: 'hello' },
    )
    const service = `MG${'0f'.repeat(16)}`
    await createTwilioSmsProvider({ ...base, from: service }).send('+15551230002', 'hi')
    assert.equal(fake.messages.at(-1)!.from, service)
  })

  test("Twilio's errors become SmsDeliveryError with its status and code", async () => {
    const wrongToken = createTwilioSmsProvider({
      accountSid: FAKE_ACCOUNT_SID,
      authToken: 'wrong',
      from: '+15005550006',
      baseUrl: fake.baseUrl,
    })
    await assert.rejects(wrongToken.send('+15551230003', 'x'), (err: unknown) => {
      assert.ok(err instanceof SmsDeliveryError)
      assert.equal(err.status, 401)
      assert.equal(err.providerCode, 20003)
      assert.match(err.message, /Authenticate/)
      return true
    })
    const provider = createTwilioSmsProvider({
      accountSid: FAKE_ACCOUNT_SID,
      authToken: FAKE_AUTH_TOKEN,
      from: '+15005550006',
      baseUrl: fake.baseUrl,
    })
    await assert.rejects(provider.send('+15551230004', ''), {
      name: 'SmsDeliveryError',
      status: 400,
      providerCode: 21602,
    })
  })

  test('a provider that does not answer times out', async () => {
    const silent = createServer(() => {}) // accepts, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    try {
      const provider = createTwilioSmsProvider({
        accountSid: FAKE_ACCOUNT_SID,
        authToken: FAKE_AUTH_TOKEN,
        from: '+15005550006',
        baseUrl: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
        timeoutMs: 100,
      })
      await assert.rejects(provider.send('+15551230005', 'x'), { name: 'SmsDeliveryError', status: 0 })
    } finally {
      silent.closeAllConnections()
      await new Promise((resolve) => silent.close(resolve))
    }
  })
})
