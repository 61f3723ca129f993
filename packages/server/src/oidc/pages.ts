/**
 * The pages oidc-provider renders itself (device code entry and confirmation, sign-out, errors):
 * it calls these with its Koa context and sets nothing else. Implemented by createProviderPages
 * (pages/interaction/views.ts).
 */
import type { ErrorOut, KoaContextWithOIDC } from 'oidc-provider'

export interface OidcPages {
  deviceInput(ctx: KoaContextWithOIDC, form: string, err?: unknown): Promise<void>
  deviceConfirm(ctx: KoaContextWithOIDC, form: string, clientName: string, userCode: string): Promise<void>
  deviceSuccess(ctx: KoaContextWithOIDC): Promise<void>
  logoutConfirm(ctx: KoaContextWithOIDC, form: string): Promise<void>
  loggedOut(ctx: KoaContextWithOIDC): Promise<void>
  error(ctx: KoaContextWithOIDC, out: ErrorOut): Promise<void>
}

/**
 * The `action` and `xsrf` of a form the provider built. Its markup carries an inline event
 * handler our CSP forbids, so pages render their own form with these two values.
 */
export function providerForm(html: string): { action: string; xsrf: string } {
  const action = /action="([^"]+)"/.exec(html)?.[1]
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1]
  if (!action || !xsrf) throw new Error('unexpected provider form markup')
  return { action, xsrf }
}
