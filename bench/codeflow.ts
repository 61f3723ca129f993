/**
 * The authorization code flow as a browser and a relying party run it, for the load process:
 * authorization request → hosted sign-in page → password (argon2id) → consent, or the consent
 * the account remembered → code → token exchange with PKCE (S256) and client_secret_basic.
 *
 * Every flow is a new browser (an empty cookie jar), so every flow signs in with a password.
 * `concurrency` flows run at once over keep-alive connections, each signing in as the next seeded
 * account; an account's first flow ticks "remember" on the consent page, later ones skip it. The
 * warm-up runs until every account has had its first flow, so the measured flows are returning
 * users; the first flows are reported apart (`firstFlows`).
 */
import { createHash, randomBytes } from 'node:crypto'
import { Agent, request } from 'node:http'
import { basicAuth, type CodeFlowJob, type CodeFlowStats, type PhaseResult } from './protocol.ts'

interface Answer {
  status: number
  location: string | undefined
  body: string
}

/** A failed step: counted under `<step> <status>` in the phase's status codes. */
class StepError extends Error {}

const STEP_NAMES = ['authorize', 'signInPage', 'password', 'consent', 'token'] as const
type Step = (typeof STEP_NAMES)[number]

const base64url = (bytes: Buffer) => bytes.toString('base64url')

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0
}

function hiddenField(html: string, name: string): string {
  const value = new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1]
  if (value === undefined) throw new StepError(`no ${name} field`)
  return value.replaceAll('&amp;', '&')
}

function formAction(html: string, name: string): string | undefined {
  return new RegExp(`action="([^"]*/${name})"`).exec(html)?.[1]?.replaceAll('&amp;', '&')
}

