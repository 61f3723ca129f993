/**
 * `npm run build`: the `tessera` command (bin/tessera.js and everything it imports) bundled into
 * `packages/server/dist/`, which `npm start` runs. The same program as the sources, in a form
 * that costs less to hold: Node keeps a module record, a compiled script and the loader's
 * bookkeeping for every file it imports, and the server imports five files at start instead of
 * 1,400. Idle memory falls from about 110 to 93 MB and start to ready from 1.2–1.5 s to
 * 0.65–0.8 s (docs/performance.md).
 *
 * The bundle runs in place, next to `src/` and `node_modules/`:
 * - the server's own modules find their files (page templates, styles, the common-password list)
 *   through `import.meta.url`, which is rewritten to the module's source path relative to the
 *   bundle;
 * - packages that load native code or read their own files stay outside it (EXTERNAL).
 */
import { readFile, rm } from 'node:fs/promises'
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Plugin } from 'esbuild'

const SERVER_DIR = fileURLToPath(new URL('..', import.meta.url))
const SOURCES = fileURLToPath(new URL('../src/', import.meta.url))
const DIST_DIR = fileURLToPath(new URL('../dist/', import.meta.url))

const EXTERNAL = [
  'better-sqlite3', // native addon
  '@node-rs/argon2', // native addon, loaded by platform
  'pg', // loaded with require() when DATABASE_URL is set (core/db.ts)
  'ioredis', // loaded with require() when REDIS_URL is set (core/kv.ts)
  '@fastify/swagger', // reads its package.json
  '@fastify/swagger-ui', // serves its own static files
]

/** Each server module's `import.meta.url` becomes its source file's URL, found from the bundle. */
function sourceLocations(outdir: string): Plugin {
  return {
    name: 'tessera-source-locations',
    setup(esbuild) {
      esbuild.onLoad({ filter: /\.ts$/ }, async ({ path }) => {
        if (!path.startsWith(SOURCES)) return undefined
        const source = await readFile(path, 'utf8')
        if (!source.includes('import.meta.url')) return undefined
        const fromBundle = JSON.stringify(relative(outdir, path).replaceAll('\\', '/'))
        return {
          contents: source.replaceAll('import.meta.url', `new URL(${fromBundle}, import.meta.url).href`),
          loader: 'ts',
        }
      })
    },
  }
}

/** esbuild is a dev dependency: an install without them (`npm ci --omit=dev`) cannot build. */
async function loadEsbuild(): Promise<typeof import('esbuild')> {
  try {
    return await import('esbuild')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw err
    throw new Error(
      'building the server needs esbuild, a dev dependency: install with `npm ci` (not --omit=dev), ' +
        'or run a build made earlier with `node packages/server/dist/tessera.js start`',
    )
  }
}

export async function buildServer(outdir = DIST_DIR): Promise<void> {
  const { build } = await loadEsbuild()
  await rm(outdir, { recursive: true, force: true })
  await build({
    entryPoints: { tessera: `${SERVER_DIR}/bin/tessera.js` },
    outdir,
    bundle: true,
    splitting: true, // what the server loads on first use (the OIDC provider, mail) stays out of start
    platform: 'node',
    format: 'esm',
    target: 'node24',
    external: EXTERNAL,
    // Whitespace only: names stay as written, because libraries read them at run time
    // (oidc-provider names each token kind after its class, and logs name error classes).
    // Shorter identifiers and syntax would save 2 MB more, but drop class names, and esbuild's
    // keepNames, which restores them, slows every function a request creates.
    minifyWhitespace: true,
    sourcemap: 'linked', // NODE_OPTIONS=--enable-source-maps maps stack traces to the sources
    sourcesContent: false,
    legalComments: 'linked',
    // CommonJS dependencies call require() for Node's built-in modules.
    banner: {
      js: "import { createRequire as bundleRequire } from 'node:module'; const require = bundleRequire(import.meta.url);",
    },
    plugins: [sourceLocations(outdir)],
    logLevel: 'warning',
  })
}

if (import.meta.main) {
  const started = performance.now()
  try {
    await buildServer()
  } catch (err) {
    console.error(`tessera build: ${(err as Error).message}`)
    process.exit(1)
  }
  console.log(`built ${relative(process.cwd(), DIST_DIR)} in ${Math.round(performance.now() - started)} ms`)
}
