/**
 * The look of the pages, from config: the product name, an optional logo and the accent color.
 *
 * The page CSP forbids inline style, so the accent reaches the pages as a tiny stylesheet
 * (`GET /assets/brand.css`, pages/assets/routes.ts) that sets the CSS custom properties
 * page.css uses. It is built once at startup; its URL carries a hash of its content, so browsers
 * may keep it for good and still see a new accent after a restart.
 */
import { createHash } from 'node:crypto'

/** What config says about branding (core/config.ts validates the formats). */
export interface BrandConfig {
  productName: string
  /** An https:// URL or a path on this server (`/…`). */
  logoUrl?: string | undefined
  /** `#rgb` or `#rrggbb`. */
  accentColor: string
}

export interface Brand {
  productName: string
  logoUrl: string | undefined
  /** The origin of an https:// logo, which the page CSP must then allow in `img-src`. */
  logoOrigin: string | undefined
  /** The accent stylesheet's body. */
  stylesheet: string
  /** `/assets/brand.css?v=<hash of the stylesheet>`: what the layout links to. */
  stylesheetHref: string
}

const BRAND_STYLESHEET_PATH = '/assets/brand.css'

export function createBrand(config: BrandConfig): Brand {
  const accent = config.accentColor.toLowerCase()
  const stylesheet = [
    '/* The accent color from TESSERA_ACCENT_COLOR (pages/brand.ts); page.css uses these. */',
    ':root {',
    `  --accent: ${accent};`,
    `  --on-accent: ${textColorOn(accent)};`,
    '}',
    '',
  ].join('\n')
  const version = createHash('sha256').update(stylesheet).digest('hex').slice(0, 12)
  const logoUrl = config.logoUrl || undefined
  return {
    productName: config.productName,
    logoUrl,
    logoOrigin: logoUrl?.startsWith('https://') ? new URL(logoUrl).origin : undefined,
    stylesheet,
    stylesheetHref: `${BRAND_STYLESHEET_PATH}?v=${version}`,
  }
}

/** Black or white: whichever has the higher contrast on `color` (WCAG 2.x), for button text. */
export function textColorOn(color: string): '#ffffff' | '#000000' {
  const l = relativeLuminance(color)
  return contrastRatio(1, l) >= contrastRatio(l, 0) ? '#ffffff' : '#000000'
}

/** WCAG 2.x contrast ratio of two relative luminances, from 1 to 21. */
function contrastRatio(a: number, b: number): number {
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)
}

/** WCAG 2.x relative luminance of `#rgb` or `#rrggbb`, from 0 (black) to 1 (white). */
function relativeLuminance(color: string): number {
  const hex = color.slice(1)
  const full = hex.length === 3 ? [...hex].map((c) => c + c).join('') : hex
  const [r, g, b] = [0, 2, 4].map((i) => {
    const channel = Number.parseInt(full.slice(i, i + 2), 16) / 255
    return channel <= 0.04045 ? channel / 12.92 : ((channel + 0.055) / 1.055) ** 2.4
  }) as [number, number, number]
  return 0.2126 * r + 0.7152 * g + 0.0722 * b
}
