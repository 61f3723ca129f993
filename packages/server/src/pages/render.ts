/**
 * Rendering for the small server-rendered pages: one layout, one way to send a page.
 *
 * - Views build HTML strings; every dynamic value goes through `escapeHtml` (the one in
 *   mail/templates.ts), so a value can never open a tag or leave an attribute.
 * - Pages carry a strict CSP (our own stylesheet, forms only to ourselves, never framed), are
 *   never cached (a page may hold a one-time token) and send no Referer (the token is in the URL).
 *
 * TODO(hosted pages issue): replace with @fastify/view + Eta (autoEscape) and a shared layout.
 */
import type { FastifyReply } from 'fastify'
import { escapeHtml } from '../mail/templates.ts'
import { en, type PageStrings } from './strings.ts'

export { escapeHtml }

export const PAGE_CSP = [
  "default-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "object-src 'none'",
].join('; ')

export interface PageContext {
  productName: string
  strings: PageStrings
}

export function pageContext(productName: string): PageContext {
  return { productName, strings: en }
}

/** A whole document. `body` is trusted HTML built by a view; `title` is plain text. */
export function layout(ctx: PageContext, title: string, body: string): string {
  const product = escapeHtml(ctx.productName)
  return `<!doctype html>
<html lang="${escapeHtml(ctx.strings.lang)}">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>${escapeHtml(title)} · ${product}</title>
    <link rel="stylesheet" href="/assets/page.css">
  </head>
  <body>
    <main>
      <p class="product">${product}</p>
      <h1>${escapeHtml(title)}</h1>
${body}
    </main>
  </body>
</html>
`
}

/** A page that only says something: a title and one paragraph of plain text. */
export function messagePage(ctx: PageContext, message: { title: string; body: string }): string {
  return layout(ctx, message.title, `      <p>${escapeHtml(message.body)}</p>`)
}

/** A mailed link opened without its token (cut off by a mail client, or copied in part). */
export function linkIncompletePage(ctx: PageContext): string {
  return messagePage(ctx, ctx.strings.linkIncomplete)
}

export function sendPage(reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply
    .status(status)
    .type('text/html; charset=utf-8')
    .header('content-security-policy', PAGE_CSP)
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .send(html)
}
