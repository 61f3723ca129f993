import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { ConfigError, loadConfig, redactConfig } from './config.ts'

const MASTER_KEY = Buffer.alloc(32, 3).toString('base64url')

const dirs: string[] = []
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-config-'))
  dirs.push(dir)
  return dir
}

function problemsOf(fn: () => unknown): string[] {
  try {
    fn()
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err))
    assert.match(err.message, /^invalid configuration:/)
    for (const problem of err.problems)
      assert.ok(err.message.includes(problem), 'the message lists each problem')
    return err.problems
  }
  assert.fail('expected a ConfigError')
}

function assertProblemAbout(problems: string[], key: string, pattern?: RegExp) {
  const mine = problems.filter((p) => p.startsWith(`${key}:`))
  assert.ok(mine.length > 0, `a problem about ${key} in ${JSON.stringify(problems)}`)
  if (pattern)
    assert.ok(
      mine.some((p) => pattern.test(p)),
      `${pattern} in ${JSON.stringify(mine)}`,
    )
}

describe('loadConfig', () => {
  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  })

  test('defaults: port 3000, localhost issuer, /v1 audience, SQLite under ./data', () => {
    const { config } = loadConfig({ TESSERA_MASTER_KEY: MASTER_KEY })
    assert.equal(config.port, 3000)
    assert.equal(config.host, '127.0.0.1')
    assert.equal(config.publicUrl, 'http://localhost:3000')
    assert.equal(config.apiAudience, 'http://localhost:3000/v1')
    assert.equal(config.dataDir, './data')
    assert.equal(config.databaseUrl, undefined, 'no DATABASE_URL means the embedded SQLite database')
    assert.equal(config.redisUrl, undefined)
    assert.equal(config.signingAlg, 'EdDSA')
    assert.equal(config.accessTokenTtl, 900)
    assert.deepEqual(config.corsOrigins, [])
    assert.equal(config.trustProxy, false)
    assert.equal(config.production, false)
  })

  test('the default public URL follows the port', () => {
    const { config } = loadConfig({ TESSERA_MASTER_KEY: MASTER_KEY, TESSERA_PORT: '8080' })
    assert.equal(config.publicUrl, 'http://localhost:8080')
    assert.equal(config.apiAudience, 'http://localhost:8080/v1')
  })

  test('environment variables map onto typed options', () => {
    const { config } = loadConfig({
      TESSERA_MASTER_KEY: MASTER_KEY,
      TESSERA_PORT: '8443',
      TESSERA_HOST: '0.0.0.0',
      TESSERA_PUBLIC_URL: 'https://id.example.com/',
      TESSERA_DATA_DIR: '/var/lib/tessera',
      DATABASE_URL: 'postgres://tessera:pw@db:5432/tessera',
      REDIS_URL: 'redis://cache:6379',
      TESSERA_CORS_ORIGINS: 'https://app.example.com, https://admin.example.com,',
      TESSERA_SIGNING_ALG: 'ES256',
      TESSERA_ACCESS_TOKEN_TTL: '300',
      TESSERA_AUTH_RATE_LIMIT: '10',
      TESSERA_TRUST_PROXY: '2',
      TESSERA_LOG_LEVEL: 'warn',
    })
    assert.equal(config.port, 8443)
    assert.equal(config.host, '0.0.0.0')
    assert.equal(config.publicUrl, 'https://id.example.com', 'trailing slash removed: it is the token issuer')
    assert.equal(config.apiAudience, 'https://id.example.com/v1')
    assert.equal(config.dataDir, '/var/lib/tessera')
    assert.equal(config.databaseUrl, 'postgres://tessera:pw@db:5432/tessera')
    assert.equal(config.redisUrl, 'redis://cache:6379')
    assert.deepEqual(config.corsOrigins, ['https://app.example.com', 'https://admin.example.com'])
    assert.equal(config.signingAlg, 'ES256')
    assert.equal(config.accessTokenTtl, 300)
    assert.equal(config.authRateLimitPerMinute, 10)
    assert.equal(config.trustProxy, 2)
    assert.equal(config.logLevel, 'warn')
    assert.equal(config.masterKey, MASTER_KEY)

    assert.equal(
      loadConfig({ TESSERA_MASTER_KEY: MASTER_KEY, TESSERA_TRUST_PROXY: 'true' }).config.trustProxy,
      true,
    )
    assert.equal(
      loadConfig({ TESSERA_MASTER_KEY: MASTER_KEY, TESSERA_API_AUDIENCE: 'https://api.example.com' }).config
        .apiAudience,
      'https://api.example.com',
    )
  })

  test('TESSERA_CONFIG is merged under the environment', () => {
    const file = join(tempDir(), 'tessera.json')
    writeFileSync(
      file,
      JSON.stringify({
        port: 4000,
        logLevel: 'error',
        accessTokenTtl: 600,
        corsOrigins: ['https://a.example'],
      }),
    )
    const { config } = loadConfig({
      TESSERA_CONFIG: file,
      TESSERA_MASTER_KEY: MASTER_KEY,
      TESSERA_PORT: '5000',
      TESSERA_CORS_ORIGINS: 'https://b.example',
    })
    assert.equal(config.port, 5000, 'the environment wins')
    assert.deepEqual(config.corsOrigins, ['https://b.example'])
    assert.equal(config.logLevel, 'error', 'the file fills what the environment leaves out')
    assert.equal(config.accessTokenTtl, 600)
  })

  test('every invalid value is reported at once, one line per option', () => {
    const problems = problemsOf(() =>
      loadConfig({
        TESSERA_MASTER_KEY: MASTER_KEY,
        TESSERA_PORT: '99999',
        TESSERA_SIGNING_ALG: 'HS256',
        TESSERA_ACCESS_TOKEN_TTL: '0',
        TESSERA_LOGIN_MAX_FAILURES: 'five',
        TESSERA_PUBLIC_URL: 'not a url',
        TESSERA_SESSION_CACHE_TTL: '0',
        TESSERA_KEY_RELOAD_INTERVAL: '-5',
        TESSERA_LOCKOUT_SECONDS: '-1',
        TESSERA_LOG_LEVEL: 'loud',
      }),
    )
    assertProblemAbout(problems, 'port', /65535/)
    assertProblemAbout(problems, 'signingAlg', /one of EdDSA, ES256, RS256/)
    assertProblemAbout(problems, 'accessTokenTtl', />= 1/)
    assertProblemAbout(problems, 'loginMaxFailures', /integer/)
    assertProblemAbout(problems, 'publicUrl')
    assertProblemAbout(problems, 'sessionCacheTtl')
    assertProblemAbout(problems, 'keyReloadInterval')
    assertProblemAbout(problems, 'lockoutSeconds', />= 1/)
    assertProblemAbout(problems, 'logLevel', /one of fatal, error, warn, info, debug, trace, silent/)
    assert.equal(problems.length, 9, JSON.stringify(problems))
  })

  test('an unknown option in the config file is reported, not ignored', () => {
    const file = join(tempDir(), 'tessera.json')
    writeFileSync(file, JSON.stringify({ prot: 3000, acessTokenTtl: 60 }))
    const problems = problemsOf(() => loadConfig({ TESSERA_CONFIG: file, TESSERA_MASTER_KEY: MASTER_KEY }))
    assertProblemAbout(problems, 'prot', /unknown option/)
    assertProblemAbout(problems, 'acessTokenTtl', /unknown option/)
  })

  test('an unreadable or non-object config file is reported with its path', () => {
    const dir = tempDir()
    const broken = join(dir, 'broken.json')
    writeFileSync(broken, '{ "port": ')
    const missing = join(dir, 'missing.json')
    const list = join(dir, 'list.json')
    writeFileSync(list, '[]')
    for (const file of [broken, missing, list]) {
      const problems = problemsOf(() => loadConfig({ TESSERA_CONFIG: file, TESSERA_MASTER_KEY: MASTER_KEY }))
      assert.ok(
        problems.some((p) => p.startsWith(`${file}:`)),
        JSON.stringify(problems),
      )
    }
  })

  test('production refuses a missing master key and a plain-http public URL, both at once', () => {
    const dataDir = tempDir()
    const problems = problemsOf(() =>
      loadConfig({
        NODE_ENV: 'production',
        TESSERA_DATA_DIR: dataDir,
        TESSERA_PUBLIC_URL: 'http://id.example.com',
      }),
    )
    assertProblemAbout(problems, 'masterKey', /required in production/)
    assertProblemAbout(problems, 'publicUrl', /https/)
    assert.equal(
      existsSync(join(dataDir, 'dev-master-key')),
      false,
      'no development key is made in production',
    )

    const ok = loadConfig({
      NODE_ENV: 'production',
      TESSERA_MASTER_KEY: MASTER_KEY,
      TESSERA_PUBLIC_URL: 'https://id.example.com',
      REDIS_URL: 'redis://cache:6379',
    })
    assert.equal(ok.config.production, true)
    assert.ok(
      !ok.warnings.some((w) => /master key|plain http|REDIS_URL/.test(w)),
      JSON.stringify(ok.warnings),
    )
  })

  test('production allows http only for localhost', () => {
    const { config } = loadConfig({
      NODE_ENV: 'production',
      TESSERA_MASTER_KEY: MASTER_KEY,
      TESSERA_PUBLIC_URL: 'http://localhost:3000',
    })
    assert.equal(config.publicUrl, 'http://localhost:3000')
  })

  test('a malformed master key is refused', () => {
    for (const key of [
      'short',
      Buffer.alloc(16, 1).toString('base64url'),
      Buffer.alloc(33, 1).toString('base64url'),
    ]) {
      const problems = problemsOf(() => loadConfig({ TESSERA_MASTER_KEY: key }))
      assertProblemAbout(problems, 'masterKey', /32 bytes/)
      assert.ok(!problems.join('\n').includes(key), 'the key itself is never echoed')
    }
  })

  test('development mode warns loudly and keeps one master key per data directory', () => {
    const dataDir = tempDir()
    const first = loadConfig({ TESSERA_DATA_DIR: dataDir, TESSERA_PUBLIC_URL: 'http://id.example.com' })
    const keyWarning = first.warnings.find((w) => w.includes('master key'))
    assert.ok(keyWarning, JSON.stringify(first.warnings))
    assert.match(keyWarning, /MUST change in production/)
    assert.ok(first.warnings.some((w) => /plain http/.test(w)))
    assert.ok(first.warnings.some((w) => /REDIS_URL/.test(w)))

    const file = join(dataDir, 'dev-master-key')
    assert.equal(readFileSync(file, 'utf8').trim(), first.config.masterKey)
    assert.equal(Buffer.from(first.config.masterKey, 'base64url').length, 32)
    assert.equal(statSync(file).mode & 0o077, 0, 'readable by its owner only')

    const second = loadConfig({ TESSERA_DATA_DIR: dataDir })
    assert.equal(second.config.masterKey, first.config.masterKey, 'the same key on every start')

    const elsewhere = loadConfig({ TESSERA_DATA_DIR: join(tempDir(), 'nested', 'data') })
    assert.notEqual(elsewhere.config.masterKey, first.config.masterKey, 'no key is shared between installs')
  })

  test('branding: an optional logo (https:// or a path here) and an accent color, both checked', () => {
    const { config } = loadConfig({ TESSERA_MASTER_KEY: MASTER_KEY })
    assert.equal(config.logoUrl, undefined, 'no logo: the pages show the product name')
    assert.equal(config.accentColor, '#1d4ed8')
    for (const logo of ['https://cdn.example.com/brand/logo.svg?v=2', '/assets/tessera-logo.svg']) {
      const branded = loadConfig({
        TESSERA_MASTER_KEY: MASTER_KEY,
        TESSERA_LOGO_URL: logo,
        TESSERA_ACCENT_COLOR: '#0A7',
      })
      assert.equal(branded.config.logoUrl, logo)
      assert.equal(branded.config.accentColor, '#0A7')
    }

    const both = problemsOf(() =>
      loadConfig({
        TESSERA_MASTER_KEY: MASTER_KEY,
        TESSERA_LOGO_URL: 'http://x.example/a.png',
        TESSERA_ACCENT_COLOR: 'blue',
      }),
    )
    assertProblemAbout(both, 'logoUrl', /must be an https:\/\/ URL or a path on this server/)
    assertProblemAbout(both, 'accentColor', /must be a color written #rgb or #rrggbb/)
    assert.equal(both.length, 2, JSON.stringify(both))
    for (const logo of [
      '//evil.example/a.png',
      'javascript:alert(1)',
      'https://x.example/"><b',
      '/a b',
      'https://1.2.3.4.5/',
    ]) {
      assertProblemAbout(
        problemsOf(() => loadConfig({ TESSERA_MASTER_KEY: MASTER_KEY, TESSERA_LOGO_URL: logo })),
        'logoUrl',
      )
    }
    for (const color of ['#12', '#1234', '#12345g', '1d4ed8', 'rgb(0, 0, 0)', '#1d4ed8;}']) {
      assertProblemAbout(
        problemsOf(() => loadConfig({ TESSERA_MASTER_KEY: MASTER_KEY, TESSERA_ACCENT_COLOR: color })),
        'accentColor',
      )
    }
  })

  test('redactConfig hides the master key, URL credentials and the metrics token', () => {
    const { config } = loadConfig({
      TESSERA_MASTER_KEY: MASTER_KEY,
      DATABASE_URL: 'postgres://tessera:s3cret@db:5432/tessera',
      REDIS_URL: 'redis://:hunter2@cache:6379',
      TESSERA_METRICS_TOKEN: 'scrape-me-if-you-can-0123',
    })
    const logged = JSON.stringify(redactConfig(config))
    for (const secret of [MASTER_KEY, 's3cret', 'hunter2', 'scrape-me-if-you-can-0123'])
      assert.ok(!logged.includes(secret), secret)
    assert.match(logged, /db:5432/)
  })
})
