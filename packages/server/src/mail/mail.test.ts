import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, statSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { SMTPServer } from 'smtp-server'
import { register } from '../../test/factories.ts'
import { buildTestApp, type TestApp } from '../../test/harness.ts'
import { linkIn, parseMail, readOutbox, tokenIn } from '../../test/mail.ts'
import { loadConfig, redactConfig } from '../core/config.ts'
import { createMailer, type MailLogger } from '../core/mailer.ts'
import { createNotifier } from './service.ts'
import { escapeHtml, mfaFactorAddedTemplate } from './templates.ts'

const PUBLIC_URL = 'http://localhost:3000'
const MAIL_FROM = 'Tessera <no-reply@localhost>'

interface LogEntry {
  level: 'info' | 'warn' | 'error'
  msg: string
  obj: Record<string, unknown>
}

function captureLog(): { entries: LogEntry[]; logger: MailLogger } {
  const entries: LogEntry[] = []
  const at =
    (level: LogEntry['level']) =>
    (obj: object, msg: string): void => {
      entries.push({ level, msg, obj: obj as Record<string, unknown> })
    }
  return { entries, logger: { info: at('info'), warn: at('warn'), error: at('error') } }
}

interface Received {
  from: string
  to: string[]
  raw: string
}

/** A real SMTP server on a random local port: no AUTH, no STARTTLS, keeps what it receives. */
async function startSmtpServer(): Promise<{ port: number; received: Received[]; stop(): Promise<void> }> {
  const received: Received[] = []
  const server = new SMTPServer({
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (chunk: Buffer) => chunks.push(chunk))
      stream.on('end', () => {
        const envelope = session.envelope
        received.push({
          from: envelope.mailFrom ? envelope.mailFrom.address : '',
          to: envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        })
        callback()
      })
    },
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.server.address() as AddressInfo
  return { port, received, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}

describe('mail over SMTP', () => {
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>
  let t: TestApp
  before(async () => {
    smtp = await startSmtpServer()
    t = await buildTestApp({ config: { smtpUrl: `smtp://127.0.0.1:${smtp.port}` } })
  })
  after(async () => {
    await t.close()
    await smtp.stop()
  })

  test('register sends a verification mail; its link verifies the address', async () => {
    const { email, user } = await register(t.app)
    await t.mailer.idle()
    const delivered = smtp.received.filter((m) => m.to.includes(email))
    assert.equal(delivered.length, 1)
    assert.equal(delivered[0]!.from, 'no-reply@localhost')
    const mail = await parseMail(delivered[0]!.raw)
    assert.match(mail.subject, /Confirm your email address/)
    assert.match(mail.headers.get('from')!, /no-reply@localhost/)
    assert.ok(mail.html.length > 0 && mail.text.length > 0, 'both a text and an HTML part')

    const link = linkIn(mail, '/verify-email')
    assert.equal(link.origin + link.pathname, `${PUBLIC_URL}/verify-email`)
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/email/verify',
      payload: { token: link.searchParams.get('token') },
    })
    assert.equal(res.statusCode, 200, res.body)
    assert.equal(res.json().id, user.id)
    assert.equal(res.json().emailVerified, true)
    assert.equal((await readOutbox(t.dataDir)).length, 0, 'nothing goes to the outbox when SMTP is set')
  })
})

describe('mail to the outbox (the development default)', () => {
  let t: TestApp
  const log = captureLog()
  before(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tessera-mail-'))
    t = await buildTestApp({
      dataDir,
      mailer: createMailer({ dataDir, mailFrom: MAIL_FROM, smtpUrl: undefined }, log.logger),
    })
  })
  after(() => t.close())

  test('each message is one .eml file with a text and an HTML part, and its links are logged', async () => {
    const { email } = await register(t.app)
    await t.mailer.idle()
    const dir = join(t.dataDir, 'outbox')
    const files = readdirSync(dir).filter((f) => f.endsWith('.eml'))
    assert.equal(files.length, 1)
    assert.equal(statSync(join(dir, files[0]!)).mode & 0o777, 0o600, 'live links: owner-only file')

    const [mail] = await readOutbox(t.dataDir)
    assert.ok(mail)
    assert.match(mail.headers.get('content-type')!, /^multipart\/alternative/)
    assert.match(mail.raw, /Content-Type: text\/plain/)
    assert.match(mail.raw, /Content-Type: text\/html/)
    assert.match(mail.headers.get('to')!, new RegExp(email.replace(/\./g, '\\.')))
    assert.equal(mail.headers.get('auto-submitted'), 'auto-generated')
    const token = tokenIn(mail, '/verify-email')
    assert.ok(mail.html.includes(`href="${PUBLIC_URL}/verify-email?token=${token}"`), mail.html)

    const logged = log.entries.find((e) => e.msg === 'mail written to the outbox')
    assert.ok(logged)
    assert.equal(logged.level, 'info')
    assert.deepEqual(logged.obj.links, [`${PUBLIC_URL}/verify-email?token=${token}`])
  })
})

