/**
 * `npm run bench [-- --db postgres] [--duration 10]`: starts a Tessera server on a fresh
 * database, drives it from a separate load-generator process, and prints and saves
 * (bench/results/<timestamp>-<db>.json) throughput, latency and memory against the targets.
 * See bench/README.md.
 */
import { execFileSync, fork } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { join, relative } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseOptions, threadpoolSize, USAGE, UsageError } from './options.ts'
import { DEFAULT_PG_URL, dropDatabase, freshDatabase, serverVersion } from './pg.ts'
import type { HttpPhase, Job, LoadMessage, Phase, PhaseResult } from './protocol.ts'
import { cpuText, evaluate, failures, fmt, serverCpuPerRequestUs, table } from './report.ts'
import {
  cpuMeter,
  createRssSampler,
  machineBusyCores,
  REPO_ROOT,
  rssBytes,
  startServer,
  warmUpFetch,
} from './server.ts'

const PHASE_LABELS: Record<Phase, string> = {
  argon2: 'argon2id (raw, in-process)',
  login: 'POST /v1/auth/login',
  refresh: 'POST /v1/auth/refresh (rotation)',
  me: 'GET /v1/me',
  jwks: 'GET /.well-known/jwks.json',
}
const MB = 1024 * 1024
const BENCH_PASSWORD = 'tessera-bench-correct-horse-battery'
/** Cores used by other processes above which the figures are flagged as disturbed. */
const BUSY_CORES = 0.25
/** Guards against a hung load process: a phase may take this much longer than planned. */
const JOB_GRACE_MS = 60_000

