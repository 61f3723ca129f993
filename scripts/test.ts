/**
 * The whole suite: once on SQLite with in-memory limits, then again on PostgreSQL + Redis when
 * DATABASE_URL / REDIS_URL are set. Prints a combined "N passed, N failed" line at the end.
 */
import { spawnSync } from 'node:child_process'

interface Pass {
  name: string
  env: Record<string, string | undefined>
}

const passes: Pass[] = [
  { name: 'SQLite + memory', env: { TEST_DATABASE_URL: undefined, TEST_REDIS_URL: undefined } },
]
if (process.env.DATABASE_URL || process.env.REDIS_URL) {
  passes.push({
    name: `${process.env.DATABASE_URL ? 'PostgreSQL' : 'SQLite'} + ${process.env.REDIS_URL ? 'Redis' : 'memory'}`,
    env: { TEST_DATABASE_URL: process.env.DATABASE_URL, TEST_REDIS_URL: process.env.REDIS_URL },
  })
}

const files = process.argv.slice(2)
const patterns = files.length ? files : ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts']
let passed = 0
let failed = 0
for (const pass of passes) {
  console.log(`\n=== ${pass.name} ===`)
  const env: Record<string, string | undefined> = {
    ...process.env,
    ...pass.env,
    DATABASE_URL: undefined,
    REDIS_URL: undefined,
  }
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k]
  const result = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...patterns], {
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  process.stdout.write(result.stdout)
  passed += Number(/^ℹ pass (\d+)/m.exec(result.stdout)?.[1] ?? 0)
  failed += Number(/^ℹ fail (\d+)/m.exec(result.stdout)?.[1] ?? 0)
  if (result.status !== 0 && failed === 0) failed += 1 // a crash counts as a failure
}
console.log(`\n${passed} passed, ${failed} failed`)
process.exit(failed > 0 ? 1 : 0)
