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
  if (bad > 0)
    return `${bad} failed ${r.phase === 'codeflow' ? 'flows' : 'requests'} ${JSON.stringify(r.statusCodes)}`
  return r.invalid ? `${r.invalid} answers without the expected token or active:true` : undefined
}

export function evaluate(
  db: Db,
  results: Partial<Record<Phase, PhaseResult>>,
  startup: { readyMs: number; idleRssMb: number; loadRssMb: number | undefined },
): Target[] {
  const targets: Target[] = []
  const { argon2, login, refresh, me, clientcredentials, introspection } = results
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
  if (clientcredentials) {
    const r = clientcredentials
    targets.push(target('client credentials (JWT) tokens', r.rate, 'req/s', '>=', 3000, failures(r)))
  }
  if (introspection) {
    const r = introspection
    targets.push(target('introspection (opaque token)', r.rate, 'req/s', '>=', 3000, failures(r)))
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

/** The main thread's share of it; undefined where /proc has no per-thread figures. */
export const mainThreadCpuPerRequestUs = (r: PhaseResult) =>
  r.cpu?.serverMainThread !== undefined && r.rate > 0 ? (r.cpu.serverMainThread / r.rate) * 1e6 : undefined

export const cpuText = (c: NonNullable<PhaseResult['cpu']>) =>
  `server ${c.server.toFixed(2)}` +
  `${c.serverMainThread === undefined ? '' : ` (main thread ${c.serverMainThread.toFixed(2)})`}` +
  ` · load ${c.load.toFixed(2)} · other ${c.other.toFixed(2)} cores`

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

/** The readable report: the phases, the startup figures, how the code flow relates to login, the targets. */
export function printReport(report: {
  phases: Phase[]
  labels: Record<Phase, string>
  results: Partial<Record<Phase, PhaseResult>>
  peakRssMb: (phase: Phase) => number | undefined
  targets: Target[]
  startup: { readyMs: number; idleRssMb: number; loadRssMb: number | undefined }
}): void {
  const { results, startup } = report
  const phaseRows = [
    [
      'phase',
      'req/s',
      'p50 ms',
      'p99 ms',
      'failed',
      'peak RSS MB',
      'server CPU µs/req',
      'main thread µs/req',
      'cores server/load/other',
    ],
  ]
  for (const phase of report.phases) {
    const r = results[phase]
    if (!r) continue
    const peak = report.peakRssMb(phase)
    phaseRows.push([
      report.labels[phase],
      fmt(r.rate, 1),
      fmt(r.latencyMs.p50, 1),
      fmt(r.latencyMs.p99, 1),
      String(r.non2xx + r.errors + (r.invalid ?? 0)),
      peak ? fmt(peak, 1) : '-',
      r.cpu && phase !== 'argon2' ? fmt(serverCpuPerRequestUs(r)) : '-',
      phase !== 'argon2' && mainThreadCpuPerRequestUs(r) !== undefined
        ? fmt(mainThreadCpuPerRequestUs(r)!)
        : '-',
      r.cpu ? `${r.cpu.server.toFixed(2)} / ${r.cpu.load.toFixed(2)} / ${r.cpu.other.toFixed(2)}` : '-',
    ])
  }
  const targetRows = [['target', 'figure', 'limit', 'result']]
  for (const t of report.targets) {
    const digits = t.unit === 'MB' || t.unit === '%' ? 1 : 0
    targetRows.push([
      t.name,
      `${fmt(t.value, digits)} ${t.unit}`,
      `${t.op === '>=' ? '≥' : '≤'} ${fmt(t.limit)} ${t.unit}`,
      t.pass ? 'PASS' : `FAIL${t.note ? ` (${t.note})` : ''}`,
    ])
  }
  console.log(`\n${table(phaseRows, [1, 2, 3, 4, 5, 6, 7, 8])}\n`)
  const flow = results.codeflow
  if (flow?.codeFlow) {
    const { consentAsked, consentRemembered, requestsPerFlow, stepP50Ms, firstFlows } = flow.codeFlow
    const steps = Object.entries(stepP50Ms)
      .filter(([step]) => step !== 'consent' || consentAsked > 0)
      .map(([step, ms]) => `${step} ${fmt(ms, 1)}`)
      .join(' · ')
    const vsLogin = results.login
      ? ` = ${fmt((flow.rate / results.login.rate) * 100, 1)} % of the login rate;`
      : ';'
    const first = firstFlows
      ? `\n  first flows (warm-up, consent page shown): ${firstFlows.flows}, p50 ${fmt(firstFlows.p50Ms, 1)} ms, ` +
        `p99 ${fmt(firstFlows.p99Ms, 1)} ms, consent step p50 ${fmt(firstFlows.consentStepP50Ms, 1)} ms`
      : ''
    console.log(
      `code flow: ${fmt(flow.rate, 1)} flows/s${vsLogin} ${fmt(requestsPerFlow, 1)} requests and one argon2id ` +
        `per flow; consent remembered ${consentRemembered}, shown ${consentAsked}\n` +
        `  step p50 ms: ${steps}${first}\n`,
    )
  }
  console.log(
    `start to ready ${fmt(startup.readyMs)} ms · idle RSS ${fmt(startup.idleRssMb, 1)} MB · ` +
      `peak RSS under load ${startup.loadRssMb === undefined ? '-' : fmt(startup.loadRssMb, 1)} MB\n`,
  )
  console.log(`${table(targetRows, [1, 2])}\n`)
}
