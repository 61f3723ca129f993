/**
 * The page foundation in a real browser, as a phone sees it: Debian's Chromium at 360px wide
 * opens a page rendered through the shared layout with a configured logo and accent, and it
 * must load without console errors or CSP violations, fit the screen, and work from the
 * keyboard alone. (In-page code is passed as strings: the tests compile without DOM types.)
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import { buildTestApp, type TestApp } from '../harness.ts'
import { freePort } from '../ports.ts'
import { CHROMIUM, CHROMIUM_ARGS, skipWithoutChromium as skip, watchProblems } from './chromium.ts'

const PHONE = { width: 360, height: 740 }
const ACCENT = '#0a7d4f'
const ACCENT_RGB = 'rgb(10, 125, 79)'
/** WCAG 2.5.5 and the platform guidelines: touch targets at least 44 CSS pixels tall. */
const MIN_TARGET_PX = 44
/** Phones zoom into a focused field whose text is smaller than this. */
const MIN_INPUT_FONT_PX = 16

/** Records the page's CSP violations, from a listener installed before any page script. */
const watchCsp = (context: BrowserContext) =>
  context.addInitScript(`
    globalThis.cspViolations = []
    document.addEventListener('securitypolicyviolation', (e) =>
      globalThis.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI))
  `)

const cspViolations = (page: Page) => page.evaluate<string[]>('globalThis.cspViolations')

/** The id, or else the tag and text, of the focused element. */
const focused = (page: Page) =>
  page.evaluate<string>(`(() => {
    const el = document.activeElement
    return el.id ? '#' + el.id : el.tagName.toLowerCase() + ' ' + el.textContent.trim()
  })()`)

interface Look {
  background: string
  color: string
  height: number
  fontSize: number
  outline: string
  outlineWidth: number
}

/** Computed style and height of the first element matching `selector`. */
const lookOf = (page: Page, selector: string) =>
  page.evaluate<Look>(`(() => {
    const el = document.querySelector(${JSON.stringify(selector)})
    const style = getComputedStyle(el)
    return {
      background: style.backgroundColor,
      color: style.color,
      height: el.getBoundingClientRect().height,
      fontSize: parseFloat(style.fontSize),
      outline: style.outlineStyle,
      outlineWidth: parseFloat(style.outlineWidth),
    }
  })()`)

describe('pages on a phone, in a real browser', { skip }, () => {
  let t: TestApp
  let browser: Browser
  let origin: string
  let formUrl: string

  before(async () => {
    const port = await freePort()
    origin = `http://localhost:${port}`
    formUrl = `${origin}/reset-password?token=${'A'.repeat(43)}`
    t = await buildTestApp({
      config: {
        publicUrl: origin,
        productName: 'Acme ID',
        logoUrl: '/assets/tessera-logo.svg',
        accentColor: ACCENT,
      },
    })
    await t.app.listen({ port, host: '127.0.0.1' })
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
  })
  after(async () => {
    await browser?.close()
    await t?.close()
  })

  test('at 360px: logo and accent load, nothing overflows, no console errors or CSP violations', async () => {
    const context = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true })
    try {
      await watchCsp(context)
      const page = await context.newPage()
      const problems = watchProblems(page)
      const loaded = new Map<string, number>()
      page.on('response', (r) => loaded.set(new URL(r.url()).pathname, r.status()))

      await page.goto(formUrl)
      assert.equal(await page.title(), 'Choose a new password · Acme ID')
      assert.equal(loaded.get('/assets/page.css'), 200)
      assert.equal(loaded.get('/assets/brand.css'), 200)
      assert.equal(loaded.get('/assets/tessera-logo.svg'), 200)

      const drawn = await page.evaluate<boolean>(
        "(img => img.complete && img.naturalWidth > 0)(document.querySelector('img.logo'))",
      )
      assert.ok(drawn, 'the logo is drawn')
      const logo = await page.getByRole('img', { name: 'Acme ID' }).boundingBox()
      assert.ok(logo && logo.height >= 30 && logo.height <= 48, `logo ${JSON.stringify(logo)}`)

      const accent = await page.evaluate<string>(
        "getComputedStyle(document.documentElement).getPropertyValue('--accent').trim()",
      )
      assert.equal(accent, ACCENT, 'brand.css sets the accent')
      const button = await lookOf(page, 'button[type=submit]')
      assert.equal(button.background, ACCENT_RGB)
      assert.equal(button.color, 'rgb(255, 255, 255)', 'white reads best on this accent')
      assert.ok(button.height >= MIN_TARGET_PX, `button ${button.height}px tall`)
      for (const id of ['#new-password', '#confirm-password']) {
        const input = await lookOf(page, id)
        assert.ok(input.height >= MIN_TARGET_PX, `${id} ${input.height}px tall`)
        assert.ok(input.fontSize >= MIN_INPUT_FONT_PX, `${id} text ${input.fontSize}px`)
      }
      const width = await page.evaluate<number>('document.documentElement.scrollWidth')
      assert.ok(width <= PHONE.width, `no sideways scrolling (${width}px)`)

      assert.deepEqual(problems, [])
      assert.deepEqual(await cspViolations(page), [])
    } finally {
      await context.close()
    }
  })

  test('keyboard only: Tab reaches each field and the button, focus is visible, Enter submits', async () => {
    const context = await browser.newContext({ viewport: PHONE })
    try {
      await watchCsp(context)
      const page = await context.newPage()
      const problems = watchProblems(page, [400])
      await page.goto(formUrl)

      await page.keyboard.press('Tab')
      assert.equal(await focused(page), '#new-password')
      const ring = await lookOf(page, ':focus')
      assert.notEqual(ring.outline, 'none', 'a visible focus ring')
      assert.ok(ring.outlineWidth >= 2, `focus ring ${ring.outlineWidth}px`)
      await page.keyboard.type('one long passphrase')

      await page.keyboard.press('Tab')
      assert.equal(await focused(page), '#confirm-password')
      await page.keyboard.type('another long passphrase')

      await page.keyboard.press('Tab')
      assert.equal(await focused(page), 'button Change my password')
      await page.keyboard.press('Enter')

      const alert = page.getByRole('alert')
      await alert.waitFor()
      assert.match((await alert.textContent()) ?? '', /The two passwords do not match/)
      assert.equal(await page.getByLabel('Confirm the new password').getAttribute('aria-invalid'), 'true')
      // The summary's link takes keyboard users to the field at fault.
      await page.getByRole('link', { name: 'The two passwords do not match.' }).press('Enter')
      assert.equal(await page.evaluate<string>('location.hash'), '#confirm-password')

      assert.deepEqual(problems, [])
      assert.deepEqual(await cspViolations(page), [])
    } finally {
      await context.close()
    }
  })

  test('dark mode follows the system; a message page renders under the same rules', async () => {
    const context = await browser.newContext({ viewport: PHONE, colorScheme: 'dark' })
    try {
      await watchCsp(context)
      const page = await context.newPage()
      const problems = watchProblems(page, [400])
      await page.goto(`${origin}/reset-password`)
      await page.getByRole('heading', { name: 'This link is incomplete' }).waitFor()
      const { background } = await lookOf(page, 'body')
      assert.notEqual(background, 'rgb(255, 255, 255)', `a dark page (${background})`)
      assert.deepEqual(problems, [])
      assert.deepEqual(await cspViolations(page), [])
    } finally {
      await context.close()
    }
  })
})
