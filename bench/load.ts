/**
 * The load generator: a separate process (forked by run.ts) so that the server's figures are
 * not mixed with the client's own work. It runs one job per IPC message and answers with a
 * PhaseResult: autocannon for the HTTP phases, browser-like flows for the authorization code
 * flow (codeflow.ts), a bounded loop of argon2id verifies for the raw hash rate.
 */
import autocannon from 'autocannon'
import { createPasswordHasher, OWASP_ARGON2ID } from '../packages/server/src/passwords/hasher.ts'
import { runCodeFlow } from './codeflow.ts'
import {
  type Argon2Job,
  basicAuth,
  type HttpJob,
  type Job,
  type LoadMessage,
  type PhaseResult,
} from './protocol.ts'

const JSON_HEADERS = { 'content-type': 'application/json' }
const FORM = 'application/x-www-form-urlencoded'
/** No phase may run away: a hard cap on argon2 operations, whatever the duration. */
const MAX_ARGON2_OPS = 1_000_000

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0
}

/**
 * argon2id with the server's own parameters and code (passwords/hasher.ts): `verify` is what a
 * login spends, and costs the same as `hash`. `concurrency` calls stay in flight, as many as the
 * libuv threadpool runs, and the hasher computes as many at once as the server's default does.
 */
async function runArgon2(job: Argon2Job): Promise<PhaseResult> {
  const hasher = createPasswordHasher(OWASP_ARGON2ID)
  const password = 'bench-argon2-password'
  const stored = await hasher.hash(password)

  const measure = async (seconds: number) => {
    const latencies: number[] = []
    const started = performance.now()
    const deadline = started + seconds * 1000
    const worker = async () => {
      while (performance.now() < deadline && latencies.length < MAX_ARGON2_OPS) {
        const t0 = performance.now()
        if (!(await hasher.verify(stored, password))) throw new Error('argon2id verify failed')
        latencies.push(performance.now() - t0)
      }
    }
    await Promise.all(Array.from({ length: job.concurrency }, worker))
    return { latencies, seconds: (performance.now() - started) / 1000 }
  }

  if (job.warmup > 0) await measure(job.warmup)
  send({ kind: 'measuring' })
  const { latencies, seconds } = await measure(job.duration)
  latencies.sort((a, b) => a - b)
  const sum = latencies.reduce((a, b) => a + b, 0)
  return {
    phase: 'argon2',
    ok: latencies.length,
    seconds,
    rate: latencies.length / seconds,
    latencyMs: {
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      mean: latencies.length ? sum / latencies.length : 0,
      max: latencies.at(-1) ?? 0,
    },
    non2xx: 0,
    errors: 0,
    timeouts: 0,
    statusCodes: {},
    connections: job.concurrency,
  }
}

type Request = autocannon.Request

/**
 * Refresh with rotation. Every token is used once, and the next request of its chain carries the
 * token that its answer returned. Tokens wait on a stack: a response pushes its new token, and
 * the same connection's next request (autocannon builds it right after the response) pops it
 * again, so each connection carries one chain. A non-2xx answer breaks its chain; a spare
 * session takes its place. Requests still in flight when a run ends are lost (the server may or
 * may not have rotated them), so each run starts from tokens nobody has used.
 */
function refreshRequests(tokens: string[], counters: { breaks: number }): Request[] {
  const stack = [...tokens].reverse()
  const take = () => stack.pop() ?? tokens[0]! // an exhausted pool shows up as 401s in the result
  return [
    {
      method: 'POST',
      path: '/v1/auth/refresh',
      headers: JSON_HEADERS,
      setupRequest: (req) => ({ ...req, body: `{"refreshToken":${JSON.stringify(take())}}` }),
      onResponse: (status, body) => {
        const next = status === 200 ? /"refreshToken":"([^"]+)"/.exec(body)?.[1] : undefined
        if (next) {
          stack.push(next)
        } else {
          counters.breaks++
        }
      },
    },
  ]
}

function loginRequests(emails: string[], password: string): Request[] {
  let next = 0
  return [
    {
      method: 'POST',
      path: '/v1/auth/login',
      headers: JSON_HEADERS,
      setupRequest: (req) => {
        const email = emails[next++ % emails.length]
        return { ...req, body: JSON.stringify({ email, password }) }
      },
    },
  ]
}

