/** Debian's Chromium for the browser tests, driven by playwright-core: how to launch it, when to skip. */
import { existsSync } from 'node:fs'
import type { Page } from 'playwright-core'

export const CHROMIUM = '/usr/bin/chromium'
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
]
export const skipWithoutChromium = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is missing: install it (apt-get install -y chromium) to run the browser tests`

/** Collects what would show a broken page: script errors, CSP reports, failed responses. */
export function watchProblems(page: Page, expectedStatuses: number[] = []): string[] {
  const problems: string[] = []
  const ours = (url: string) => !url.endsWith('/favicon.ico')
  page.on('pageerror', (err) => problems.push(err.message))
  page.on('console', (message) => {
    // Failed loads are judged by their responses below; CSP violations and the like land here.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource'))
      problems.push(message.text())
  })
  page.on('response', (response) => {
    if (response.status() >= 400 && ours(response.url()) && !expectedStatuses.includes(response.status()))
      problems.push(`${response.status()} ${response.url()}`)
  })
  return problems
}
