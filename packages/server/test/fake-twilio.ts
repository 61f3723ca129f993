/**
 * A local stand-in for the part of Twilio's Messages API that Tessera uses
 * (POST /2010-04-01/Accounts/{AccountSid}/Messages.json), on 127.0.0.1 and a random port.
 * Like the real one it checks HTTP Basic auth against the account in the path, requires `To`,
 * `From` or `MessagingServiceSid`, and `Body`, answers `201` with a message resource, and
 * reports errors as `{code, message, more_info, status}`.
 */
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export const FAKE_ACCOUNT_SID = `AC${'a1'.repeat(16)}`
export const FAKE_AUTH_TOKEN = 'fake-twilio-auth-token'
export const FAKE_FROM = '+15005550006'

export interface SentMessage {
  sid: string
  to: string
  from: string
  body: string
}

export interface FakeTwilio {
  baseUrl: string
  messages: SentMessage[]
  /** Config options that point Tessera at this server. */
  config: { twilioAccountSid: string; twilioAuthToken: string; twilioFrom: string; twilioBaseUrl: string }
  /** The last message sent to `to`. */
  lastTo(to: string): SentMessage | undefined
  /** The six-digit code in the last message to `to`. */
  codeFor(to: string): string
  /** Answer the next `times` requests with this status and a Twilio error body. */
  failNext(status: number, times?: number): void
  close(): Promise<void>
}

function twilioError(res: ServerResponse, status: number, code: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status }))
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

export async function startFakeTwilio(): Promise<FakeTwilio> {
  const messages: SentMessage[] = []
  let failures: { status: number; left: number } | undefined
  const expectedAuth = `Basic ${Buffer.from(`${FAKE_ACCOUNT_SID}:${FAKE_AUTH_TOKEN}`).toString('base64')}`

  const server = createServer(async (req, res) => {
    const path = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(req.url ?? '')
    if (req.method !== 'POST' || !path)
      return twilioError(res, 404, 20404, 'The requested resource was not found')
    if (req.headers.authorization !== expectedAuth || decodeURIComponent(path[1]!) !== FAKE_ACCOUNT_SID) {
      return twilioError(res, 401, 20003, 'Authenticate')
    }
    if (!req.headers['content-type']?.startsWith('application/x-www-form-urlencoded')) {
      return twilioError(res, 400, 20001, 'Unsupported content type')
    }
    const form = new URLSearchParams(await readBody(req))
    if (failures && failures.left > 0) {
      failures.left -= 1
      return failures.status === 429
        ? twilioError(res, 429, 20429, 'Too Many Requests')
        : twilioError(res, failures.status, 20500, 'Internal Server Error (account AC… secret detail)')
    }
    const to = form.get('To')
    const from = form.get('From') ?? form.get('MessagingServiceSid')
    const body = form.get('Body')
    if (!to) return twilioError(res, 400, 21604, "A 'To' phone number is required.")
    if (!from) return twilioError(res, 400, 21603, "A 'From' phone number is required.")
    if (!body) return twilioError(res, 400, 21602, 'Message body is required.')
    if (!/^\+[1-9]\d{6,14}$/.test(to)) {
      return twilioError(res, 400, 21211, `The 'To' number ${to} is not a valid phone number.`)
    }
    const sid = `SM${randomBytes(16).toString('hex')}`
    messages.push({ sid, to, from, body })
    res.writeHead(201, { 'content-type': 'application/json' })
    res.end(
      JSON.stringify({
        sid,
        account_sid: FAKE_ACCOUNT_SID,
        to,
        from,
        body,
        status: 'queued',
        num_segments: '1',
        direction: 'outbound-api',
        date_created: new Date().toUTCString(),
        uri: `/2010-04-01/Accounts/${FAKE_ACCOUNT_SID}/Messages/${sid}.json`,
      }),
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const baseUrl = `http://127.0.0.1:${port}`

  const lastTo = (to: string) => messages.findLast((m) => m.to === to)
  return {
    baseUrl,
    messages,
    config: {
      twilioAccountSid: FAKE_ACCOUNT_SID,
      twilioAuthToken: FAKE_AUTH_TOKEN,
      twilioFrom: FAKE_FROM,
      twilioBaseUrl: baseUrl,
    },
    lastTo,
    codeFor(to) {
      const code = /\b(\d{6})\b/.exec(lastTo(to)?.body ?? '')?.[1]
      if (!code) throw new Error(`no code was texted to ${to}`)
      return code
    },
    failNext(status, times = 1) {
      failures = { status, left: times }
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections()
        server.close((err) => (err ? reject(err) : resolve()))
      }),
  }
}
