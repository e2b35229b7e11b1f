import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { inspect } from 'node:util'
import { RdsIamError, type RdsIamErrorCode } from '@rds-iam/core'
import { type Emulator, startEmulator } from '@rds-iam/emulator'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import type { ConnectionSettings, Row } from './conformance-types.js'
import { TEST_URLS } from './engine-env.js'
import { type HangupServer, startHangupServer } from './hangup-server.js'

// The three test shapes every adapter has besides the conformance suite: bad configuration,
// retry entry points and the built package. Each adapter's test is then a table of its cases.

/** Where a bad-config case points its config: a server that counts connection attempts. */
export interface CountingEndpoint {
  host: string
  port: number
}

/** One invalid configuration and what the adapter must say about it. */
export interface BadConfigCase {
  /** Test title, e.g. `'iam together with a password'`. */
  name: string
  /**
   * Builds the adapter object (and, if the adapter only checks lazily, runs one query) with a config
   * pointing at `endpoint`. It must throw or reject; it cleans up whatever it opened.
   */
  make(endpoint: CountingEndpoint): unknown
  /** Expected code; default `RDS_IAM_INVALID_OPTIONS`. */
  code?: RdsIamErrorCode
  /** The message or hint must name this (the option to change). */
  mentions: RegExp
}

/**
 * Runs each case against a hang-up server: every case must fail with a typed `RdsIamError` whose
 * hint names the fix, and no connection may reach the server (nothing is sent before the config is
 * known to be good). `clearEnv` names variables (e.g. `PGHOST`) unset while a case runs.
 *
 * @example
 * ```ts
 * runBadConfigCases('pg', [{ name: 'iam with a password', make: (s) => new Pool({ ...base(s), password: 'x' }), mentions: /password/ }])
 * ```
 */
export function runBadConfigCases(
  adapter: string,
  cases: BadConfigCase[],
  options: { clearEnv?: string[] } = {},
): void {
  describe(`${adapter}: bad config is refused before any network traffic`, () => {
    let server: HangupServer
    beforeAll(async () => {
      server = await startHangupServer()
    })
    afterAll(() => server.close())

    test.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      const saved = new Map((options.clearEnv ?? []).map((key) => [key, process.env[key]]))
      for (const key of saved.keys()) delete process.env[key]
      let error: unknown
      try {
        await c.make({ host: '127.0.0.1', port: server.port })
      } catch (err) {
        error = err
      } finally {
        for (const [key, value] of saved) if (value !== undefined) process.env[key] = value
      }
      expect(error, 'the config was accepted').toBeInstanceOf(RdsIamError)
      const typed = error as RdsIamError
      expect(typed.code).toBe(c.code ?? 'RDS_IAM_INVALID_OPTIONS')
      expect(typed.hint.length).toBeGreaterThan(10)
      expect(`${typed.message} ${typed.hint}`).toMatch(c.mentions)
      expect(server.connections()).toBe(0)
    })
  })
}

/** One way a user connects through the adapter (a pool query, a client connect, a callback form…). */
export interface RetryEntryPoint {
  /** Shown in the test title, e.g. `'Pool.query'`. */
  name: string
  /**
   * Connects through this entry point with `settings`, runs `select 1 as one`, returns the rows
   * and closes what it opened (also when it fails).
   */
  run(settings: ConnectionSettings): Promise<Row[]>
}

/** What {@link runRetryCases} needs from an adapter. */
export interface RetryCases {
  adapter: string
  engine: 'postgres' | 'mysql'
  entryPoints: RetryEntryPoint[]
  /** Checks the driver error kept as `cause` of the final `RDS_IAM_AUTH_FAILED` (SQLSTATE 28000, errno 1045…). */
  expectAuthCause(cause: unknown): void
  /**
   * Connects with `iam.insecure` and no TLS to a server that hangs up at once and returns the
   * error: a network failure is not an authentication failure, so it is attempted exactly once.
   */
  connectToHangup(endpoint: CountingEndpoint): Promise<unknown>
}

const RETRY = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 }

/**
 * The retry behaviour every entry point of an adapter must have, against the emulator in front of
 * the real database: K < attempts rejections end in success with a fresh token per attempt; a
 * permanent rejection ends in `RDS_IAM_AUTH_FAILED` after exactly `maxAttempts` logins, with the
 * driver error as cause and no token in it; a network failure is never retried.
 *
 * @example
 * ```ts
 * runRetryCases({ adapter: 'pg', engine: 'postgres', entryPoints: [{ name: 'Pool.query', run: … }], … })
 * ```
 */
