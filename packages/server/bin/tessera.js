#!/usr/bin/env -S node --max-semi-space-size=8 --heap-growing-percent=50
// Garbage collector settings, measured with `npm run bench` (see bench/README.md):
// - an 8 MiB young generation lets a request's objects die young instead of being promoted
//   (with 1 MiB, collection took a fifth of the main thread under OIDC load);
// - the old generation grows by half its live size before a full collection, not up to 4x:
//   peak memory under load about 400 -> 300 MB (OIDC code flow), 310 -> 215 MB (token endpoint).
// Node's compile cache keeps the type-stripped and compiled modules between runs: the second
// start of `tessera` is faster and never loads the TypeScript stripper (less memory).
import { enableCompileCache } from 'node:module'

enableCompileCache()
await import('../src/cli/main.ts')
