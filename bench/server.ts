/**
 * The server under test: built as `npm start` builds it, spawned as
 * `node packages/server/dist/tessera.js start` with the benchmark's environment, timed from spawn
 * to the first `GET /readyz` 200, sampled for RSS, and stopped with SIGTERM (SIGKILL if it does
 * not exit).
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { CpuShare } from './protocol.ts'

export const REPO_ROOT = new URL('..', import.meta.url).pathname
const SOURCE_MAIN = 'packages/server/bin/tessera.js'
const BUILT_MAIN = 'packages/server/dist/tessera.js'
const BUILD_SCRIPT = 'packages/server/scripts/build.ts'
const READY_TIMEOUT_MS = 30_000
const READY_POLL_MS = 5
const STOP_TIMEOUT_MS = 10_000

export interface ServerOptions {
  /** The checkout whose server runs (default: this one). */
  serverDir: string
  /** The `tessera` command to run, relative to serverDir (prepareServer). */
  main: string
  dataDir: string
  databaseUrl?: string | undefined
  /** Extra environment, applied last (experiments such as TESSERA_SIGNING_ALG=ES256). */
  env?: Record<string, string>
  /** Write a V8 CPU profile (.cpuprofile) into this directory when the server exits. */
  cpuProfileDir?: string | undefined
}

export interface RunningServer {
  pid: number
  baseUrl: string
  /** Spawn → first /readyz 200, milliseconds. */
  readyMs: number
  logFile: string
  /** Runs `tessera <args>` on the server's database and environment; resolves with its stdout. */
  cli(args: string[], stdin?: string): Promise<string>
  stop(): Promise<void>
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      const port = typeof address === 'object' && address ? address.port : 0
      probe.close(() => (port ? resolve(port) : reject(new Error('no free port'))))
    })
  })
}

/** The server's environment: nothing inherited from TESSERA_* or DATABASE_URL, rate limits raised. */
function serverEnv(port: number, options: ServerOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (name.startsWith('TESSERA_') || ['DATABASE_URL', 'REDIS_URL', 'NODE_ENV'].includes(name)) continue
    env[name] = value
  }
  return {
    ...env,
    TESSERA_PORT: String(port),
    TESSERA_HOST: '127.0.0.1',
    TESSERA_PUBLIC_URL: `http://127.0.0.1:${port}`,
    TESSERA_DATA_DIR: options.dataDir,
    TESSERA_MASTER_KEY: randomBytes(32).toString('base64url'),
    TESSERA_AUTH_RATE_LIMIT: '1000000000',
    TESSERA_LOGIN_MAX_FAILURES: '1000000',
    TESSERA_LOG_LEVEL: 'warn',
    ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
    ...options.env,
  }
}

async function isReady(baseUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(1000) })
    await res.arrayBuffer()
    return res.status === 200
  } catch {
    return false
  }
}

/** Loads fetch (undici) before the clock starts, so its first-use cost is not charged to the server. */
export async function warmUpFetch(): Promise<void> {
  await isReady(`http://127.0.0.1:${await freePort()}`)
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()))
}

export interface PreparedServer {
  main: string
  /** How long the build took; undefined when the server runs from its sources. */
  buildMs: number | undefined
}

/**
 * Builds the server of `serverDir` as `npm start` does and names the command to run: the build,
 * or the sources when asked, or when the checkout predates the build.
 */
export function prepareServer(serverDir: string, fromSource: boolean): PreparedServer {
  if (fromSource || !existsSync(join(serverDir, BUILD_SCRIPT)))
    return { main: SOURCE_MAIN, buildMs: undefined }
  const started = performance.now()
  // A failed build throws with its stderr in the message.
  execFileSync(process.execPath, [BUILD_SCRIPT], { cwd: serverDir, stdio: ['ignore', 'ignore', 'pipe'] })
  return { main: BUILT_MAIN, buildMs: performance.now() - started }
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const port = await freePort()
  const baseUrl = `http://127.0.0.1:${port}`
  const logFile = join(options.dataDir, 'server.log')
  const log = openSync(logFile, 'a')
  // The same V8 flags as `npm start` and the `tessera` command (see packages/server/bin/tessera.js).
  const nodeArgs = [
    '--max-semi-space-size=8',
    '--heap-growing-percent=50',
    ...(options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : []),
  ]

  const env = serverEnv(port, options)
  const started = performance.now()
  const child = spawn(process.execPath, [...nodeArgs, join(options.serverDir, options.main), 'start'], {
    cwd: options.serverDir,
    env,
    stdio: ['ignore', log, log],
  })
  closeSync(log)
  let exitedEarly = false
  child.once('exit', () => {
    exitedEarly = true
  })

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const done = exited(child)
    child.kill('SIGTERM')
    const timer = sleep(STOP_TIMEOUT_MS).then(() => 'timeout' as const)
    if ((await Promise.race([done, timer])) === 'timeout') {
      child.kill('SIGKILL')
      await done
    }
  }

  const deadline = started + READY_TIMEOUT_MS
  while (!(await isReady(baseUrl))) {
    if (exitedEarly || performance.now() > deadline) {
      await stop()
      const tail = readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n')
      throw new Error(`the server did not become ready (see ${logFile}):\n${tail}`)
    }
    await sleep(READY_POLL_MS)
  }
  const readyMs = performance.now() - started
  if (child.pid === undefined) throw new Error('the server has no pid')
  const cli = (args: string[], stdin?: string) =>
    new Promise<string>((resolve, reject) => {
      const command = execFile(
        process.execPath,
        [join(options.serverDir, options.main), ...args],
        { cwd: options.serverDir, env, timeout: 60_000 },
        (err, stdout, stderr) =>
          err ? reject(new Error(`tessera ${args.join(' ')}: ${err.message}\n${stderr}`)) : resolve(stdout),
      )
      command.stdin?.end(stdin ?? '')
    })
  return { pid: child.pid, baseUrl, readyMs, logFile, cli, stop }
}

