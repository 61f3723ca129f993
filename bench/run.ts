/**
 * `npm run bench [-- --db postgres] [--duration 10]`: starts a Tessera server on a fresh
 * database, drives it from a separate load-generator process, and prints and saves
 * (bench/results/<timestamp>-<db>.json) throughput, latency and memory against the targets.
 * See bench/README.md.
 */
import { execFileSync, fork } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { join, relative } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseOptions, threadpoolSize, USAGE, UsageError } from './options.ts'
import { DEFAULT_PG_URL, dropDatabase, freshDatabase, serverVersion } from './pg.ts'
import type { HttpPhase, Job, LoadMessage, Phase, PhaseResult } from './protocol.ts'
import {
  cpuText,
  evaluate,
  failures,
  fmt,
  mainThreadCpuPerRequestUs,
  printReport,
  serverCpuPerRequestUs,
} from './report.ts'
import {
  BENCH_API,
  BENCH_CODE_FLOW_SCOPE,
  BENCH_PASSWORD,
  BENCH_REDIRECT_URI,
  type OidcFixtures,
  seedAccounts,
  seedOidc,
} from './seed.ts'
import {
  cpuMeter,
  createRssSampler,
  machineBusyCores,
  type PreparedServer,
  prepareServer,
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
  clientcredentials: 'POST /oidc/token (client credentials)',
  introspection: 'POST /oidc/token/introspection',
  codeflow: 'authorization code flow (flows)',
}
const OIDC_PHASES: Phase[] = ['clientcredentials', 'introspection', 'codeflow']
/** Opaque access tokens the introspection phase cycles through. */
const INTROSPECTED_TOKENS = 200
const MB = 1024 * 1024
/** CLOCK_MONOTONIC in µs, the clock of V8 CPU profile timestamps on Linux (bench/profile.ts). */
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n)
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
  let prepared: PreparedServer
  try {
    prepared = prepareServer(options.serverDir, options.fromSource)
    console.log(
      prepared.buildMs === undefined
        ? `server: ${prepared.main} (from the sources)`
        : `server: ${prepared.main}, built in ${fmt(prepared.buildMs)} ms (npm start's first step; not part of start to ready)`,
    )
    await warmUpFetch()
    server = await startServer({
      serverDir: options.serverDir,
      main: prepared.main,
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
    let oidc: OidcFixtures | undefined
    if (options.phases.some((p) => OIDC_PHASES.includes(p))) {
      oidc = await seedOidc(server)
      console.log('registered an administrator (tessera admin create), an API resource and 3 OAuth clients')
    }

    const base = { duration: options.duration, warmup: options.warmup }
    const jobFor = async (phase: Phase): Promise<Job> => {
      if (phase === 'argon2')
        return { ...base, phase, concurrency: pool, warmup: Math.min(1, options.warmup) }
      if (phase === 'codeflow')
        return {
          ...base,
          phase,
          baseUrl: server.baseUrl,
          concurrency: options.loginConnections,
          emails: seeded.emails,
          password: BENCH_PASSWORD,
          client: oidc!.webApp,
          redirectUri: BENCH_REDIRECT_URI,
          scope: BENCH_CODE_FLOW_SCOPE,
        }
      const http = { ...base, phase: phase as HttpPhase, baseUrl: server.baseUrl }
      switch (phase) {
        case 'login':
          return {
            ...http,
            connections: options.loginConnections,
            emails: seeded.emails,
            password: BENCH_PASSWORD,
          }
        case 'refresh':
          return { ...http, connections: options.connections, refreshTokens: seeded.refreshTokens }
        case 'me':
          return { ...http, connections: options.connections, accessToken: seeded.accessToken }
        case 'clientcredentials':
          return {
            ...http,
            connections: options.connections,
            client: oidc!.service,
            resource: BENCH_API.audience,
            scope: BENCH_API.scope,
          }
        case 'introspection':
          // Minted now, so that no token expires during the phase however long the run before it.
          return {
            ...http,
            connections: options.connections,
            client: oidc!.resourceServer,
            tokens: await oidc!.opaqueTokens(INTROSPECTED_TOKENS),
          }
        default:
          return { ...http, connections: options.connections }
      }
    }
    for (const phase of options.phases) {
      if (options.waitQuiet > 0) {
        await awaitQuiet(async () => {
          const stop = cpu.start()
          await sleep(1000)
          return stop()?.other
        })
      }
      sampler.phase(phase)
      const job = await jobFor(phase)
      let stopMeter: (() => PhaseResult['cpu']) | undefined
      let measuredFrom = 0
      const r = await load.run(job, () => {
        stopMeter = cpu.start()
        measuredFrom = monotonicUs()
      })
      const share = stopMeter?.()
      if (cpuProfileDir) r.measuredMonotonicUs = [measuredFrom, monotonicUs()]
      if (share) r.cpu = share
      if (share && share.other > BUSY_CORES) {
        warnings.push(`${phase}: other processes used ${share.other.toFixed(2)} cores during the measurement`)
      }
      results[phase] = r
      const bad = failures(r)
      console.log(
        `${PHASE_LABELS[phase].padEnd(38)} ${fmt(r.rate, 1).padStart(9)} /s  p50 ${fmt(r.latencyMs.p50, 1)} ms` +
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

  printReport({
    phases: options.phases,
    labels: PHASE_LABELS,
    results,
    peakRssMb: (p) => (p === 'argon2' ? undefined : (sampler.peak(p) ?? 0) / MB || undefined),
    targets,
    startup: { readyMs: server.readyMs, idleRssMb, loadRssMb },
  })
  for (const w of warnings) console.warn(`warning: ${w}`)
  if (warnings.length > 0) console.warn('warning: the machine was not quiet; rerun when it is\n')
  const pass = targets.every((t) => t.pass)
  const report = {
    schema: 'tessera-bench/1',
    startedAt: new Date().toISOString(),
    revision: gitRevision(options.serverDir),
    serverDir: options.serverDir,
    server: { main: prepared.main, buildMs: prepared.buildMs },
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
              ...(r.cpu && p !== 'argon2'
                ? {
                    serverCpuPerRequestUs: serverCpuPerRequestUs(r),
                    mainThreadCpuPerRequestUs: mainThreadCpuPerRequestUs(r),
                  }
                : {}),
            },
          ],
        ]
      }),
    ),
    ...(results.argon2 && results.login
      ? { loginToArgon2Ratio: results.login.rate / results.argon2.rate }
      : {}),
    ...(results.codeflow && results.login
      ? { codeFlowToLoginRatio: results.codeflow.rate / results.login.rate }
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
