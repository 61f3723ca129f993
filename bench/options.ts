/** The command line of `npm run bench`: USAGE, Options and parseOptions. */
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { BENCH_DATABASE, DEFAULT_PG_URL } from './pg.ts'
import type { Phase } from './protocol.ts'
import { REPO_ROOT } from './server.ts'

export const USAGE = `usage: npm run bench -- [options]

  --db sqlite|postgres   database (default sqlite; postgres uses DATABASE_URL or
                         ${DEFAULT_PG_URL}, in a fresh database "${BENCH_DATABASE}")
  --duration <s>         measured seconds per phase (default 10)
  --warmup <s>           unmeasured seconds before each phase (default 2)
  --connections <n>      connections for refresh, /v1/me, JWKS, client credentials and
                         introspection (default 10)
  --login-connections <n>  connections for login, and browsers at once for the code flow
                         (default 2 × the libuv threadpool size)
  --only <phases>        comma-separated subset of: argon2,login,refresh,me,jwks,
                         clientcredentials,introspection,codeflow (default: all)
  --cpu-prof             write a V8 CPU profile of the server into bench/results/profiles/
  --env KEY=VALUE        extra server environment, repeatable (e.g. TESSERA_SIGNING_ALG=ES256)
  --server-dir <dir>     run the server of another checkout (default: this repository)
  --from-source          run the server from its TypeScript sources (packages/server/bin/tessera.js)
                         instead of building it as \`npm start\` does
  --out <file>           result file (default bench/results/<timestamp>-<db>.json)
  --wait-quiet <s>       before the run and each phase, wait up to <s> seconds (in all) for other
                         processes to leave the CPU (default 0: do not wait, only warn)
  --keep                 keep the temporary data directory / PostgreSQL database
  --no-fail              exit 0 even when a target is missed`

const ALL_PHASES: Phase[] = [
  'argon2',
  'login',
  'refresh',
  'me',
  'jwks',
  'clientcredentials',
  'introspection',
  'codeflow',
]

export type Db = 'sqlite' | 'postgres'

export interface Options {
  db: Db
  duration: number
  warmup: number
  connections: number
  loginConnections: number
  phases: Phase[]
  cpuProf: boolean
  out: string | undefined
  serverDir: string
  fromSource: boolean
  serverEnv: Record<string, string>
  keep: boolean
  waitQuiet: number
  fail: boolean
}

export class UsageError extends Error {}

function positiveInt(name: string, raw: string | undefined, fallback: number, min = 1): number {
  if (raw === undefined) return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min || n > 100_000)
    throw new UsageError(`--${name}: expected an integer ≥ ${min}`)
  return n
}

/** libuv's threadpool size: the number of argon2id computations the server runs at once. */
export function threadpoolSize(): number {
  const n = Number(process.env.UV_THREADPOOL_SIZE)
  return Number.isInteger(n) && n >= 1 ? Math.min(n, 1024) : 4
}

export function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      db: { type: 'string', default: 'sqlite' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      'login-connections': { type: 'string' },
      only: { type: 'string' },
      'cpu-prof': { type: 'boolean', default: false },
      out: { type: 'string' },
      'server-dir': { type: 'string' },
      'from-source': { type: 'boolean', default: false },
      env: { type: 'string', multiple: true },
      keep: { type: 'boolean', default: false },
      'wait-quiet': { type: 'string' },
      'no-fail': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) {
    console.log(USAGE)
    process.exit(0)
  }
  if (values.db !== 'sqlite' && values.db !== 'postgres') throw new UsageError('--db: sqlite or postgres')
  const phases = values.only ? values.only.split(',').map((p) => p.trim()) : ALL_PHASES
  for (const p of phases)
    if (!ALL_PHASES.includes(p as Phase)) throw new UsageError(`--only: unknown phase ${p}`)
  return {
    db: values.db,
    duration: positiveInt('duration', values.duration, 10),
    warmup: positiveInt('warmup', values.warmup, 2, 0),
    connections: positiveInt('connections', values.connections, 10),
    loginConnections: positiveInt('login-connections', values['login-connections'], 2 * threadpoolSize()),
    phases: ALL_PHASES.filter((p) => phases.includes(p)),
    cpuProf: values['cpu-prof'],
    out: values.out,
    serverDir: resolve(values['server-dir'] ?? REPO_ROOT),
    fromSource: values['from-source'],
    serverEnv: Object.fromEntries(
      (values.env ?? []).map((pair) => {
        const at = pair.indexOf('=')
        if (at < 1) throw new UsageError(`--env: expected KEY=VALUE, got ${pair}`)
        return [pair.slice(0, at), pair.slice(at + 1)]
      }),
    ),
    keep: values.keep,
    waitQuiet: positiveInt('wait-quiet', values['wait-quiet'], 0, 0),
    fail: !values['no-fail'],
  }
}
