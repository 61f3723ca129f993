/**
 * The render layer on its own: a bare Fastify app with installPageViews and a few routes, no
 * database. What every page relies on: escaping, the layout, the headers, the brand, speed.
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import Fastify, { type FastifyInstance } from 'fastify'
import { PAGE_CSP } from '../../test/pages.ts'
import { pageAssetRoutes } from './assets/routes.ts'
import { type BrandConfig, createBrand, textColorOn } from './brand.ts'
import {
  createPageEngine,
  installPageViews,
  renderPage,
  sendErrorPage,
  sendMessage,
  sendView,
  VIEWS_DIR,
} from './render.ts'

const EVIL = `"><script>alert(1)</script><img src=x onerror='alert(2)'>&`
const EVIL_ESCAPED =
  '&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=&#39;alert(2)&#39;&gt;&amp;'

async function bareApp(brand: Partial<BrandConfig> = {}): Promise<FastifyInstance> {
  const app = Fastify()
  const b = createBrand({ productName: 'Acme ID', accentColor: '#1d4ed8', ...brand })
  await installPageViews(app, b)
  await app.register(pageAssetRoutes, { brand: b })
  // Page plugins live in encapsulated contexts: the views must reach them there.
  await app.register(async (pages) => {
    pages.get('/message', async (_req, reply) => sendMessage(reply, 200, { title: 'Hello', body: EVIL }))
    pages.get('/error', async (req, reply) => {
      const { code } = req.query as { code?: string }
      return sendErrorPage(reply, 400, { title: 'Something went wrong', body: 'Try again.', code })
    })
    pages.get('/scripted', async (_req, reply) =>
      sendView(
        reply,
        200,
        'message/view',
        { title: 'Scripted', text: 'x', scripts: ['/assets/passkeys.js'] },
        {
          nativeForms: false,
        },
      ),
    )
    pages.get('/foreign-script', async (_req, reply) =>
      sendView(reply, 200, 'message/view', { title: 'No', text: 'x', scripts: ['//cdn.example/x.js'] }),
    )
    pages.get('/reset', async (_req, reply) =>
      sendView(reply, 200, 'reset-password/view', { title: EVIL, token: EVIL, errors: [], minLength: 8 }),
    )
  })
  await app.ready()
  return app
}

describe('page rendering (@fastify/view + Eta)', () => {
  let app: FastifyInstance
  before(async () => {
    app = await bareApp()
  })
  after(() => app.close())

  test('the layout: lang, title, viewport, both stylesheets, the product name; the page headers', async () => {
    const res = await app.inject({ method: 'GET', url: '/message' })
    assert.equal(res.statusCode, 200)
    assert.equal(res.headers['content-type'], 'text/html; charset=utf-8')
    assert.equal(res.headers['content-security-policy'], PAGE_CSP)
    assert.equal(res.headers['cache-control'], 'no-store')
    assert.equal(res.headers['referrer-policy'], 'no-referrer')
    assert.match(res.body, /^<!doctype html>\n<html lang="en">/)
    assert.match(res.body, /<meta name="viewport" content="width=device-width, initial-scale=1">/)
    assert.match(res.body, /<title>Hello · Acme ID<\/title>/)
    assert.match(res.body, /<link rel="stylesheet" href="\/assets\/page.css">/)
    assert.match(res.body, /<link rel="stylesheet" href="\/assets\/brand.css\?v=[0-9a-f]{12}">/)
    assert.match(res.body, /<header class="brand">\s*<p class="product">Acme ID<\/p>\s*<\/header>/)
    assert.match(res.body, /<h1>Hello<\/h1>/)
    const markup = res.body.replace(EVIL_ESCAPED, '') // the escaped text mentions onerror=
    assert.doesNotMatch(markup, /<script|<style|\sstyle=|\son[a-z]+=/i, 'nothing inline')
  })

  test('Eta escapes every value: <%= %> cannot open a tag or leave an attribute', async () => {
    const message = await app.inject({ method: 'GET', url: '/message' })
    assert.ok(message.body.includes(`<p>${EVIL_ESCAPED}</p>`), message.body)
    const reset = await app.inject({ method: 'GET', url: '/reset' })
    assert.ok(reset.body.includes(`<title>${EVIL_ESCAPED} · Acme ID</title>`))
    assert.ok(reset.body.includes(`<h1>${EVIL_ESCAPED}</h1>`))
    assert.ok(reset.body.includes(`name="token" value="${EVIL_ESCAPED}"`))
    assert.doesNotMatch(reset.body, /<script|<img/i)

    const named = await bareApp({ productName: '<script>alert("name")</script>' })
    try {
      const res = await named.inject({ method: 'GET', url: '/message' })
      assert.ok(
        res.body.includes('<title>Hello · &lt;script&gt;alert(&quot;name&quot;)&lt;/script&gt;</title>'),
      )
      assert.ok(
        res.body.includes('<p class="product">&lt;script&gt;alert(&quot;name&quot;)&lt;/script&gt;</p>'),
      )
      assert.doesNotMatch(res.body, /<script/i)
    } finally {
      await named.close()
    }
  })

  test('raw output in templates is only a partial or the view inside the layout', () => {
    const templates = readdirSync(VIEWS_DIR, { recursive: true, encoding: 'utf8' }).filter((f) =>
      f.endsWith('.eta'),
    )
    assert.ok(templates.includes('layout.eta') && templates.includes(join('partials', 'field.eta')))
    for (const file of templates) {
      const source = readFileSync(join(VIEWS_DIR, file), 'utf8').replace(/<%\/\*[\s\S]*?\*\/%>/g, '')
      for (const [raw] of source.matchAll(/<%[-_]?\s*~[^%]*/g)) {
        const allowed = /^<%[-_]?\s*~\s*include\('\/partials\/[a-z-]+'/.test(raw)
        const body = file === 'layout.eta' && /^<%\s*~\s*it\.body\s*$/.test(raw)
        assert.ok(allowed || body, `${file}: raw output ${raw.trim()} (escape it with <%= %>)`)
      }
    }
  })

  test('a logo: shown with the product name as alt text; an https:// one is allowed by the CSP', async () => {
    const local = await bareApp({ logoUrl: '/assets/tessera-logo.svg' })
    const remote = await bareApp({ logoUrl: 'https://cdn.example.com/brand/logo.png?size=2' })
    try {
      const here = await local.inject({ method: 'GET', url: '/message' })
      assert.match(here.body, /<img class="logo" src="\/assets\/tessera-logo.svg" alt="Acme ID">/)
      assert.doesNotMatch(here.body, /class="product"/)
      assert.equal(here.headers['content-security-policy'], PAGE_CSP, 'our own origin: the CSP is unchanged')
      const svg = await local.inject({ method: 'GET', url: '/assets/tessera-logo.svg' })
      assert.equal(svg.statusCode, 200)
      assert.equal(svg.headers['content-type'], 'image/svg+xml')

      const there = await remote.inject({ method: 'GET', url: '/message' })
      assert.ok(there.body.includes('src="https://cdn.example.com/brand/logo.png?size=2" alt="Acme ID"'))
      assert.equal(
        there.headers['content-security-policy'],
        PAGE_CSP.replace("default-src 'self'", "default-src 'self'; img-src 'self' https://cdn.example.com"),
      )
    } finally {
      await Promise.all([local.close(), remote.close()])
    }
  })

  test('the accent stylesheet: built from config, versioned by its content, cacheable for good', async () => {
    const page = await app.inject({ method: 'GET', url: '/message' })
    const href = /href="(\/assets\/brand.css\?v=[0-9a-f]+)"/.exec(page.body)?.[1]
    assert.ok(href)
    const css = await app.inject({ method: 'GET', url: href })
    assert.equal(css.statusCode, 200)
    assert.equal(css.headers['content-type'], 'text/css; charset=utf-8')
    assert.equal(css.headers['cache-control'], 'public, max-age=31536000, immutable')
    assert.match(css.body, /--accent: #1d4ed8;/)
    assert.match(css.body, /--on-accent: #ffffff;/)

    const light = createBrand({ productName: 'x', accentColor: '#FD0' })
    assert.match(
      light.stylesheet,
      /--accent: #fd0;\n {2}--on-accent: #000000;/,
      'dark text on a light accent',
    )
    assert.notEqual(
      light.stylesheetHref,
      createBrand({ productName: 'x', accentColor: '#1d4ed8' }).stylesheetHref,
    )
    assert.equal(textColorOn('#000'), '#ffffff')
    assert.equal(textColorOn('#ffffff'), '#000000')

    const style = await app.inject({ method: 'GET', url: '/assets/page.css' })
    assert.match(style.body, /var\(--accent\)/)
    assert.match(style.body, /min-height: 2\.75rem/, 'buttons and inputs at least 44px tall')
  })

  test('page scripts: our own modules only; such pages may say form-action none', async () => {
    const res = await app.inject({ method: 'GET', url: '/scripted' })
    assert.match(res.body, /<script type="module" src="\/assets\/passkeys.js"><\/script>/)
    assert.equal(
      res.headers['content-security-policy'],
      PAGE_CSP.replace("form-action 'self'", "form-action 'none'"),
    )
    const foreign = await app.inject({ method: 'GET', url: '/foreign-script' })
    assert.equal(foreign.statusCode, 500)
  })

  test('the error page shows the OAuth error code small, for support; the message page none', async () => {
    const res = await app.inject({ method: 'GET', url: '/error?code=invalid_request' })
    assert.equal(res.statusCode, 400)
    assert.match(res.body, /<h1>Something went wrong<\/h1>\s*<p>Try again.<\/p>/)
    assert.match(res.body, /<p class="error-code">Error code: <code>invalid_request<\/code><\/p>/)
    const evil = await app.inject({ method: 'GET', url: `/error?code=${encodeURIComponent('<b>x')}` })
    assert.match(evil.body, /<code>&lt;b&gt;x<\/code>/)
    const none = await app.inject({ method: 'GET', url: '/error' })
    assert.doesNotMatch(none.body, /error-code/)
  })

  test('renderPage serves code outside a Fastify reply (oidc-provider pages) the same page', async () => {
    const page = await renderPage(app, 'message/view', { title: 'Signed out', text: 'Bye.' })
    assert.match(page.html, /<title>Signed out · Acme ID<\/title>/)
    assert.deepEqual(page.headers, {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': PAGE_CSP,
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
    })
    await assert.rejects(renderPage(Fastify(), 'message/view', { title: 'x' }), /installPageViews/)
  })

  test('templates are read and compiled once', async () => {
    const engine = createPageEngine()
    const reads: string[] = []
    const readFile = engine.readFile.bind(engine)
    engine.readFile = (path) => {
      reads.push(path)
      return readFile(path)
    }
    const data = { title: 'x', token: 't', errors: [], minLength: 8, s: (await import('./strings.ts')).en }
    for (let i = 0; i < 3; i++) engine.render('reset-password/view', data)
    assert.deepEqual(
      reads.map((p) => p.slice(VIEWS_DIR.length)).sort(),
      ['partials/button.eta', 'partials/error-summary.eta', 'partials/field.eta', 'reset-password/view.eta'],
      'each template read once',
    )
  })
})
