import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type CountingEndpoint, runBadConfigCases, startHangupServer } from '@rds-iam/testkit'
import { expect, test } from 'vitest'
import { PrismaMariaDbIam, PrismaPgIam } from '../src/index.js'
import { loadPrismaClient } from './prisma-fixtures.js'

const iam = { region: 'us-east-1', credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret' } }
const pg = (s: CountingEndpoint) => ({ host: s.host, port: s.port, user: 'app', database: 'db', iam })
const my = (s: CountingEndpoint) => ({ host: s.host, port: s.port, user: 'app', database: 'db', iam })

runBadConfigCases(
  'PrismaPgIam',
  [
    {
      name: 'iam with a static password',
      make: (s) => new PrismaPgIam({ ...pg(s), password: 'x' } as never),
      mentions: /password/,
    },
    {
      name: 'a password in the URL',
      make: (s) => new PrismaPgIam(`postgres://app:secret@${s.host}:${s.port}/db`),
      mentions: /password/,
    },
    {
      name: 'a MySQL URL (unsupported provider for this adapter)',
      make: (s) => new PrismaPgIam(`mysql://app@${s.host}:${s.port}/db`),
      mentions: /PrismaMariaDbIam/,
    },
    { name: 'no host', make: () => new PrismaPgIam({ user: 'app', iam }), mentions: /host/ },
    {
      name: 'an unknown iam key',
      make: (s) => new PrismaPgIam({ ...pg(s), iam: { ...iam, regoin: 'x' } as never }),
      mentions: /regoin/,
    },
    { name: 'not a config', make: () => new PrismaPgIam(42 as never), mentions: /config/ },
    {
      name: 'ssl: false without iam.insecure',
      make: (s) => new PrismaPgIam({ ...pg(s), ssl: false }),
      code: 'RDS_IAM_INSECURE_TRANSPORT',
      mentions: /insecure/,
    },
  ],
  { clearEnv: ['PGHOST', 'PGUSER', 'PGPORT'] },
)

runBadConfigCases('PrismaMariaDbIam', [
  {
    name: 'iam with a static password',
    make: (s) => new PrismaMariaDbIam({ ...my(s), password: 'x' }),
    mentions: /password/,
  },
  {
    name: 'a password in the URL',
    make: (s) => new PrismaMariaDbIam(`mysql://app:secret@${s.host}:${s.port}/db`),
    mentions: /password/,
  },
  {
    name: 'a PostgreSQL URL (unsupported provider for this adapter)',
    make: (s) => new PrismaMariaDbIam(`postgres://app@${s.host}:${s.port}/db`),
    mentions: /PrismaPgIam/,
  },
  {
    name: 'a stream option (the adapter owns it)',
    make: (s) => new PrismaMariaDbIam({ ...my(s), stream: () => {} }),
    mentions: /stream/,
  },
  { name: 'no user', make: (s) => new PrismaMariaDbIam({ ...my(s), user: undefined }), mentions: /user/ },
  {
    name: 'ssl.rejectUnauthorized: false without iam.insecure',
    make: (s) => new PrismaMariaDbIam({ ...my(s), ssl: { rejectUnauthorized: false } }),
    code: 'RDS_IAM_INSECURE_TRANSPORT',
    mentions: /insecure/,
  },
  { name: 'a URL that does not parse', make: () => new PrismaMariaDbIam('mysql://[oops'), mentions: /URL/ },
  // Review finding: the hint said "set `host` or a `the URL` with a host"; the key is now `url`.
  {
    name: 'no host: the hint names `host` and `url`',
    make: () => new PrismaMariaDbIam({ user: 'app', iam }),
    mentions: /set `host` \(the RDS\/Aurora endpoint\) or a `url` with a host/,
  },
  {
    name: '{ url, iam } with a password in the URL',
    make: (s) => new PrismaMariaDbIam({ url: `mysql://app:secret@${s.host}:${s.port}/db`, iam }),
    mentions: /password/,
  },
  {
    name: '{ url, host }: a setting both in the URL and beside it',
    make: (s) => new PrismaMariaDbIam({ url: `mysql://app@${s.host}:${s.port}/db`, host: s.host, iam }),
    mentions: /`host` is set both in `url` and beside it/,
  },
  {
    name: '{ url } that is not a string',
    make: () => new PrismaMariaDbIam({ url: 42, iam } as never),
    mentions: /`url` must be a string/,
  },
  {
    name: '{ connectionString } (the pg name): the hint says `url`',
    make: (s) => new PrismaMariaDbIam({ connectionString: `mysql://app@${s.host}:${s.port}/db`, iam }),
    mentions: /rename `connectionString` to `url`/,
  },
  {
    name: '{ url } for PostgreSQL',
    make: (s) => new PrismaMariaDbIam({ url: `postgres://app@${s.host}:${s.port}/db`, iam }),
    mentions: /PrismaPgIam/,
  },
])

test('an adapter for another provider than schema.prisma: Prisma refuses it at construction, before any traffic', async () => {
  const server = await startHangupServer()
  try {
    const PrismaClient = loadPrismaClient('mysql')
    const adapter = new PrismaPgIam({ host: '127.0.0.1', port: server.port, user: 'app', iam })
    expect(() => new PrismaClient({ adapter })).toThrow(/not compatible with the provider `mysql`/)
    expect(server.connections()).toBe(0)
  } finally {
    await server.close()
  }
})

test('a `url` in schema.prisma cannot fight the adapter: Prisma 7 refuses the schema (P1012)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rds-iam-prisma-url-'))
  try {
    const schema = join(dir, 'schema.prisma')
    writeFileSync(
      schema,
      'generator client {\n  provider = "prisma-client-js"\n  output = "./generated"\n}\n\ndatasource db {\n  provider = "postgresql"\n  url      = "postgres://app:secret@db.example.com/db"\n}\n',
    )
    const cli = fileURLToPath(import.meta.resolve('prisma/build/index.js'))
    let output = ''
    try {
      execFileSync(process.execPath, [cli, 'validate', '--schema', schema], {
        cwd: fileURLToPath(new URL('..', import.meta.url)),
        env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.execPath, CHECKPOINT_DISABLE: '1' },
        stdio: 'pipe',
        encoding: 'utf8',
      })
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string }
      output = `${e.stdout ?? ''}${e.stderr ?? ''}`
    }
    expect(output).toMatch(/P1012/)
    expect(output).toMatch(/`url` is no longer supported/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
