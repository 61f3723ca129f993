/**
 * Reading the mail Tessera sent: raw RFC 5322 messages from the outbox (`<dataDir>/outbox/*.eml`)
 * or from a real SMTP server, decoded by mailparser.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { simpleParser } from 'mailparser'

export interface ParsedMail {
  raw: string
  headers: Map<string, string>
  to: string
  subject: string
  text: string
  html: string
}

/** Parses a raw message with mailparser; header values are kept as the raw text after the colon. */
export async function parseMail(raw: string): Promise<ParsedMail> {
  const parsed = await simpleParser(raw)
  const headers = new Map(
    parsed.headerLines.map((h) => [h.key, h.line.slice(h.line.indexOf(':') + 1).trim()] as const),
  )
  return {
    raw,
    headers,
    to: headers.get('to') ?? '',
    subject: parsed.subject ?? '',
    text: parsed.text ?? '',
    html: typeof parsed.html === 'string' ? parsed.html : '',
  }
}

/** Every message in the outbox, oldest first. */
export async function readOutbox(dataDir: string): Promise<ParsedMail[]> {
  const dir = join(dataDir, 'outbox')
  if (!existsSync(dir)) return []
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.eml'))
    .sort()
  return Promise.all(files.map((f) => parseMail(readFileSync(join(dir, f), 'utf8'))))
}

/** Messages to one address (case-insensitive), oldest first. */
export async function mailTo(dataDir: string, address: string): Promise<ParsedMail[]> {
  return (await readOutbox(dataDir)).filter((m) => m.to.toLowerCase().includes(address.toLowerCase()))
}

/** The link to `path` in a message's text part. */
export function linkIn(mail: ParsedMail, path: string): URL {
  const match = new RegExp(`https?://\\S+${path}\\?token=[A-Za-z0-9_-]+`).exec(mail.text)
  if (!match) throw new Error(`no ${path} link in mail "${mail.subject}":\n${mail.text}`)
  return new URL(match[0])
}

/** The token of the link to `path` in a message. */
export function tokenIn(mail: ParsedMail, path: string): string {
  return linkIn(mail, path).searchParams.get('token')!
}
