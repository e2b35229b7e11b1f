#!/usr/bin/env node
import { main } from './cli-main.js'

const controller = new AbortController()
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => controller.abort())

main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  signal: controller.signal,
}).then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    process.stderr.write(`rds-iam: unexpected error: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exitCode = 1
  },
)
