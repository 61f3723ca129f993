/**
 * TOTP (RFC 6238) through otpauth: SHA-1, 6 digits, 30-second steps, ±1 step accepted.
 * The caller stores the last accepted step and refuses codes at or before it (replay).
 */
import { Secret, TOTP } from 'otpauth'

const PERIOD_SECONDS = 30
const DIGITS = 6
const WINDOW_STEPS = 1
const SECRET_BYTES = 20

export function generateTotpSecret(): string {
  return new Secret({ size: SECRET_BYTES }).base32
}

function totpFor(secretBase32: string, issuer: string, label: string): TOTP {
  return new TOTP({
    issuer,
    label,
    algorithm: 'SHA1',
    digits: DIGITS,
    period: PERIOD_SECONDS,
    secret: Secret.fromBase32(secretBase32),
  })
}

export interface TotpEnrolment {
  secret: string
  uri: string
  /** `data:image/svg+xml;base64,…` */
  qrCode: string
}

export async function describeTotp(
  secretBase32: string,
  issuer: string,
  accountLabel: string,
): Promise<TotpEnrolment> {
  const uri = totpFor(secretBase32, issuer, accountLabel).toString()
  // Loaded on first enrolment only: rarely needed, and not small.
  const { default: QRCode } = await import('qrcode')
  const svg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 })
  return {
    secret: secretBase32,
    uri,
    qrCode: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`,
  }
}

/** The time step the code belongs to, or null when it matches none within the window. */
export function matchTotpStep(secretBase32: string, code: string, nowMs: number): number | null {
  if (!/^\d{6}$/.test(code)) return null
  const delta = totpFor(secretBase32, 'x', 'x').validate({
    token: code,
    timestamp: nowMs,
    window: WINDOW_STEPS,
  })
  return delta === null ? null : Math.floor(nowMs / 1000 / PERIOD_SECONDS) + delta
}
