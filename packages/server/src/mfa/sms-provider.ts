/**
 * Sending text messages. One implementation: Twilio's Messages API
 * (POST /2010-04-01/Accounts/{AccountSid}/Messages.json, form-encoded, HTTP Basic auth).
 *
 * Failures become `SmsDeliveryError`: its message (Twilio's code and text) is for the logs only;
 * callers turn it into a generic problem so provider internals never reach a client.
 */

export interface SmsProvider {
  /** Resolves once the provider accepted the message; throws `SmsDeliveryError` otherwise. */
  send(to: string, body: string): Promise<void>
}

export class SmsDeliveryError extends Error {
  /** HTTP status from the provider (0: no answer, e.g. a timeout or a refused connection). */
  readonly status: number
  /** The provider's own error code, when it sent one (Twilio: e.g. 21211 invalid 'To'). */
  readonly providerCode: number | undefined

  constructor(message: string, status: number, providerCode?: number, options?: ErrorOptions) {
    super(message, options)
    this.name = 'SmsDeliveryError'
    this.status = status
    this.providerCode = providerCode
  }
}

export interface TwilioOptions {
  accountSid: string
  authToken: string
  /** An E.164 sender number, or a Messaging Service SID (`MG` + 32 hex). */
  from: string
  /** Default https://api.twilio.com. */
  baseUrl?: string
  timeoutMs?: number
}

const DEFAULT_BASE_URL = 'https://api.twilio.com'
const DEFAULT_TIMEOUT_MS = 10_000
const MESSAGING_SERVICE_SID = /^MG[0-9a-f]{32}$/i

/** Twilio's error body: https://www.twilio.com/docs/usage/twilios-response#response-formats-exceptions */
interface TwilioErrorBody {
  code?: number
  message?: string
  status?: number
}

export function createTwilioSmsProvider(options: TwilioOptions): SmsProvider {
  const base = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, '')
  const url = `${base}/2010-04-01/Accounts/${encodeURIComponent(options.accountSid)}/Messages.json`
  const authorization = `Basic ${Buffer.from(`${options.accountSid}:${options.authToken}`).toString('base64')}`
  const sender: Record<string, string> = MESSAGING_SERVICE_SID.test(options.from)
    ? { MessagingServiceSid: options.from }
    : { From: options.from }
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS

  return {
    async send(to, body) {
      let res: Response
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: {
            authorization,
            'content-type': 'application/x-www-form-urlencoded',
            accept: 'application/json',
          },
          body: new URLSearchParams({ To: to, ...sender, Body: body }),
          signal: AbortSignal.timeout(timeoutMs),
          redirect: 'error',
        })
      } catch (err) {
        const timedOut = (err as Error).name === 'TimeoutError'
        throw new SmsDeliveryError(
          timedOut ? `twilio: no answer within ${timeoutMs} ms` : 'twilio: request failed',
          0,
          undefined,
          { cause: err },
        )
      }
      const text = await res.text().catch(() => '')
      if (res.status === 201) return
      let error: TwilioErrorBody = {}
      try {
        error = JSON.parse(text) as TwilioErrorBody
      } catch {
        // not JSON (a proxy's error page): the status alone must do
      }
      throw new SmsDeliveryError(
        `twilio: HTTP ${res.status}${error.code ? ` code ${error.code}` : ''}: ${error.message ?? 'no error message'}`,
        res.status,
        error.code,
      )
    },
  }
}