/** The client credentials grant for a registered API: every answer a new signed JWT access token. */
function clientCredentialsRequests(job: HttpJob, counters: { invalid: number }): Request[] {
  const body = new URLSearchParams({ grant_type: 'client_credentials', resource: job.resource ?? '' })
  if (job.scope) body.set('scope', job.scope)
  return [
    {
      method: 'POST',
      path: '/oidc/token',
      headers: { 'content-type': FORM, authorization: basicAuth(job.client!) },
      body: body.toString(),
      onResponse: (status, text) => {
        // A JWT access token: three base64url parts (an opaque one has none of the dots).
        if (status === 200 && !/"access_token":"[\w-]+\.[\w-]+\.[\w-]+"/.test(text)) counters.invalid++
      },
    },
  ]
}

/** RFC 7662 introspection of opaque access tokens, in turn, by a confidential client. */
function introspectionRequests(job: HttpJob, counters: { invalid: number }): Request[] {
  const tokens = job.tokens ?? []
  let next = 0
  return [
    {
      method: 'POST',
      path: '/oidc/token/introspection',
      headers: { 'content-type': FORM, authorization: basicAuth(job.client!) },
      setupRequest: (req) => ({
        ...req,
        body: `token=${encodeURIComponent(tokens[next++ % tokens.length]!)}&token_type_hint=access_token`,
      }),
      onResponse: (status, text) => {
        if (status === 200 && !text.includes('"active":true')) counters.invalid++
      },
    },
  ]
}

async function runHttp(job: HttpJob): Promise<PhaseResult> {
  const url = new URL(job.baseUrl)
  if (url.hostname !== '127.0.0.1') throw new Error(`refusing to load ${url.host}: only 127.0.0.1`)
  const counters = { breaks: 0, invalid: 0 }
  let tokens = job.refreshTokens ?? []

  /** `share` of the refresh tokens left goes to this run. */
  const requestsFor = (share: number): Request[] => {
    switch (job.phase) {
      case 'login':
        return loginRequests(job.emails ?? [], job.password ?? '')
      case 'refresh': {
        // Each run gets its own unused tokens: the last run's in-flight ones are unknowable.
        const mine = tokens.slice(0, Math.max(job.connections, Math.floor(tokens.length * share)))
        tokens = tokens.slice(mine.length)
        return refreshRequests(mine, counters)
      }
      case 'me':
        return [{ method: 'GET', path: '/v1/me', headers: { authorization: `Bearer ${job.accessToken}` } }]
      case 'jwks':
        return [{ method: 'GET', path: '/.well-known/jwks.json' }]
      case 'clientcredentials':
        return clientCredentialsRequests(job, counters)
      case 'introspection':
        return introspectionRequests(job, counters)
    }
  }

  const run = (seconds: number, share: number) =>
    autocannon({
      url: job.baseUrl,
      connections: job.connections,
      pipelining: 1,
      duration: seconds,
      timeout: 10,
      requests: requestsFor(share),
    })

  if (job.warmup > 0) await run(job.warmup, 0.5)
  counters.breaks = 0
  counters.invalid = 0
  send({ kind: 'measuring' })
  const r = await run(job.duration, 1)
  const statusCodes: Record<string, number> = {}
  for (const [code, { count = 0 }] of Object.entries(r.statusCodeStats ?? {})) statusCodes[code] = count
  const ok = r['2xx'] - counters.invalid
  return {
    phase: job.phase,
    ok,
    seconds: r.duration,
    rate: ok / r.duration,
    latencyMs: { p50: r.latency.p50, p99: r.latency.p99, mean: r.latency.average, max: r.latency.max },
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    statusCodes,
    connections: job.connections,
    ...(job.phase === 'refresh' ? { chainBreaks: counters.breaks } : {}),
    ...(job.phase === 'clientcredentials' || job.phase === 'introspection'
      ? { invalid: counters.invalid }
      : {}),
  }
}

function send(message: LoadMessage): void {
  process.send?.(message)
}

if (!process.send) {
  console.error('bench/load.ts is started by bench/run.ts (it needs an IPC channel)')
  process.exit(2)
}

process.on('message', (job: Job) => {
  const work =
    job.phase === 'argon2'
      ? runArgon2(job)
      : job.phase === 'codeflow'
        ? runCodeFlow(job, () => send({ kind: 'measuring' }))
        : runHttp(job)
  work.then(
    (result) => send({ kind: 'result', result }),
    (err: unknown) => send({ kind: 'error', error: (err as Error).stack ?? String(err) }),
  )
})
process.on('disconnect', () => process.exit(0))
