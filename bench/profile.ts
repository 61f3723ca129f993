/**
 * `node bench/profile.ts <result.json> [--phase <name>] [--top <n>]`: where the server's CPU went
 * during each measured phase of a `npm run bench -- --cpu-prof` run. The result file names the
 * profile directory and each phase's measured window (CLOCK_MONOTONIC µs, the clock of V8's
 * profile timestamps on Linux), so startup, seeding and warm-ups are left out.
 *
 * Per phase it prints the main thread's busy share, self time by package or server feature,
 * and the top functions by self and by inclusive time, as % of the busy samples. Work on the
 * libuv threadpool (argon2id) is not in a V8 profile.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { PhaseResult } from './protocol.ts'
import { fmt, table } from './report.ts'
import { REPO_ROOT } from './server.ts'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}

interface CpuProfile {
  nodes: ProfileNode[]
  startTime: number
  endTime: number
  samples: number[]
  timeDeltas: number[]
}

const NOT_WORK = new Set(['(idle)', '(program)', '(garbage collector)', '(root)'])

/** `oidc-provider/lib/…`, `server/src/oidc/…`, `node:internal/…`: short and still findable. */
function place(url: string): string {
  if (!url) return ''
  const path = url.replace(/^file:\/\//, '')
  const nm = path.lastIndexOf('/node_modules/')
  if (nm >= 0) return path.slice(nm + '/node_modules/'.length)
  if (path.startsWith(REPO_ROOT)) return path.slice(REPO_ROOT.length).replace(/^packages\//, '')
  return path
}

/** The package (or the server's feature directory, or `node`) a frame belongs to. */
function owner(url: string): string {
  const p = place(url)
  if (!p) return '(native / V8)'
  if (p.startsWith('node:')) return 'node (core)'
  const server = /^server\/src\/([^/]+)/.exec(p)
  if (server) return `tessera ${server[1]}/`
  const scoped = /^(@[^/]+\/[^/]+|[^/]+)/.exec(p)
  return scoped?.[1] ?? p
}

function summarise(profile: CpuProfile, window: [number, number] | undefined, top: number): void {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const label = (n: ProfileNode) => {
    const { functionName, url, lineNumber } = n.callFrame
    const where = place(url)
    return `${functionName || '(anonymous)'}${where ? ` ${where}:${lineNumber + 1}` : ''}`
  }

  const self = new Map<string, number>()
  const inclusive = new Map<string, number>()
  const owners = new Map<string, number>()
  let total = 0
  let busy = 0
  let gc = 0
  let t = profile.startTime
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0
    if (window && (t < window[0] || t > window[1])) continue
    const weight = profile.timeDeltas[i + 1] ?? 0
    const node = byId.get(profile.samples[i]!)!
    total += weight
    const name = node.callFrame.functionName
    if (name === '(garbage collector)') gc += weight
    if (name === '(idle)' || name === '(program)' || name === '(root)') continue
    busy += weight
    self.set(label(node), (self.get(label(node)) ?? 0) + weight)
    const own = name === '(garbage collector)' ? '(garbage collector)' : owner(node.callFrame.url)
    owners.set(own, (owners.get(own) ?? 0) + weight)
    const seen = new Set<string>()
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)!
      if (NOT_WORK.has(frame.callFrame.functionName)) continue
      const key = label(frame)
      if (seen.has(key)) continue
      seen.add(key)
      inclusive.set(key, (inclusive.get(key) ?? 0) + weight)
    }
  }
  if (total === 0) {
    console.log('  no samples in this window\n')
    return
  }
  const pct = (v: number) => `${fmt((v / busy) * 100, 1)} %`
  console.log(
    `  ${fmt(total / 1000)} ms sampled, main thread busy ${fmt((busy / total) * 100, 1)} %, ` +
      `of which garbage collection ${pct(gc)}\n`,
  )
  const rows = (m: Map<string, number>, head: string) => [
    [head, '% of busy'],
    ...[...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, v]) => [k, pct(v)]),
  ]
  console.log(`${table(rows(owners, 'self time by package / server feature'), [1])}\n`)
  console.log(`${table(rows(self, 'self time by function'), [1])}\n`)
  console.log(`${table(rows(inclusive, 'inclusive time by function'), [1])}\n`)
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { phase: { type: 'string' }, top: { type: 'string', default: '25' } },
  })
  const file = positionals[0]
  if (!file) {
    console.error('usage: node bench/profile.ts <bench/results/…json> [--phase <name>] [--top <n>]')
    process.exit(2)
  }
  const result = JSON.parse(readFileSync(file, 'utf8')) as {
    cpuProfileDir?: string
    phases: Record<string, PhaseResult>
  }
  if (!result.cpuProfileDir) throw new Error(`${file} has no cpuProfileDir: run the bench with --cpu-prof`)
  const dir = join(REPO_ROOT, result.cpuProfileDir)
  const name = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))
  if (!name) throw new Error(`no .cpuprofile in ${dir}`)
  const profile = JSON.parse(readFileSync(join(dir, name), 'utf8')) as CpuProfile
  const top = Number(values.top) || 25
  for (const [phase, r] of Object.entries(result.phases)) {
    if (values.phase && phase !== values.phase) continue
    if (!r.measuredMonotonicUs) continue
    console.log(`== ${phase}: ${fmt(r.rate, 1)}/s, ${fmt(r.seconds, 1)} s measured`)
    summarise(profile, r.measuredMonotonicUs, top)
  }
}

main()
