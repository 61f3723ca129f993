/**
 * Rendering of the hosted pages: @fastify/view with Eta, one layout (`layout.eta`), partials
 * (`partials/*.eta`), each page's `view.eta` in its folder, strings from strings.ts and the brand
 * from brand.ts. How to add a page: docs/pages.md.
 *
 * What every page gets, whoever renders it:
 * - escaping: Eta's autoEscape is on, so `<%= value %>` can never open a tag or leave an
 *   attribute; raw `<%~ … %>` prints only partials (which escape their own values) and the view
 *   inside the layout (render.test.ts fails on any other raw output);
 * - a strict CSP: our own stylesheets, scripts and images only (plus the logo's origin when it
 *   is elsewhere), nothing inline, forms posted only to ourselves, never framed;
 * - never cached (a page may hold a one-time token), no Referer (the token may be in the URL);
 * - `<html lang>` from the strings, `<title>` = the page title · the product name.
 */
import { fileURLToPath } from 'node:url'
import fastifyView from '@fastify/view'
import { Eta } from 'eta'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Brand } from './brand.ts'
import { type Message, type PageStrings, stringsFor } from './strings.ts'

/** The templates' root: `layout.eta`, `partials/`, and the page folders beside this file. */
export const VIEWS_DIR = fileURLToPath(new URL('.', import.meta.url))

/** The page CSP for a brand (the logo may live on another origin) and a page's kind of forms. */
function pageCsp(brand: Pick<Brand, 'logoOrigin'>, nativeForms = true, formRedirects: string[] = []): string {
  return [
    "default-src 'self'",
    ...(brand.logoOrigin ? [`img-src 'self' ${brand.logoOrigin}`] : []),
    `form-action ${nativeForms ? ["'self'", ...formRedirects].join(' ') : "'none'"}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
  ].join('; ')
}

/** The data a view gets: its own fields, plus `brand` and `s` (the strings) added here. */
export interface ViewData {
  /** Plain text: the page's `<h1>`, and its `<title>` before the product name. */
  title: string
  /** Module scripts of our own the page loads (`/assets/passkeys.js`); none by default. */
  scripts?: readonly string[]
  /** Set by renderPage (`brand`, `s`) and by the layout step (`body`): never by a caller. */
  brand?: never
  s?: never
  body?: never
  [field: string]: unknown
}

/**
 * A problem with a form: the error summary lists it, and the field partial shows it beside
 * the input whose id is `field` (none: a problem of the whole form, such as wrong credentials).
 */
export interface FieldError {
  field?: string
  message: string
}

export interface PageOptions {
  /**
   * `false` for a page whose forms only its script submits (with fetch): the CSP then says
   * `form-action 'none'`, so if the script fails to load, a native submit cannot send the
   * typed password anywhere.
   */
  nativeForms?: boolean
  /**
   * Origins a form post may end up at through redirects. Browsers apply `form-action` to every
   * redirect after a submit, and an OIDC step (sign-in, consent) ends by redirecting to the
   * client's `redirect_uri`, so that origin must be allowed on its page.
   */
  formRedirects?: string[]
}

export interface RenderOptions extends PageOptions {
  /** The request's Accept-Language header, which picks the strings. */
  acceptLanguage?: string | undefined
}

/** A rendered page and the headers it must be sent with. */
export interface RenderedPage {
  html: string
  headers: Record<string, string>
}

const BRAND = Symbol('tessera.brand')

/** The Eta engine the pages use (exported for tests of partials). */
export function createPageEngine(): Eta {
  // `cache`: each template is read and compiled once, on first use (production behaviour;
  // templates are part of the code, so a change ships with a restart).
  return new Eta({ autoEscape: true, cache: true, views: VIEWS_DIR })
}

/**
 * Registers @fastify/view at the root (it is infrastructure: every page plugin, each in its own
 * encapsulated context, renders through it) and remembers the brand for renderPage. Call once,
 * on the root instance, before the page plugins.
 */
export async function installPageViews(app: FastifyInstance, brand: Brand): Promise<void> {
  await app.register(fastifyView, {
    engine: { eta: createPageEngine() },
    root: VIEWS_DIR,
    layout: 'layout',
    production: true,
  })
  app.decorate(BRAND, brand)
}

function brandOf(app: FastifyInstance): Brand {
  const brand = (app as unknown as { [BRAND]?: Brand })[BRAND]
  if (!brand) throw new Error('installPageViews(app, brand) must run before a page is rendered')
  return brand
}

/**
 * Renders `view` (`'<page folder>/view'`, relative to pages/) inside the layout, with `data`
 * plus `it.brand` and `it.s`, and returns the HTML with the headers to send it with. For code
 * that answers outside a Fastify reply (oidc-provider's own pages); routes use sendView.
 */
export async function renderPage(
  app: FastifyInstance,
  view: string,
  data: ViewData,
  options: RenderOptions = {},
): Promise<RenderedPage> {
  const brand = brandOf(app)
  const scripts = data.scripts ?? []
  for (const src of scripts) {
    // Our own files only: the CSP would block anything else, and a page must not silently break.
    if (!/^\/(?![/\\])/.test(src)) throw new Error(`page script ${src} is not a path on this server`)
  }
  const html = await app.view(view, { ...data, scripts, brand, s: stringsFor(options.acceptLanguage) })
  return {
    html,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': pageCsp(brand, options.nativeForms ?? true, options.formRedirects),
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
    },
  }
}

/**
 * The one way a route sends a page: renders `view` (`'<page folder>/view'`, relative to pages/)
 * inside the layout and sends it with `status` and the page headers (CSP, no-store,
 * no-referrer). The view reads `data` as `it.<field>`, the strings for the request's language
 * as `it.s`, and the brand as `it.brand`. Rendering errors reject, so they reach the
 * context's error handler.
 *
 * @example
 *   const s = pageStrings(req).resetPassword
 *   return sendView(reply, 200, 'reset-password/view', { title: s.title, token, errors: [] })
 */
export async function sendView(
  reply: FastifyReply,
  status: number,
  view: string,
  data: ViewData,
  options: PageOptions = {},
): Promise<FastifyReply> {
  const acceptLanguage = reply.request.headers['accept-language']
  const page = await renderPage(reply.server, view, data, { ...options, acceptLanguage })
  return reply.status(status).headers(page.headers).send(page.html)
}

/** A page that only says something: `message.title` and one paragraph, `message.body`. */
export function sendMessage(reply: FastifyReply, status: number, message: Message): Promise<FastifyReply> {
  return sendView(reply, status, 'message/view', { title: message.title, text: message.body })
}

/**
 * A friendly error page: a title, one paragraph, and, when given, the error's code (an OAuth
 * `error` such as `invalid_request`) shown small for support. Never internal detail.
 */
export function sendErrorPage(
  reply: FastifyReply,
  status: number,
  message: Message & { code?: string | undefined },
): Promise<FastifyReply> {
  return sendView(reply, status, 'error/view', {
    title: message.title,
    text: message.body,
    code: message.code,
  })
}

/** The strings for this request's language (what routes use for titles and field errors). */
export function pageStrings(request: FastifyRequest): PageStrings {
  return stringsFor(request.headers['accept-language'])
}