export async function runCodeFlow(job: CodeFlowJob, measuring: () => void): Promise<PhaseResult> {
  const origin = new URL(job.baseUrl).origin
  if (new URL(origin).hostname !== '127.0.0.1') throw new Error(`refusing to load ${origin}: only 127.0.0.1`)
  const agent = new Agent({ keepAlive: true, maxSockets: job.concurrency })
  const basic = basicAuth(job.client)
  let nextAccount = 0

  /** One HTTP exchange; `jar` holds this browser's cookies (paths ignored, as in test/oidc.ts). */
  function send(
    method: 'GET' | 'POST',
    url: string,
    jar: Map<string, string> | undefined,
    form?: Record<string, string>,
    authorization?: string,
  ): Promise<Answer> {
    const target = new URL(url, origin)
    if (target.origin !== origin) throw new StepError(`left the server for ${target.origin}`)
    const headers: Record<string, string> = {}
    if (jar && jar.size > 0) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
    const body = form ? new URLSearchParams(form).toString() : undefined
    if (body !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded'
      headers['content-length'] = String(Buffer.byteLength(body))
      if (jar) headers.origin = origin // a form of the hosted pages; the token request is back-channel
    }
    if (authorization) headers.authorization = authorization
    return new Promise((resolve, reject) => {
      const req = request(target, { method, headers, agent, timeout: 30_000 }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('error', reject)
        res.on('end', () => {
          for (const line of res.headers['set-cookie'] ?? []) {
            const pair = line.split(';', 1)[0]!
            const at = pair.indexOf('=')
            const value = pair.slice(at + 1)
            if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) jar?.delete(pair.slice(0, at))
            else jar?.set(pair.slice(0, at), value)
          }
          resolve({
            status: res.statusCode ?? 0,
            location: res.headers.location,
            body: Buffer.concat(chunks).toString('utf8'),
          })
        })
      })
      req.on('timeout', () => req.destroy(new Error('timeout')))
      req.on('error', reject)
      req.end(body)
    })
  }

  const expect = (step: Step, answer: Answer, status: number) => {
    if (answer.status !== status) throw new StepError(`${step} ${answer.status}`)
    return answer
  }
  const redirected = (step: Step, answer: Answer) => {
    if (answer.status < 300 || answer.status >= 400 || !answer.location)
      throw new StepError(`${step} ${answer.status}`)
    return answer.location
  }

  /** One flow, timed step by step; returns whether the consent page was shown. */
  async function flow(times: Record<Step, number[]>, requests: { n: number }): Promise<boolean> {
    const jar = new Map<string, string>()
    const email = job.emails[nextAccount++ % job.emails.length]!
    const verifier = base64url(randomBytes(32))
    const state = base64url(randomBytes(16))
    const params = new URLSearchParams({
      client_id: job.client.clientId,
      redirect_uri: job.redirectUri,
      response_type: 'code',
      scope: job.scope,
      state,
      code_challenge: base64url(createHash('sha256').update(verifier).digest()),
      code_challenge_method: 'S256',
    })
    let t = performance.now()
    const lap = (step: Step) => {
      const now = performance.now()
      times[step].push(now - t)
      t = now
    }
    const get = (url: string) => {
      requests.n++
      return send('GET', url, jar)
    }
    const post = (url: string, form: Record<string, string>, authorization?: string) => {
      requests.n++
      return send('POST', url, authorization ? undefined : jar, form, authorization)
    }

    const interaction = redirected('authorize', await get(`/oidc/auth?${params}`))
    lap('authorize')
    const signIn = expect('signInPage', await get(interaction), 200).body
    const loginAction = formAction(signIn, 'login')
    if (!loginAction) throw new StepError('signInPage no form')
    lap('signInPage')
    const credentials = { csrf: hiddenField(signIn, 'csrf'), email, password: job.password }
    let location = redirected('password', await post(loginAction, credentials))
    location = redirected('password', await get(location)) // resume: to consent, or to the client
    lap('password')
    let consented = false
    if (!location.startsWith(job.redirectUri)) {
      const page = expect('consent', await get(location), 200).body
      const consentAction = formAction(page, 'consent')
      if (!consentAction) throw new StepError('consent no form')
      location = redirected(
        'consent',
        await post(consentAction, { csrf: hiddenField(page, 'csrf'), remember: 'yes' }),
      )
      location = redirected('consent', await get(location))
      consented = true
      lap('consent')
    }
    const callback = new URL(location)
    const code = callback.searchParams.get('code')
    if (!location.startsWith(job.redirectUri) || !code || callback.searchParams.get('state') !== state)
      throw new StepError(`callback ${callback.searchParams.get('error') ?? 'no code'}`)
    const grant = {
      grant_type: 'authorization_code',
      code,
      redirect_uri: job.redirectUri,
      code_verifier: verifier,
    }
    const tokens = expect('token', await post('/oidc/token', grant, basic), 200).body
    if (!/"access_token":"/.test(tokens) || !/"id_token":"/.test(tokens))
      throw new StepError('token no tokens')
    lap('token')
    return consented
  }

  /** Flows for `seconds`; with `everyAccount`, also until every account has had its first flow. */
  async function measure(seconds: number, everyAccount: boolean) {
    const latencies: number[] = []
    const consentLatencies: number[] = []
    const failures: Record<string, number> = {}
    const times = Object.fromEntries(STEP_NAMES.map((s) => [s, [] as number[]])) as Record<Step, number[]>
    const requests = { n: 0 }
    let errors = 0
    const started = performance.now()
    const deadline = started + seconds * 1000
    const worker = async () => {
      while (performance.now() < deadline || (everyAccount && nextAccount < job.emails.length)) {
        const t0 = performance.now()
        try {
          const consented = await flow(times, requests)
          latencies.push(performance.now() - t0)
          if (consented) consentLatencies.push(performance.now() - t0)
        } catch (err) {
          if (!(err instanceof StepError)) errors++
          const key = err instanceof StepError ? err.message : `error ${(err as Error).message}`
          failures[key] = (failures[key] ?? 0) + 1
        }
      }
    }
    await Promise.all(Array.from({ length: job.concurrency }, worker))
    const sorted = (values: number[]) => values.sort((a, b) => a - b)
    return {
      latencies: sorted(latencies),
      consentLatencies: sorted(consentLatencies),
      failures,
      times: Object.fromEntries(STEP_NAMES.map((s) => [s, sorted(times[s])])) as Record<Step, number[]>,
      requests: requests.n,
      errors,
      started,
    }
  }

  try {
    // The warm-up gives every account its first flow (consent shown, remembered), so the measured
    // flows are all returning users; the first flows are reported apart.
    const warm = job.warmup > 0 ? await measure(job.warmup, true) : undefined
    measuring()
    const m = await measure(job.duration, false)
    const seconds = (performance.now() - m.started) / 1000
    const ok = m.latencies.length
    const sum = m.latencies.reduce((a, b) => a + b, 0)
    const failed = Object.values(m.failures).reduce((a, b) => a + b, 0)
    const stats: CodeFlowStats = {
      consentAsked: m.consentLatencies.length,
      consentRemembered: ok - m.consentLatencies.length,
      requestsPerFlow: ok + failed > 0 ? m.requests / (ok + failed) : 0,
      stepP50Ms: Object.fromEntries(STEP_NAMES.map((s) => [s, percentile(m.times[s], 50)])),
      ...(warm && warm.consentLatencies.length > 0
        ? {
            firstFlows: {
              flows: warm.consentLatencies.length,
              p50Ms: percentile(warm.consentLatencies, 50),
              p99Ms: percentile(warm.consentLatencies, 99),
              consentStepP50Ms: percentile(warm.times.consent, 50),
            },
          }
        : {}),
    }
    return {
      phase: 'codeflow',
      ok,
      seconds,
      rate: ok / seconds,
      latencyMs: {
        p50: percentile(m.latencies, 50),
        p99: percentile(m.latencies, 99),
        mean: ok ? sum / ok : 0,
        max: m.latencies.at(-1) ?? 0,
      },
      non2xx: failed - m.errors,
      errors: m.errors,
      timeouts: 0,
      statusCodes: { ...(ok ? { '200': ok } : {}), ...m.failures },
      connections: job.concurrency,
      codeFlow: stats,
    }
  } finally {
    agent.destroy()
  }
}