/** Resident set size of a process in bytes: /proc on Linux, `ps` elsewhere; undefined once it is gone. */
export function rssBytes(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1]
    if (kb) return Number(kb) * 1024
  } catch {
    // not Linux, or the process has exited
  }
  try {
    const kb = Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim())
    return Number.isFinite(kb) && kb > 0 ? kb * 1024 : undefined
  } catch {
    return undefined
  }
}

/** Samples a process's RSS on an interval and keeps the peak per labelled phase. */
export function createRssSampler(pid: number, intervalMs = 50) {
  const peaks = new Map<string, number>()
  let label = 'startup'
  const sample = () => {
    const rss = rssBytes(pid)
    if (rss !== undefined && rss > (peaks.get(label) ?? 0)) peaks.set(label, rss)
    return rss
  }
  const timer = setInterval(sample, intervalMs)
  timer.unref()
  return {
    /** Samples now and attributes the following samples to `next`. */
    phase(next: string) {
      sample()
      label = next
      sample()
    },
    sample,
    peak: (phase: string) => peaks.get(phase),
    peakOf: (phases: string[]) => Math.max(0, ...phases.map((p) => peaks.get(p) ?? 0)),
    stop() {
      sample()
      clearInterval(timer)
    },
  }
}

const CLOCK_TICKS_PER_SECOND = 100

/**
 * CPU seconds used so far by one process (all its threads), or by one of its threads (`tid`;
 * the main thread's is the pid), from /proc; undefined elsewhere.
 */
function processCpuSeconds(pid: number, tid?: number): number | undefined {
  try {
    const stat = readFileSync(
      tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`,
      'utf8',
    )
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND
  } catch {
    return undefined
  }
}

/** Busy CPU seconds of the whole machine (all cores), from /proc/stat. */
function machineBusySeconds(): number | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? ''
    const [, ...ticks] = line.trim().split(/\s+/).map(Number)
    const total = ticks.slice(0, 8).reduce((a, b) => a + b, 0)
    const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0)
    return (total - idle) / CLOCK_TICKS_PER_SECOND
  } catch {
    return undefined
  }
}

/**
 * Where the machine's CPU went during an interval: the server, the load generator and everything
 * else. A high `other` means something outside the benchmark competed for the cores.
 */
export function cpuMeter(serverPid: number, loadPid: number | undefined) {
  const read = () => ({
    at: performance.now(),
    server: processCpuSeconds(serverPid),
    serverMain: processCpuSeconds(serverPid, serverPid),
    load: loadPid === undefined ? 0 : processCpuSeconds(loadPid),
    machine: machineBusySeconds(),
  })
  return {
    start() {
      const before = read()
      return (): CpuShare | undefined => {
        const after = read()
        const seconds = (after.at - before.at) / 1000
        if (
          seconds <= 0 ||
          before.server === undefined ||
          after.server === undefined ||
          before.load === undefined ||
          after.load === undefined ||
          before.machine === undefined ||
          after.machine === undefined
        )
          return undefined
        const server = (after.server - before.server) / seconds
        const load = (after.load - before.load) / seconds
        const machine = (after.machine - before.machine) / seconds
        const share: CpuShare = { server, load, other: Math.max(0, machine - server - load) }
        if (before.serverMain !== undefined && after.serverMain !== undefined)
          share.serverMainThread = (after.serverMain - before.serverMain) / seconds
        return share
      }
    },
  }
}

/** Average cores busy on the whole machine over `ms` (before the benchmark starts anything). */
export async function machineBusyCores(ms: number): Promise<number | undefined> {
  const before = machineBusySeconds()
  const t0 = performance.now()
  await sleep(ms)
  const after = machineBusySeconds()
  if (before === undefined || after === undefined) return undefined
  return (after - before) / ((performance.now() - t0) / 1000)
}
