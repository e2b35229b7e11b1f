import { execFile } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { requireService, TEST_URLS } from '@rds-iam/test-services'
import { expect, test } from 'vitest'

const demo = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'demo.mjs')

interface Run {
  code: number
  stdout: string
  stderr: string
  rows: Record<string, string>[]
}

/** Runs `pnpm demo`'s script (the root script only builds first) and reads its summary table. */
function runDemo(env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [demo],
      {
        timeout: 200_000,
        env: { ...process.env, ...env, RDS_IAM_DEMO_PG_URL: env.RDS_IAM_DEMO_PG_URL ?? '' },
      },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') return reject(err)
        const lines = stdout.split('\n')
        const head = lines.findIndex((l) => l.startsWith('example '))
        const rows = []
        for (const line of lines.slice(head + 2)) {
          if (line.trim() === '') break
          // Typed as a full row; a short one would fail the column checks of the tests anyway.
          const [example, engine, connections, tokens, retries, ...result] = line.split(/\s{2,}/) as [
            string,
            string,
            string,
            string,
            string,
            ...string[],
          ]
          rows.push({ example, engine, connections, tokens, retries, result: result.join('  ') })
        }
        resolve({ code: typeof err?.code === 'number' ? err.code : 0, stdout, stderr, rows })
      },
    )
  })
}

test('pnpm demo runs every PostgreSQL example over IAM on PGlite to an all-OK summary, and names how to add MySQL', async () => {
  // Port 1: nothing listens there, so the run is the fresh machine without MySQL.
  const { code, stdout, rows } = await runDemo({ RDS_IAM_DEMO_MYSQL_URL: 'mysql://root@127.0.0.1:1/test' })
  expect(rows.map((r) => [r.example, r.engine, r.result])).toEqual([
    ['pg', 'postgres', 'OK'],
    ['knex', 'postgres', 'OK'],
    ['sequelize', 'postgres', 'OK'],
    ['typeorm', 'postgres', 'OK'],
    ['prisma', 'postgres', 'OK'],
  ])
  for (const row of rows) {
    // A first token, then a new one after the forced expiry; the refused aged token was retried.
    expect(Number(row.tokens), row.example).toBe(2)
    expect(Number(row.retries), row.example).toBeGreaterThanOrEqual(1)
    expect(Number(row.connections), row.example).toBeGreaterThanOrEqual(2)
  }
  expect(code).toBe(0)
  expect(stdout).toContain('in front of an embedded PGlite')
  expect(stdout.match(/TLS verified: true|certificate verified: true/g)).toHaveLength(5)
  expect(stdout).toContain(
    'MySQL examples (mysql2, knex, sequelize, typeorm) not run: nothing listens on 127.0.0.1:1. Start MySQL or MariaDB there (docker compose up -d --wait) or set RDS_IAM_DEMO_MYSQL_URL, then run pnpm demo again.',
  )
  expect(stdout).toContain('5 example(s) OK')
  expect(stdout).not.toMatch(/X-Amz-|Action=connect/)
})

test('pnpm demo runs mysql2 and the MySQL variants of the knex, Sequelize and TypeORM apps on a second emulator when MySQL is reachable', async (ctx) => {
  await requireService('mysql', { skip: (note) => ctx.skip(note) })
  const { code, stdout, rows } = await runDemo({
    RDS_IAM_DEMO_ONLY: 'mysql2,knex:mysql,sequelize:mysql,typeorm:mysql',
  })
  expect(rows).toEqual(
    ['mysql2', 'knex', 'sequelize', 'typeorm'].map((example) =>
      expect.objectContaining({ example, engine: 'mysql', tokens: '2', retries: '1', result: 'OK' }),
    ),
  )
  expect(stdout).toContain('knex · the same Knex app on client mysql2 (mysql)')
  expect(stdout).toContain('balances: alice=70 bob=80 carol=20')
  expect(stdout).toContain('orders: 1; stock {"tea":9,"coffee":5,"cocoa":2}; rolled back: only 2 cocoa left')
  expect(stdout).toContain('orders: tea (shipped), coffee (new), cocoa (new), mate (shipped)')
  expect(stdout.match(/TLS verified: true|certificate verified: true/g)).toHaveLength(4)
  expect(code).toBe(0)
  expect(stdout).toContain('starting a second emulator (engine mysql)')
  expect(stdout).not.toMatch(/X-Amz-|Action=connect/)
})

test('pnpm demo stops with a clear error, before running anything, when RDS_IAM_DEMO_MYSQL_URL names a login the server refuses', async (ctx) => {
  // A TCP connect to the server succeeds; only a real login shows the URL cannot work. The user set
  // the URL, so this is an error rather than the skip the default URL gets.
  await requireService('mysql', { skip: (note) => ctx.skip(note) })
  const url = new URL(TEST_URLS.mysql)
  url.username = 'rds_iam_demo_nobody'
  url.password = 'rds-iam-demo-pw'
  const { code, stdout, stderr } = await runDemo({ RDS_IAM_DEMO_MYSQL_URL: url.toString() })
  expect(code).toBe(1)
  expect(stderr).toContain(
    `✘ RDS_IAM_DEMO_MYSQL_URL: ${url.host} refused rds_iam_demo_nobody@${url.hostname} with the password given (ER_ACCESS_DENIED_ERROR). ` +
      'Point it at a user that can log in (mysql://user:pass@host:port/db), or unset it to skip the MySQL examples.',
  )
  // Refused before the PostgreSQL half: no emulator started, no example ran, no summary table.
  expect(stdout).not.toContain('starting')
  expect(stdout).not.toMatch(/^example /m)
  expect(stdout + stderr).not.toContain('rds-iam-demo-pw')
})

test('pnpm demo exits non-zero and says which example failed when a login cannot complete', async () => {
  // The emulator in front of a PostgreSQL that is not there: the login is refused, the row says why.
  const { code, stdout, rows } = await runDemo({
    RDS_IAM_DEMO_ONLY: 'pg',
    RDS_IAM_DEMO_PG_URL: 'postgres://postgres:secret-pw@127.0.0.1:1/test',
  })
  expect(code).toBe(1)
  expect(rows).toHaveLength(1)
  expect(rows[0]?.result).toMatch(/^FAILED: 08006 .*unreachable/)
  expect(stdout).toContain('1 of 1 example(s) failed.')
  expect(stdout).not.toContain('secret-pw')
})
