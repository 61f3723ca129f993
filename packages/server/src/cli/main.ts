#!/usr/bin/env node
/**
 * The `tessera` command: start (default), migrate, keys rotate, keys list.
 */
import { parseArgs } from 'node:util'
import { buildApp } from '../app.ts'
import { systemClock } from '../core/clock.ts'
import { type Config, ConfigError, loadConfig, redactConfig } from '../core/config.ts'
import { createSecretBox } from '../core/crypto.ts'
import { migrate, openDatabase, sqliteFileIn } from '../core/db.ts'
import { listSigningKeys, rotateSigningKeys } from '../tokens/keys.ts'

const USAGE = `usage: tessera [command]

commands:
  start          run the server (default)
  migrate        apply database migrations and exit
  keys rotate    add a new signing key; old keys stay published until their tokens expire
  keys list      list signing keys and their status

Configuration comes from the environment (see the README) and TESSERA_CONFIG=<file.json>.`

function openConfiguredDatabase(config: Config) {
  return openDatabase({ databaseUrl: config.databaseUrl, sqliteFile: sqliteFileIn(config.dataDir) })
}

async function start(config: Config, warnings: string[]): Promise<void> {
  const startedAt = performance.now()
  const tessera = await buildApp(config)
  const { app } = tessera
  for (const warning of warnings) app.log.warn(`INSECURE OR LIMITED: ${warning}`)
  app.log.info({ config: redactConfig(config) }, 'configuration')
  await app.listen({ port: config.port, host: config.host })
  app.log.info(`Tessera ready at ${config.publicUrl} in ${Math.round(performance.now() - startedAt)} ms`)

  let closing = false
  const shutdown = (signal: string) => {
    if (closing) return
    closing = true
    app.log.info(`${signal}: finishing in-flight requests`)
    tessera.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'shutdown failed')
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))
}

async function runMigrations(config: Config): Promise<void> {
  const database = openConfiguredDatabase(config)
  try {
    const applied = await migrate(database.db)
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date')
  } finally {
    await database.close()
  }
}

async function keys(config: Config, action: string | undefined): Promise<void> {
  // A mistyped action must not touch (create or migrate) the database.
  if (action !== 'rotate' && action !== 'list')
    throw new UsageError(`unknown keys action: ${action ?? '(none)'}`)
  const database = openConfiguredDatabase(config)
  try {
    await migrate(database.db)
    if (action === 'rotate') {
      const kid = await rotateSigningKeys({
        db: database.db,
        box: createSecretBox(config.masterKey),
        clock: systemClock,
        alg: config.signingAlg,
        accessTokenTtl: config.accessTokenTtl,
        keyReloadInterval: config.keyReloadInterval,
      })
      console.log(
        `new signing key ${kid} (${config.signingAlg}); running servers switch within ${config.keyReloadInterval}s`,
      )
    } else {
      console.table(await listSigningKeys(database.db, Date.now()))
    }
  } finally {
    await database.close()
  }
}

class UsageError extends Error {}

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { help: { type: 'boolean', short: 'h' } },
  })
  if (values.help) {
    console.log(USAGE)
    return
  }
  const [command = 'start', action] = positionals
  const { config, warnings } = loadConfig()
  switch (command) {
    case 'start':
      return start(config, warnings)
    case 'migrate':
      return runMigrations(config)
    case 'keys':
      return keys(config, action)
    default:
      throw new UsageError(`unknown command: ${command}`)
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof ConfigError) console.error(`tessera: ${err.message}`)
  else if (err instanceof UsageError) console.error(`tessera: ${err.message}\n\n${USAGE}`)
  else console.error(`tessera: ${(err as Error).message ?? err}`)
  process.exit(err instanceof UsageError ? 2 : 1)
})
