#!/usr/bin/env node
// Node's compile cache keeps the type-stripped and compiled modules between runs: the second
// start of `tessera` is faster and never loads the TypeScript stripper (less memory).
import { enableCompileCache } from 'node:module'

enableCompileCache()
await import('../src/cli/main.ts')
