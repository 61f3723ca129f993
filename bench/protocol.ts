/**
 * Messages between the orchestrator (run.ts) and the load generator process (load.ts).
 */

export type HttpPhase = 'login' | 'refresh' | 'me' | 'jwks' | 'clientcredentials' | 'introspection'
export type Phase = 'argon2' | HttpPhase | 'codeflow'

/** A confidential OAuth client registered for the benchmark (client_secret_basic). */
export interface BenchClient {
  clientId: string
  clientSecret: string
}

/** The client's Authorization header: RFC 6749 §2.3.1, id and secret form-urlencoded, then Basic. */
export const basicAuth = (c: BenchClient) =>
  `Basic ${Buffer.from(`${encodeURIComponent(c.clientId)}:${encodeURIComponent(c.clientSecret)}`).toString('base64')}`

interface JobBase {
  /** Measured time, seconds. */
  duration: number
  /** Unmeasured run just before, seconds (0 for none). */
  warmup: number
}

export interface Argon2Job extends JobBase {
  phase: 'argon2'
  /** Calls kept in flight: the size of the libuv threadpool the server's hashes run on. */
  concurrency: number
}

export interface HttpJob extends JobBase {
  phase: HttpPhase
  /** Always http://127.0.0.1:<port>. */
  baseUrl: string
  connections: number
  /** login: the seeded accounts to cycle through. */
  emails?: string[]
  password?: string
  /** refresh: one unused refresh token per chain (connections × runs, plus spares). */
  refreshTokens?: string[]
  /** me: a bearer access token. */
  accessToken?: string
  /** clientcredentials: the service client; introspection: the resource server's client. */
  client?: BenchClient
  /** clientcredentials: the registered API's audience and the scope asked for. */
  resource?: string
  scope?: string
  /** introspection: active opaque access tokens to look at, in turn. */
  tokens?: string[]
}

/** The authorization code flow through the hosted pages, `concurrency` browsers at once. */
export interface CodeFlowJob extends JobBase {
  phase: 'codeflow'
  baseUrl: string
  concurrency: number
  /** The seeded accounts to sign in as, in turn, and their password. */
  emails: string[]
  password: string
  client: BenchClient
  redirectUri: string
  scope: string
}

export type Job = Argon2Job | HttpJob | CodeFlowJob

export interface PhaseResult {
  phase: Phase
  /** Successful operations (2xx responses, or completed argon2id verifies). */
  ok: number
  /** Measured seconds. */
  seconds: number
  /** Successful operations per second. */
  rate: number
  latencyMs: { p50: number; p99: number; mean: number; max: number }
  non2xx: number
  errors: number
  timeouts: number
  statusCodes: Record<string, number>
  connections: number
  /** Filled in by run.ts: who used the CPU during the measured part. */
  cpu?: CpuShare
  /** refresh: chains that broke (a non-2xx answer) and were replaced by a spare session. */
  chainBreaks?: number
  /**
   * 2xx answers that did not say what they should (no access_token, `active: false`); they are
   * not counted in `ok` and fail the phase like a non-2xx answer.
   */
  invalid?: number
  /** With --cpu-prof: the measured window, CLOCK_MONOTONIC µs, to cut the server's profile by. */
  measuredMonotonicUs?: [number, number]
  /** codeflow: what the flows met and how long each kind of step took. */
  codeFlow?: CodeFlowStats
}

export interface CodeFlowStats {
  /** Flows that showed the consent page (an account's first), and flows where it was remembered. */
  consentAsked: number
  consentRemembered: number
  /** HTTP requests per completed flow. */
  requestsPerFlow: number
  /** Median milliseconds of each step, over the measured flows. */
  stepP50Ms: Record<string, number>
  /**
   * The accounts' first flows, run in the warm-up: the consent page shown and "remember" ticked.
   * Their latency, and the median of the consent step (page, form post, redirect back).
   */
  firstFlows?: { flows: number; p50Ms: number; p99Ms: number; consentStepP50Ms: number }
}

/** Average cores busy while a phase was measured. */
export interface CpuShare {
  /** All the server's threads: the main thread, the libuv threadpool (argon2id, crypto jobs), GC. */
  server: number
  /**
   * The server's main (JavaScript) thread alone. One process cannot go past one core of it, so
   * 1 s / its CPU per request bounds the rate of a phase that does not wait on the threadpool.
   */
  serverMainThread?: number
  load: number
  /** Everything else on the machine: other processes, the kernel, the orchestrator. */
  other: number
}

/** load.ts → run.ts: `measuring` when the warm-up is over, then the result or the error. */
export type LoadMessage =
  | { kind: 'measuring' }
  | { kind: 'result'; result: PhaseResult }
  | { kind: 'error'; error: string }
