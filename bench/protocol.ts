/**
 * Messages between the orchestrator (run.ts) and the load generator process (load.ts).
 */

export type HttpPhase = 'login' | 'refresh' | 'me' | 'jwks'
export type Phase = 'argon2' | HttpPhase

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
}

export type Job = Argon2Job | HttpJob

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
}

/** Average cores busy while a phase was measured. */
export interface CpuShare {
  server: number
  load: number
  /** Everything else on the machine: other processes, the kernel, the orchestrator. */
  other: number
}

/** load.ts → run.ts: `measuring` when the warm-up is over, then the result or the error. */
export type LoadMessage =
  | { kind: 'measuring' }
  | { kind: 'result'; result: PhaseResult }
  | { kind: 'error'; error: string }
