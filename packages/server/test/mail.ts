/**
 * Reading the mail Tessera sent: raw RFC 5322 messages from the outbox (`<dataDir>/outbox/*.eml`)
 * or from a real SMTP server, decoded just enough for tests (headers, text and HTML parts).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

export interface ParsedMail {
  raw: string
  headers: Map<string, string>
  to: string
  subject: string
  text: string
  html: string
}

function splitHead(raw: string): { headers: Map<string, string>; body: string } {
  const match = /\r?\n\r?\n/.exec(raw)
  const head = match ? raw.slice(0, match.index) : raw
  const body = match ? raw.slice(match.index + match[0].length) : ''
  const headers = new Map<string, string>()
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':')
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim())
  }
  return { headers, body }
}

function decodeBody(body: string, encoding = '7bit'): string {
  switch (encoding.toLowerCase()) {
    case 'base64':
      return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8')
    case 'quoted-printable': {
      const soft = body.replace(/=\r?\n/g, '')
      const bytes: number[] = []
      for (let i = 0; i < soft.length; i++) {
        const hex = soft.slice(i + 1, i + 3)
        if (soft[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
          bytes.push(Number.parseInt(hex, 16))
          i += 2
        } else bytes.push(soft.charCodeAt(i))
      }
      return Buffer.from(bytes).toString('utf8')
    }
    default:
      return body
  }
}

/** RFC 2047 encoded words, as in a long or non-ASCII Subject. */
function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([BQbq])\?([^?]*)\?=/g, (_, _charset, kind: string, text: string) =>
      kind.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : decodeBody(text.replace(/_/g, ' '), 'quoted-printable'),
    )
}

export function parseMail(raw: string): ParsedMail {
  const { headers, body } = splitHead(raw)
  const parts: { type: string; content: string }[] = []
  const collect = (partHeaders: Map<string, string>, partBody: string) => {
    const type = partHeaders.get('content-type') ?? 'text/plain'
    const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1]
    if (type.toLowerCase().startsWith('multipart/') && boundary) {
      const sections = partBody.split(`--${boundary}`).slice(1)
      for (const section of sections) {
        if (section.startsWith('--')) break
        const inner = splitHead(section.replace(/^\r?\n/, ''))
        collect(inner.headers, inner.body)
      }
      return
    }
    parts.push({
      type: type.split(';')[0]!.trim().toLowerCase(),
      content: decodeBody(partBody, partHeaders.get('content-transfer-encoding')),
    })
  }
  collect(headers, body)
  return {
    raw,
    headers,
    to: headers.get('to') ?? '',
    subject: decodeWords(headers.get('subject') ?? ''),
    text: parts.find((p) => p.type === 'text/plain')?.content ?? '',
    html: parts.find((p) => p.type === 'text/html')?.content ?? '',
  }
}

/** Every message in the outbox, oldest first. */
export function readOutbox(dataDir: string): ParsedMail[] {
  const dir = join(dataDir, 'outbox')
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .filter((f) => f.endsWith('.eml'))
    .sort()
    .map((f) => parseMail(readFileSync(join(dir, f), 'utf8')))
}

/** Messages to one address (case-insensitive), oldest first. */
export function mailTo(dataDir: string, address: string): ParsedMail[] {
  return readOutbox(dataDir).filter((m) => m.to.toLowerCase().includes(address.toLowerCase()))
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
