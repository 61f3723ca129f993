/** `tessera start` as a whole process, as operators run it, on SQLite in a new data directory. */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { TEST_MASTER_KEY } from './harness.ts'
import { freePort } from './ports.ts'

const READY_TIMEOUT_MS = 30_000

export interface ServerProcess {
  url: string
  port: number
  /** Its SQLite database and keys live here (the `tessera` CLI helper can work on them). */
  dataDir: string
  child: ChildProcess
  /** The exit code, once the process has exited. */
  exited: Promise<number | null>
  /** Kills the process if it still runs and removes its data directory. */
  dispose(): void
}

/** Starts `node <entry> start` (with `env` added) and resolves once `/readyz` answers 200. */
export async function startTessera(entry: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-start-'))
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const child = spawn(process.execPath, [entry, 'start'], {
    env: {
      PATH: process.env.PATH ?? '',
      TESSERA_DATA_DIR: dataDir,
      TESSERA_MASTER_KEY: TEST_MASTER_KEY,
      TESSERA_HOST: '127.0.0.1',
      TESSERA_PORT: String(port),
      TESSERA_PUBLIC_URL: url,
      TESSERA_LOG_LEVEL: 'silent',
      ...env,
    },
    stdio: 'ignore',
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const dispose = () => {
    child.kill('SIGKILL')
    rmSync(dataDir, { recursive: true, force: true })
  }
  try {
    await waitUntilReady(url, exited)
  } catch (err) {
    dispose()
    throw err
  }
  return { url, port, dataDir, child, exited, dispose }
}

async function waitUntilReady(url: string, exited: Promise<number | null>): Promise<void> {
  let exitCode: number | null | undefined
  void exited.then((code) => {
    exitCode = code
  })
  const deadline = Date.now() + READY_TIMEOUT_MS
  while (Date.now() < deadline && exitCode === undefined) {
    const ready = await fetch(`${url}/readyz`).then(
      (res) => res.ok,
      () => false,
    )
    if (ready) return
    await sleep(50)
  }
  throw new Error(
    exitCode === undefined
      ? `tessera start was not ready within ${READY_TIMEOUT_MS} ms`
      : `tessera start exited with ${exitCode} before it was ready`,
  )
}