/** The load generator, a separate process; one job at a time. */
function startLoadProcess() {
  const child = fork(new URL('./load.ts', import.meta.url).pathname, [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  return {
    pid: child.pid,
    /** Runs `job`; `onMeasuring` is called when its warm-up is over and the measured part starts. */
    run(job: Job, onMeasuring: () => void): Promise<PhaseResult> {
      return new Promise((resolve, reject) => {
        const limit = (job.warmup + job.duration) * 1000 + JOB_GRACE_MS
        const timer = setTimeout(() => fail(new Error(`${job.phase}: no result after ${limit} ms`)), limit)
        const onExit = (code: number | null) => fail(new Error(`the load process exited (${code})`))
        const onMessage = (message: LoadMessage) => {
          if (message.kind === 'measuring') return onMeasuring()
          cleanup()
          if (message.kind === 'result') resolve(message.result)
          else reject(new Error(`${job.phase}: ${message.error}`))
        }
        const cleanup = () => {
          clearTimeout(timer)
          child.off('message', onMessage)
          child.off('exit', onExit)
        }
        const fail = (err: Error) => {
          cleanup()
          reject(err)
        }
        child.on('message', onMessage)
        child.once('exit', onExit)
        child.send(job)
      })
    },
    stop() {
      if (child.connected) child.disconnect()
      if (child.exitCode === null) child.kill('SIGTERM')
    },
  }
}

interface Seeded {
  emails: string[]
  refreshTokens: string[]
  accessToken: string
}

/** Registers `count` accounts through the API, `concurrency` at a time; returns their tokens. */
async function seedAccounts(baseUrl: string, count: number, concurrency: number): Promise<Seeded> {
  const runId = randomBytes(4).toString('hex')
  const bodies: { email: string; refreshToken: string; accessToken: string }[] = []
  let next = 0
  const worker = async () => {
    while (next < count) {
      const email = `bench-${runId}-${next++}@example.com`
      const res = await fetch(`${baseUrl}/v1/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password: BENCH_PASSWORD, name: 'Bench User' }),
        signal: AbortSignal.timeout(30_000),
      })
      const body = (await res.json()) as { refreshToken?: string; accessToken?: string }
      if (res.status !== 201 || !body.refreshToken || !body.accessToken) {
        throw new Error(`register ${email}: ${res.status} ${JSON.stringify(body)}`)
      }
      bodies.push({ email, refreshToken: body.refreshToken, accessToken: body.accessToken })
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  // The first account's session serves GET /v1/me and is never refreshed, so it cannot be revoked.
  const [me, ...rest] = bodies
  return {
    emails: bodies.map((b) => b.email),
    refreshTokens: rest.map((b) => b.refreshToken),
    accessToken: me!.accessToken,
  }
}

function gitRevision(dir: string): string | undefined {
  try {
    const git = (...args: string[]) =>
      execFileSync('git', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    const rev = git('rev-parse', '--short', 'HEAD')
    const dirty = git('status', '--porcelain')
    return dirty ? `${rev}-dirty` : rev
  } catch {
    return undefined
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2))
  const { db } = options
  const pool = threadpoolSize()
  const resultsDir = join(REPO_ROOT, 'bench/results')
  mkdirSync(resultsDir, { recursive: true })
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  const dataDir = mkdtempSync(join(os.tmpdir(), 'tessera-bench-'))
  const cpuProfileDir = options.cpuProf ? join(resultsDir, 'profiles', `${stamp}-${db}`) : undefined

  const adminUrl = process.env.DATABASE_URL || DEFAULT_PG_URL
  let databaseUrl: string | undefined
  let pgVersion: string | undefined
  if (db === 'postgres') {
    pgVersion = await serverVersion(adminUrl)
    databaseUrl = await freshDatabase(adminUrl)
  }

  const cpus = os.cpus()
  console.log(
    `Tessera bench: ${db}${pgVersion ? ` ${pgVersion}` : ''}, ${cpus.length} × ${cpus[0]?.model ?? 'cpu'}, ` +
      `Node ${process.version}, libuv threadpool ${pool}, ${options.duration} s per phase (+${options.warmup} s warm-up)`,
  )

  const warnings: string[] = []
  const quietDeadline = performance.now() + options.waitQuiet * 1000
  /** Waits (within the --wait-quiet budget) until other processes leave the CPU; returns their cores. */
  const awaitQuiet = async (othersBusy: () => Promise<number | undefined>) => {
    for (;;) {
      const busy = await othersBusy()
      if (busy === undefined || busy <= BUSY_CORES || performance.now() > quietDeadline) return busy
      console.log(`waiting for a quiet machine: other processes keep ${busy.toFixed(2)} cores busy`)
    }
  }
  const busyBefore = await awaitQuiet(() => machineBusyCores(1000))
  if (busyBefore !== undefined && busyBefore > BUSY_CORES) {
    warnings.push(`before the run, other processes kept ${busyBefore.toFixed(2)} cores busy`)
    console.warn(`warning: ${warnings.at(-1)}; the figures will be low`)
  }

  const load = startLoadProcess()
  const cleanUp = async () => {
    load.stop()
    if (db === 'postgres' && !options.keep) await dropDatabase(adminUrl).catch(() => {})
    if (!options.keep) rmSync(dataDir, { recursive: true, force: true })
  }
  let server: Awaited<ReturnType<typeof startServer>>
  try {
    await warmUpFetch()
    server = await startServer({
      serverDir: options.serverDir,
      dataDir,
      databaseUrl,
      cpuProfileDir,
      env: options.serverEnv,
    })
  } catch (err) {
    await cleanUp()
    throw err
  }
  const sampler = createRssSampler(server.pid)
  const cpu = cpuMeter(server.pid, load.pid)
  const results: Partial<Record<Phase, PhaseResult>> = {}
  let idleRssMb = 0
  try {
    console.log(`ready in ${fmt(server.readyMs)} ms (pid ${server.pid}, ${server.baseUrl})`)
    sampler.phase('idle')
    await sleep(1000)
    idleRssMb = (rssBytes(server.pid) ?? 0) / MB
    console.log(`idle RSS ${fmt(idleRssMb, 1)} MB`)

    sampler.phase('seed')
    const chains = 2 * options.connections + Math.max(8, options.connections) // two runs + spares
    const seeded = await seedAccounts(server.baseUrl, 1 + Math.max(64, chains), pool)
    console.log(`seeded ${seeded.emails.length} accounts`)

    const base = { duration: options.duration, warmup: options.warmup }
    for (const phase of options.phases) {
      if (options.waitQuiet > 0) {
        await awaitQuiet(async () => {
          const stop = cpu.start()
          await sleep(1000)
          return stop()?.other
        })
      }
      sampler.phase(phase)
      const job: Job =
        phase === 'argon2'
          ? { ...base, phase, concurrency: pool, warmup: Math.min(1, options.warmup) }
          : {
              ...base,
              phase: phase as HttpPhase,
              baseUrl: server.baseUrl,
              connections: phase === 'login' ? options.loginConnections : options.connections,
              ...(phase === 'login' ? { emails: seeded.emails, password: BENCH_PASSWORD } : {}),
              ...(phase === 'refresh' ? { refreshTokens: seeded.refreshTokens } : {}),
              ...(phase === 'me' ? { accessToken: seeded.accessToken } : {}),
            }
      let stopMeter: (() => PhaseResult['cpu']) | undefined
      const r = await load.run(job, () => {
        stopMeter = cpu.start()
      })
      const share = stopMeter?.()
      if (share) r.cpu = share
      if (share && share.other > BUSY_CORES) {
        warnings.push(`${phase}: other processes used ${share.other.toFixed(2)} cores during the measurement`)
      }
      results[phase] = r
      const bad = failures(r)
      console.log(
        `${PHASE_LABELS[phase].padEnd(34)} ${fmt(r.rate, 1).padStart(9)} /s  p50 ${fmt(r.latencyMs.p50, 1)} ms` +
          `  p99 ${fmt(r.latencyMs.p99, 1)} ms${share ? `  cpu ${cpuText(share)}` : ''}${bad ? `  (${bad})` : ''}`,
      )
    }
    sampler.phase('done')
  } finally {
    sampler.stop()
    await server.stop()
    await cleanUp()
  }

  const loadPhases = options.phases.filter((p) => p !== 'argon2')
  const loadRssBytes = sampler.peakOf(['seed', ...loadPhases])
  const loadRssMb = loadRssBytes > 0 ? loadRssBytes / MB : undefined
  const targets = evaluate(db, results, { readyMs: server.readyMs, idleRssMb, loadRssMb })

  // The readable report.
  const phaseRows = [
    [
      'phase',
      'req/s',
      'p50 ms',
      'p99 ms',
      'failed',
      'peak RSS MB',
      'server CPU µs/req',
      'cores server/load/other',
    ],
  ]
  for (const phase of options.phases) {
    const r = results[phase]
    if (!r) continue
    const peak = phase === 'argon2' ? undefined : sampler.peak(phase)
    phaseRows.push([
      PHASE_LABELS[phase],
      fmt(r.rate, 1),
      fmt(r.latencyMs.p50, 1),
      fmt(r.latencyMs.p99, 1),
      String(r.non2xx + r.errors),
      peak ? fmt(peak / MB, 1) : '-',
      r.cpu && phase !== 'argon2' ? fmt(serverCpuPerRequestUs(r)) : '-',
      r.cpu ? `${r.cpu.server.toFixed(2)} / ${r.cpu.load.toFixed(2)} / ${r.cpu.other.toFixed(2)}` : '-',
    ])
  }
  const targetRows = [['target', 'figure', 'limit', 'result']]
  for (const t of targets) {
    const digits = t.unit === 'MB' || t.unit === '%' ? 1 : 0
    targetRows.push([
      t.name,
      `${fmt(t.value, digits)} ${t.unit}`,
      `${t.op === '>=' ? '≥' : '≤'} ${fmt(t.limit)} ${t.unit}`,
      t.pass ? 'PASS' : `FAIL${t.note ? ` (${t.note})` : ''}`,
    ])
  }
  console.log(`\n${table(phaseRows, [1, 2, 3, 4, 5, 6, 7])}\n`)
  console.log(
    `start to ready ${fmt(server.readyMs)} ms · idle RSS ${fmt(idleRssMb, 1)} MB · ` +
      `peak RSS under load ${loadRssMb === undefined ? '-' : fmt(loadRssMb, 1)} MB\n`,
  )
  console.log(`${table(targetRows, [1, 2])}\n`)

  for (const w of warnings) console.warn(`warning: ${w}`)
  if (warnings.length > 0) console.warn('warning: the machine was not quiet; rerun when it is\n')
  const pass = targets.every((t) => t.pass)
  const report = {
    schema: 'tessera-bench/1',
    startedAt: new Date().toISOString(),
    revision: gitRevision(options.serverDir),
    serverDir: options.serverDir,
    db,
    ...(pgVersion ? { postgresVersion: pgVersion } : {}),
    machine: {
      platform: `${os.platform()} ${os.release()}`,
      arch: os.arch(),
      cpus: cpus.length,
      cpuModel: cpus[0]?.model,
      memoryMb: Math.round(os.totalmem() / MB),
      node: process.version,
      libuvThreadpool: pool,
    },
    options: {
      duration: options.duration,
      warmup: options.warmup,
      connections: options.connections,
      loginConnections: options.loginConnections,
      phases: options.phases,
      serverEnv: options.serverEnv,
    },
    startup: {
      readyMs: server.readyMs,
      idleRssMb,
      peakRssUnderLoadMb: loadRssMb,
    },
    phases: Object.fromEntries(
      options.phases.flatMap((p) => {
        const r = results[p]
        if (!r) return []
        const peak = p === 'argon2' ? undefined : sampler.peak(p)
        return [
          [
            p,
            {
              ...r,
              label: PHASE_LABELS[p],
              ...(peak ? { peakRssMb: peak / MB } : {}),
              ...(r.cpu && p !== 'argon2' ? { serverCpuPerRequestUs: serverCpuPerRequestUs(r) } : {}),
            },
          ],
        ]
      }),
    ),
    ...(results.argon2 && results.login
      ? { loginToArgon2Ratio: results.login.rate / results.argon2.rate }
      : {}),
    targets,
    pass,
    warnings,
    ...(cpuProfileDir ? { cpuProfileDir: relative(REPO_ROOT, cpuProfileDir) } : {}),
  }
  const out = options.out ?? join(resultsDir, `${stamp}-${db}.json`)
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`)
  console.log(`${pass ? 'all targets met' : 'TARGETS MISSED'}; results in ${relative(process.cwd(), out)}`)
  if (cpuProfileDir) console.log(`server CPU profile in ${relative(process.cwd(), cpuProfileDir)}`)
  if (!pass && options.fail) process.exitCode = 1
}

main().catch((err: unknown) => {
  console.error(err instanceof UsageError ? `bench: ${err.message}\n\n${USAGE}` : err)
  process.exitCode = err instanceof UsageError ? 2 : 1
})