export function runRetryCases(spec: RetryCases): void {
  describe(`${spec.adapter} on ${spec.engine}: retry on authentication failure`, () => {
    let emu: Emulator
    beforeAll(async () => {
      emu = await startEmulator({ engine: spec.engine, upstream: TEST_URLS[spec.engine] })
    })
    afterAll(() => emu?.stop())
    beforeEach(() => emu?.faults.reset())

    // A user per test keeps core's process-wide token cache (keyed by user) out of the counts.
    let n = 0
    const settings = (): ConnectionSettings => ({
      host: emu.host,
      port: emu.port,
      user: `retry_${spec.adapter.replace(/\W/g, '_')}_${process.pid}_${n++}`,
      database: spec.engine === 'mysql' ? 'test' : new URL(TEST_URLS.postgres).pathname.slice(1) || 'test',
      ssl: { ca: emu.ca },
      iam: { region: emu.region, credentials: emu.credentials[0]!, retry: RETRY },
    })

    for (const entry of spec.entryPoints) {
      test(`${entry.name}: ${RETRY.maxAttempts - 1} rejections, then success with a fresh token`, async () => {
        const before = emu.stats()
        emu.faults.rejectNext(RETRY.maxAttempts - 1)
        const rows = await entry.run(settings())
        expect(Number(rows[0]?.one)).toBe(1)
        const after = emu.stats()
        expect(after.rejected.InvalidToken - before.rejected.InvalidToken).toBe(RETRY.maxAttempts - 1)
        expect(after.accepted - before.accepted).toBeGreaterThanOrEqual(1)
      })

      test(`${entry.name}: permanent rejection → RDS_IAM_AUTH_FAILED after ${RETRY.maxAttempts} logins`, async () => {
        const before = emu.stats()
        emu.faults.rejectNext(1_000)
        const error = await entry.run(settings()).then(
          () => undefined,
          (err: unknown) => err,
        )
        expect(error).toBeInstanceOf(RdsIamError)
        const typed = error as RdsIamError
        expect(typed.code).toBe('RDS_IAM_AUTH_FAILED')
        spec.expectAuthCause(typed.cause)
        expect(emu.stats().rejected.InvalidToken - before.rejected.InvalidToken).toBe(RETRY.maxAttempts)
        const text = `${typed.message}\n${typed.hint}\n${inspect(typed, { depth: 8 })}`
        for (const marker of ['X-Amz-Signature', 'X-Amz-Credential', emu.credentials[0]!.secretAccessKey]) {
          expect(text).not.toContain(marker)
        }
      })
    }
  })

  describe(`${spec.adapter}: errors that are not authentication failures are never retried`, () => {
    let server: HangupServer
    beforeAll(async () => {
      server = await startHangupServer()
    })
    afterAll(() => server.close())

    test('a dropped socket fails once, untyped, with one connection attempt', async () => {
      const error = await spec.connectToHangup({ host: '127.0.0.1', port: server.port })
      expect(error).toBeInstanceOf(Error)
      expect(error).not.toBeInstanceOf(RdsIamError)
      expect(server.connections()).toBe(1)
    })
  })
}

/** What {@link runDistSmoke} loads and checks. */
export interface DistSmoke {
  /** The package directory, e.g. `new URL('..', import.meta.url)`. */
  packageDir: URL
  /** Specifiers loaded in the child process, e.g. `['@rds-iam/mysql2', '@rds-iam/mysql2/promise']`. */
  specifiers: string[]
  /** Built files that must exist first (relative to the package), e.g. `['dist/index.mjs', 'dist/index.cjs']`. */
  distFiles: string[]
  /**
   * JavaScript run after loading: `mods[specifier]` holds each module (ESM namespace or CJS
   * exports); `require` is available in both forms. It must print one JSON line with `console.log`.
   */
  probe: string
  /** Checks that JSON, for each module system and Node binary. */
  check(result: Record<string, unknown>, kind: 'import' | 'require'): void
  /** The supported-versions constant and the peer it must equal (package.json and README agree). */
  supported?: { constant: string; peer: string }
}

/**
 * Loads the BUILT package the way Node does for users (no dev-source condition), through both
 * `import` and `require`, on the Node running the tests and every binary in `RDS_IAM_TEST_NODES`,
 * in a child process each.
 *
 * @example
 * ```ts
 * runDistSmoke({ packageDir: new URL('..', import.meta.url), specifiers: ['@rds-iam/pg'], distFiles: ['dist/index.mjs', 'dist/index.cjs'], probe, check })
 * ```
 */
export function runDistSmoke(smoke: DistSmoke): void {
  const root = fileURLToPath(smoke.packageDir)
  const nodes = [process.execPath, ...(process.env.RDS_IAM_TEST_NODES ?? '').split(',').filter(Boolean)]
  const run = (node: string, kind: 'import' | 'require'): Record<string, unknown> => {
    for (const file of smoke.distFiles) {
      if (!existsSync(join(root, file))) {
        throw new Error(
          `${join(root, file)} is missing: run \`npx tsdown\` in ${root} (the root \`test\` script builds first)`,
        )
      }
    }
    const load = smoke.specifiers
      .map(
        (s) =>
          `${JSON.stringify(s)}: ${kind === 'import' ? `await import(${JSON.stringify(s)})` : `require(${JSON.stringify(s)})`}`,
      )
      .join(', ')
    const script =
      kind === 'import'
        ? `import { createRequire } from 'node:module'; const require = createRequire(process.cwd() + '/'); const mods = { ${load} }; ${smoke.probe}`
        : `const mods = { ${load} }; ${smoke.probe}`
    const args = kind === 'import' ? ['--input-type=module', '-e', script] : ['-e', script]
    const out = execFileSync(node, args, { cwd: root, encoding: 'utf8' })
    const line = out.trim().split('\n').pop() ?? ''
    return JSON.parse(line)
  }
  const matrix = nodes.flatMap((node) =>
    (['import', 'require'] as const).map((kind) => [kind, node] as const),
  )
  test.each(matrix)('the built package loads through %s on %s', (kind, node) => {
    smoke.check(run(node, kind), kind)
  })
  const supported = smoke.supported
  if (supported) {
    test('supported versions are stated equally in code, package.json and README', () => {
      const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
      expect(manifest.peerDependencies[supported.peer]).toBe(supported.constant)
      expect(readFileSync(join(root, 'README.md'), 'utf8')).toContain(`\`${supported.constant}\``)
    })
  }
}