describe('mail delivery failures', () => {
  const RETRY_DELAYS_MS = [150, 150]
  let t: TestApp
  const log = captureLog()
  let mailer: ReturnType<typeof createMailer>
  before(async () => {
    // A port where nothing listens: every connection is refused.
    const smtp = await startSmtpServer()
    await smtp.stop()
    mailer = createMailer(
      { smtpUrl: `smtp://127.0.0.1:${smtp.port}`, mailFrom: MAIL_FROM, dataDir: '/nonexistent' },
      log.logger,
      { retryDelaysMs: RETRY_DELAYS_MS },
    )
    t = await buildTestApp({ mailer })
  })
  after(() => t.close())

  test('a down SMTP server: the request succeeds at once, delivery is retried with backoff and logged', async () => {
    const { email } = await register(t.app)
    // The request has answered while delivery is still being retried.
    assert.equal(
      log.entries.filter((e) => e.msg.includes('giving up')).length,
      0,
      'register did not wait for delivery',
    )
    await t.mailer.idle()
    const attempts = log.entries.filter((e) => e.obj.to === email)
    assert.deepEqual(
      attempts.map((e) => [e.level, e.obj.attempt]),
      [
        ['warn', 1],
        ['warn', 2],
        ['error', 3],
      ],
    )
    assert.equal(attempts[0]!.obj.retryInMs, RETRY_DELAYS_MS[0])
    assert.match(attempts[2]!.msg, /giving up/)
    assert.equal((attempts[2]!.obj.err as { code?: string }).code, 'ESOCKET')
    assert.equal(mailer.maxAttempts, 3)

    // The account exists and works regardless.
    const login = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { email, password: 'correct horse battery staple' },
    })
    assert.equal(login.statusCode, 200)
  })

  test('send() never throws and returns before anything is delivered', async () => {
    const before = log.entries.length
    assert.equal(mailer.send({ to: 'a@example.com', subject: 's', text: 't', html: '<p>t</p>' }), undefined)
    assert.equal(log.entries.length, before)
    await mailer.idle()
    assert.ok(log.entries.length > before)
  })
})

describe('templates and links', () => {
  test('interpolated values are HTML-escaped in the HTML part only', () => {
    const label = '<script>alert("x")</script> & co'
    const mail = mfaFactorAddedTemplate({ productName: 'Tessera' }, label)
    assert.ok(!mail.html.includes('<script>'))
    assert.ok(mail.html.includes(escapeHtml(label)))
    assert.ok(mail.text.includes(label))
  })

  test('links are built from the public URL alone', () => {
    const sent: { text: string; html: string; links?: string[] }[] = []
    const notifier = createNotifier({
      mailer: { send: (m) => sent.push(m) },
      publicUrl: 'https://id.example.com/auth/',
    })
    notifier.resetPassword('a@example.com', 'tok_en-1', 15)
    assert.deepEqual(sent[0]!.links, ['https://id.example.com/auth/reset-password?token=tok_en-1'])
    assert.match(sent[0]!.text, /expires in 15 minutes/)
    notifier.verifyEmail('a@example.com', 'abc', 24 * 60)
    assert.match(sent[1]!.text, /expires in 24 hours/)
  })

  test('configuration: TESSERA_SMTP_URL, TESSERA_MAIL_FROM, TESSERA_REQUIRE_VERIFIED_EMAIL', () => {
    const { config } = loadConfig(
      {
        TESSERA_SMTP_URL: 'smtp://mailer:s3cret@smtp.example.com:587',
        TESSERA_MAIL_FROM: 'Example <id@example.com>',
        TESSERA_REQUIRE_VERIFIED_EMAIL: 'true',
      },
      { masterKey: Buffer.alloc(32, 1).toString('base64url'), dataDir: '/tmp/tessera-config-test' },
    )
    assert.equal(config.smtpUrl, 'smtp://mailer:s3cret@smtp.example.com:587')
    assert.equal(config.mailFrom, 'Example <id@example.com>')
    assert.equal(config.requireVerifiedEmail, true)
    assert.equal(redactConfig(config).smtpUrl, 'smtp://***@smtp.example.com:587')
    const defaults = loadConfig({}, { masterKey: Buffer.alloc(32, 1).toString('base64url') })
    assert.equal(defaults.config.mailFrom, 'Tessera <no-reply@localhost>')
    assert.equal(defaults.config.requireVerifiedEmail, false)
    assert.ok(defaults.warnings.some((w) => w.includes('TESSERA_SMTP_URL')))
  })
})
