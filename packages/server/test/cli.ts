/** The real `tessera` command for the CLI tests, and a server on the database it wrote. */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { openDatabase, sqliteFileIn } from '../src/core/db.ts'
import { buildTestApp, TEST_MASTER_KEY, type TestApp } from './harness.ts'

const CLI = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url))
const CLI_TIMEOUT_MS = 60_000

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs `tessera <args>` against SQLite in `dataDir` (no DATABASE_URL, no Redis), `stdin` piped in. */
export function tessera(
  dataDir: string,
  args: string[],
  options: { env?: Record<string, string>; stdin?: string } = {},
): Promise<CliResult> {
  const env = {
    PATH: process.env.PATH ?? '',
    TESSERA_DATA_DIR: dataDir,
    TESSERA_MASTER_KEY: TEST_MASTER_KEY,
    TESSERA_LOG_LEVEL: 'silent',
    ...options.env,
  }
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [CLI, ...args],
      { env, timeout: CLI_TIMEOUT_MS },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0
        resolve({
          code,
          stdout,
          stderr: err?.killed ? `${stderr}\n[killed after ${CLI_TIMEOUT_MS} ms]` : stderr,
        })
      },
    )
    child.stdin?.end(options.stdin ?? '')
  })
}

/** A server on the CLI's SQLite database in `dataDir`, to see what a command did. */
export async function serveOn<T>(dataDir: string, use: (t: TestApp) => Promise<T>): Promise<T> {
  const t = await buildTestApp({
    dataDir,
    testDatabase: { database: openDatabase({ sqliteFile: sqliteFileIn(dataDir) }), drop: async () => {} },
  })
  try {
    return await use(t)
  } finally {
    await t.close()
  }
}
