#!/usr/bin/env node
/**
 * The `tessera` command: start (default), migrate, keys rotate, keys list, admin create,
 * admin remove, clients create, clients list.
 */
import { parseArgs } from 'node:util'
import { Value } from 'typebox/value'
import { Email, PersonName } from '../accounts/schemas.ts'
import { createAccountService } from '../accounts/service.ts'
import { createOrPromoteAdmin } from '../admin/service.ts'
import { buildApp, type Tessera } from '../app.ts'
import { createAuditLog } from '../audit/service.ts'
import { CLIENT_FLAG_OPTIONS, type ClientFlags, clientBodyFromFlags, listAllClients } from '../clients/cli.ts'
import { systemClock } from '../core/clock.ts'
import { type Config, ConfigError, loadConfig, redactConfig } from '../core/config.ts'
import { createSecretBox } from '../core/crypto.ts'
import { migrate, openDatabase, sqliteFileIn } from '../core/db.ts'
import { AppError } from '../core/errors.ts'
import { releaseStartupMemory } from '../core/memory.ts'
import { createPasswordHasher } from '../passwords/hasher.ts'
import { listSigningKeys, rotateSigningKeys } from '../tokens/keys.ts'

const USAGE = `usage: tessera [command]

commands:
  start          run the server (default)
  migrate        apply database migrations and exit
  keys rotate    add a new signing key; old keys stay published until their tokens expire
  keys list      list signing keys and their status
  admin create --email <email> [--name <name>] [--password-stdin]
                 make an account an administrator, creating it when there is none; a new
                 account gets a generated password (printed once) unless one is piped in
  admin remove --email <email>
                 take the administrator role away; the account's sessions end
  clients create --name <name> [--redirect-uri <uri>]... [--post-logout-redirect-uri <uri>]...
                 [--grant <type>]... [--auth-method <method>] [--scope "<scopes>"]
                 [--application-type web|native]
                 register an OAuth 2 / OpenID Connect client and print it as JSON; a generated
                 client_secret is printed only this once
  clients list   print every registered client as JSON (never a secret)

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
  releaseStartupMemory()
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

/** The whole of standard input, less one trailing line break (`echo` adds one). */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '')
}

interface AdminOptions {
  email?: string | undefined
  name?: string | undefined
  'password-stdin'?: boolean | undefined
}

async function admin(config: Config, action: string | undefined, options: AdminOptions): Promise<void> {
  if (action !== 'create' && action !== 'remove')
    throw new UsageError(`unknown admin action: ${action ?? '(none)'}`)
  const { email, name } = options
  if (!email || !Value.Check(Email, email))
    throw new UsageError(`admin ${action} needs --email <a valid address>`)
  if (action === 'remove') return removeAdmin(config, email)
  if (name !== undefined && !Value.Check(PersonName, name))
    throw new UsageError('--name must be 1 to 200 characters')
  // Read before touching the database: a missing or empty password changes nothing.
  const password = options['password-stdin'] ? await readStdin() : undefined
  if (password === '') throw new UsageError('--password-stdin: standard input is empty')
  const database = openConfiguredDatabase(config)
  try {
    await migrate(database.db)
    const { db } = database
    const result = await createOrPromoteAdmin(
      {
        db,
        accounts: createAccountService({ db, clock: systemClock }),
        hasher: createPasswordHasher(),
        audit: createAuditLog({ db, clock: systemClock }),
      },
      { email, password, name },
    )
    const who = `${result.account.email} (${result.account.id})`
    if (result.outcome === 'created') {
      console.log(`created administrator ${who}`)
      if (result.generatedPassword) {
        console.log(`password: ${result.generatedPassword}`)
        console.log('this password is shown only once: store it now, or change it after signing in')
      }
    } else if (result.outcome === 'promoted') {
      console.log(`promoted existing account ${who} to administrator`)
    } else {
      console.log(`${who} is already an administrator; nothing changed`)
    }
    if (result.outcome !== 'created' && password !== undefined)
      console.log('the account already existed: its password was not changed')
    if (result.account.disabled_at !== null)
      console.log('warning: this account is disabled; it cannot sign in until an administrator enables it')
    if (result.outcome !== 'already_admin')
      console.log('its access tokens carry the admin role from its next sign-in or token refresh')
  } finally {
    await database.close()
  }
}

async function clients(config: Config, action: string | undefined, flags: ClientFlags): Promise<void> {
  if (action !== 'create' && action !== 'list')
    throw new UsageError(`unknown clients action: ${action ?? '(none)'}`)
  // Checked before touching the database: bad flags change nothing.
  const input = action === 'create' ? clientBodyFromFlags(flags) : undefined
  if (input && 'problem' in input) throw new UsageError(`clients create ${input.problem}`)
  // The app's own client registry, so the provider checks new metadata as it does for the admin API.
  await withApp(config, async ({ clients }) => {
    const output = input ? await clients.createClient('cli', input.body) : await listAllClients(clients)
    console.log(JSON.stringify(output, null, 2))
    if ('client_secret' in output) console.error('the client_secret is shown only once: store it now')
  })
}

/** Through the app's own admin service, so the ended sessions reach every instance (Redis). */
function removeAdmin(config: Config, email: string): Promise<void> {
  return withApp(config, async ({ admin }) => {
    const { outcome, account } = await admin.removeAdminRole(email)
    const who = `${account.email} (${account.id})`
    console.log(
      outcome === 'removed'
        ? `${who} is no longer an administrator; its sessions have ended`
        : `${who} is not an administrator; nothing changed`,
    )
  })
}

/** Runs `use` on the app's services, as the server builds them, without serving or logging. */
async function withApp(config: Config, use: (tessera: Tessera) => Promise<void>): Promise<void> {
  const tessera = await buildApp(config, { logger: false, defaultMetrics: false })
  try {
    await use(tessera)
  } finally {
    await tessera.close()
  }
}

class UsageError extends Error {}

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      email: { type: 'string' },
      name: { type: 'string' },
      'password-stdin': { type: 'boolean' },
      ...CLIENT_FLAG_OPTIONS,
    },
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
    case 'admin':
      return admin(config, action, values)
    case 'clients':
      return clients(config, action, values)
    default:
      throw new UsageError(`unknown command: ${command}`)
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof ConfigError) console.error(`tessera: ${err.message}`)
  else if (err instanceof UsageError) console.error(`tessera: ${err.message}\n\n${USAGE}`)
  else if (err instanceof AppError) console.error(`tessera: ${err.code}: ${err.message}`)
  else console.error(`tessera: ${(err as Error).message ?? err}`)
  process.exit(err instanceof UsageError ? 2 : 1)
})
