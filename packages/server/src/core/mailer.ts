/**
 * Outgoing mail: SMTP (nodemailer) when `smtpUrl` is set, otherwise a local outbox — one raw
 * RFC 5322 `.eml` file per message in `<dataDir>/outbox/`, with its links logged so a developer
 * can follow them.
 *
 * Mail never blocks or fails the request that caused it: `send()` only enqueues. A small
 * in-process queue delivers, retries failures with backoff and logs what it gives up on.
 * `defer()` runs work (look-ups, token writes) after the current request has answered, so
 * neither its outcome nor its duration shows in the response (no account enumeration).
 * `idle()` resolves once every deferred task and every delivery has finished (tests await it).
 */
import { randomUUID } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Transporter } from 'nodemailer'
import type { Config } from './config.ts'

export interface MailMessage {
  to: string
  subject: string
  text: string
  html: string
  /** Links in the message; logged in outbox mode only (they carry one-time tokens). */
  links?: string[]
}

/** The part of pino (Fastify's logger) the mailer uses. */
export interface MailLogger {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
  error(obj: object, msg: string): void
}

export interface MailerOptions {
  /** Wait before each retry; attempts = retries + 1. */
  retryDelaysMs?: number[]
  /** Deliveries in flight at once. */
  concurrency?: number
  /** Messages beyond this many waiting are dropped (and logged) rather than exhausting memory. */
  maxQueued?: number
  /** How long close() waits for deliveries in flight. */
  closeTimeoutMs?: number
}

const DEFAULT_RETRY_DELAYS_MS = [5_000, 30_000]
const DEFAULT_CONCURRENCY = 2
const DEFAULT_MAX_QUEUED = 10_000
const DEFAULT_CLOSE_TIMEOUT_MS = 10_000
const SMTP_TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 }
export const OUTBOX_DIR = 'outbox'

interface Transport {
  /** Delivers one message; resolves with facts worth logging. */
  deliver(message: MailMessage): Promise<Record<string, unknown>>
  close(): void
}

/**
 * nodemailer is loaded with the first message: it is large, and a server may send no mail for
 * a long time (idle memory matters more than the first mail's few milliseconds).
 */
function lazyTransporter(create: (nodemailer: typeof import('nodemailer')) => Transporter) {
  let transporter: Promise<Transporter> | undefined
  return {
    /** Sends one message, marked as automatic (RFC 3834), and resolves with nodemailer's info. */
    async send({ to, subject, text, html }: MailMessage) {
      transporter ??= import('nodemailer').then(create)
      return (await transporter).sendMail({ to, subject, text, html, headers: AUTO_HEADERS })
    },
    close: () =>
      void transporter?.then(
        (t) => t.close(),
        () => {}, // never created (bad SMTP URL): already logged with the failed deliveries
      ),
  }
}

function smtpTransport(url: string, from: string): Transport {
  const transporter = lazyTransporter((nodemailer) =>
    nodemailer.createTransport({ url, ...SMTP_TIMEOUTS }, { from }),
  )
  return {
    async deliver(message) {
      const info = await transporter.send(message)
      return { messageId: info.messageId, response: info.response }
    },
    close: transporter.close,
  }
}

function outboxTransport(dir: string, from: string, logger: MailLogger): Transport {
  const transporter = lazyTransporter((nodemailer) =>
    nodemailer.createTransport({ streamTransport: true, buffer: true }, { from }),
  )
  let sequence = 0 // orders messages written within the same millisecond
  return {
    async deliver(message) {
      const { to, subject, links } = message
      const info = await transporter.send(message)
      await mkdir(dir, { recursive: true, mode: 0o700 })
      sequence += 1
      const stamp = `${new Date().toISOString().replace(/[:.]/g, '-')}-${String(sequence).padStart(6, '0')}`
      const file = join(dir, `${stamp}-${randomUUID()}.eml`)
      // The file holds live one-time links: readable by the owner only.
      await writeFile(file, info.message as Buffer, { mode: 0o600 })
      logger.info({ to, subject, file, links: links ?? [] }, 'mail written to the outbox')
      return { file }
    },
    close: transporter.close,
  }
}

