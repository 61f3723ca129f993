/** Targets (pass or fail) and the formatting of the readable report. */
import type { Db } from './options.ts'
import type { Phase, PhaseResult } from './protocol.ts'

export interface Target {
  name: string
  value: number
  unit: string
  op: '>=' | '<='
  limit: number
  pass: boolean
  note?: string
}

export function target(
  name: string,
  value: number,
  unit: string,
  op: '>=' | '<=',
  limit: number,
  note?: string,
) {
  const within = op === '>=' ? value >= limit : value <= limit
  const t: Target = { name, value, unit, op, limit, pass: within && !note }
  if (note) t.note = note
  return t
}

/** A phase's figures only count when every request succeeded. */
export function failures(r: PhaseResult | undefined): string | undefined {
  if (!r) return undefined
  const bad = r.non2xx + r.errors
  return bad > 0 ? `${bad} failed requests ${JSON.stringify(r.statusCodes)}` : undefined
}

export function evaluate(
  db: Db,
  results: Partial<Record<Phase, PhaseResult>>,
  startup: { readyMs: number; idleRssMb: number; loadRssMb: number | undefined },
): Target[] {
  const targets: Target[] = []
  const { argon2, login, refresh, me } = results
  if (argon2 && login) {
    targets.push(
      target('login / raw argon2id', (login.rate / argon2.rate) * 100, '%', '>=', 85, failures(login)),
    )
  }
  if (refresh) {
    const limit = db === 'sqlite' ? 1500 : 1000
    targets.push(
      target(`refresh with rotation (${db})`, refresh.rate, 'req/s', '>=', limit, failures(refresh)),
    )
  }
  if (me) {
    targets.push(target('GET /v1/me throughput', me.rate, 'req/s', '>=', 5000, failures(me)))
    targets.push(target('GET /v1/me p99 latency', me.latencyMs.p99, 'ms', '<=', 25, failures(me)))
  }
  targets.push(target('idle RSS after start', startup.idleRssMb, 'MB', '<=', 100))
  if (startup.loadRssMb !== undefined)
    targets.push(target('peak RSS under load', startup.loadRssMb, 'MB', '<=', 250))
  if (db === 'sqlite') targets.push(target('start to ready (SQLite)', startup.readyMs, 'ms', '<=', 1500))
  return targets
}

/** Server CPU time (all threads) per successful request: comparable across runs even on a busy machine. */
export const serverCpuPerRequestUs = (r: PhaseResult) =>
  r.cpu && r.rate > 0 ? (r.cpu.server / r.rate) * 1e6 : 0

export const cpuText = (c: NonNullable<PhaseResult['cpu']>) =>
  `server ${c.server.toFixed(2)} · load ${c.load.toFixed(2)} · other ${c.other.toFixed(2)} cores`

export const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })

export function table(rows: string[][], rightAligned: number[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)))
  const line = (r: string[]) =>
    r
      .map((cell, i) => (rightAligned.includes(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
  const [head, ...body] = rows
  return [line(head!), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n')
}
