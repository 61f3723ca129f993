/** Driving the server-rendered pages the way a browser does: GET a page, POST its form. */
import assert from 'node:assert/strict'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'

/** The harness's public URL: the origin a browser would send with our own forms. */
export const PAGE_ORIGIN = 'http://localhost:3000'

export const PAGE_CSP =
  "default-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

/** A native form post: url-encoded fields, and by default our own Origin. */
export function postForm(
  app: FastifyInstance,
  url: string,
  fields: Record<string, string>,
  headers: Record<string, string> = { origin: PAGE_ORIGIN },
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    payload: new URLSearchParams(fields).toString(),
  })
}

/** An HTML page under the pages' CSP, never cached, never leaking its URL as a Referer. */
export function assertPageHeaders(res: LightMyRequestResponse): void {
  assert.equal(res.headers['content-type'], 'text/html; charset=utf-8')
  assert.equal(res.headers['content-security-policy'], PAGE_CSP)
  assert.equal(res.headers['cache-control'], 'no-store')
  assert.equal(res.headers['referrer-policy'], 'no-referrer')
}

/** A friendly page: HTML, no problem+json, no stack trace or internal detail. */
export function assertFriendlyPage(res: LightMyRequestResponse, status: number, title: RegExp): void {
  assert.equal(res.statusCode, status, res.body)
  assertPageHeaders(res)
  assert.match(res.body, /^<!doctype html>/)
  assert.match(heading(res.body), title)
  assert.doesNotMatch(res.body, /\bat \S+ \(|node:internal|\w+Error\b|_token_invalid|"code"/)
}

/** The text of the page's `<h1>`. */
export function heading(html: string): string {
  return /<h1>([^<]*)<\/h1>/.exec(html)?.[1] ?? ''
}

/** The value of the form's hidden token field, unescaped the way a browser would. */
export function hiddenToken(html: string): string | undefined {
  const value = /<input type="hidden" name="token" value="([^"]*)">/.exec(html)?.[1]
  return value
    ?.replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&amp;', '&')
}