/** RFC 3834: automatic mail; auto-responders should not answer it. */
const AUTO_HEADERS = { 'Auto-Submitted': 'auto-generated' }

/** A permanent SMTP rejection (5xx) will not succeed on retry. */
function isPermanent(err: unknown): boolean {
  const e = err as { permanent?: boolean; responseCode?: number } | null
  return e?.permanent === true || (typeof e?.responseCode === 'number' && e.responseCode >= 500)
}

interface Job {
  message: MailMessage
  attempt: number
}

export function createMailer(
  config: Pick<Config, 'smtpUrl' | 'mailFrom' | 'dataDir'>,
  logger: MailLogger,
  options: MailerOptions = {},
) {
  const retryDelays = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS
  const maxAttempts = retryDelays.length + 1
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY
  const maxQueued = options.maxQueued ?? DEFAULT_MAX_QUEUED
  const transport = config.smtpUrl
    ? smtpTransport(config.smtpUrl, config.mailFrom)
    : outboxTransport(join(config.dataDir, OUTBOX_DIR), config.mailFrom, logger)

  const queue: Job[] = []
  const retries = new Map<NodeJS.Timeout, Job>()
  let active = 0
  /** Deferred tasks + queued, in-flight and retry-waiting deliveries. */
  let pending = 0
  let waiters: Array<() => void> = []
  let closing = false

  const settle = () => {
    pending -= 1
    if (pending > 0) return
    const done = waiters
    waiters = []
    for (const resolve of done) resolve()
  }
  const about = (job: Job) => ({ to: job.message.to, subject: job.message.subject, attempt: job.attempt })

  async function deliver(job: Job): Promise<void> {
    job.attempt += 1
    try {
      const facts = await transport.deliver(job.message)
      if (config.smtpUrl) logger.info({ ...about(job), ...facts }, 'mail sent')
      settle()
    } catch (err) {
      const delay = retryDelays[job.attempt - 1]
      if (delay === undefined || closing || isPermanent(err)) {
        logger.error({ err, ...about(job) }, 'mail delivery failed; giving up')
        settle()
        return
      }
      logger.warn({ err, ...about(job), retryInMs: delay }, 'mail delivery failed; will retry')
      const timer = setTimeout(() => {
        retries.delete(timer)
        queue.push(job)
        pump()
      }, delay)
      timer.unref()
      retries.set(timer, job)
    }
  }

  function pump(): void {
    while (active < concurrency && queue.length > 0) {
      const job = queue.shift()!
      active += 1
      void deliver(job).finally(() => {
        active -= 1
        pump()
      })
    }
  }

  function idle(): Promise<void> {
    return pending === 0 ? Promise.resolve() : new Promise((resolve) => waiters.push(resolve))
  }

  return {
    maxAttempts,

    /** Enqueues a message and returns at once; delivery problems are logged, never thrown. */
    send(message: MailMessage): void {
      if (queue.length >= maxQueued) {
        logger.error({ to: message.to, subject: message.subject }, 'mail queue full; message dropped')
        return
      }
      pending += 1
      queue.push({ message, attempt: 0 })
      pump()
    },

    /** Runs `task` after the current request has been answered; failures are logged. */
    defer(label: string, task: () => Promise<void>): void {
      if (closing) {
        logger.warn({ task: label }, 'shutting down; background mail task skipped')
        return
      }
      pending += 1
      setImmediate(() => {
        task()
          .catch((err: unknown) => logger.error({ err, task: label }, 'background mail task failed'))
          .finally(settle)
      })
    },

    /** Resolves when nothing is waiting, running or scheduled for retry. */
    idle,

    /** Stops retrying, waits (bounded) for deliveries in flight, closes the transport. */
    async close(): Promise<void> {
      closing = true
      for (const [timer, job] of retries) {
        clearTimeout(timer)
        logger.error(about(job), 'shutting down; mail not delivered')
        settle()
      }
      retries.clear()
      let timeout: NodeJS.Timeout | undefined
      await Promise.race([
        idle(),
        new Promise<void>((resolve) => {
          timeout = setTimeout(resolve, options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS)
          timeout.unref()
        }),
      ])
      clearTimeout(timeout)
      transport.close()
    },
  }
}

export type Mailer = ReturnType<typeof createMailer>
