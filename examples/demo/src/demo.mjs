// `pnpm demo`: starts one RDS IAM emulator on an embedded PostgreSQL (PGlite) and runs every
// example app against it over IAM, then the MySQL examples on a second emulator when a MySQL or
// MariaDB is reachable; ends with a summary table and a non-zero exit code if any example failed.
// Offline, no database server needed. Each app is the same `run()` its own `main.mjs` runs.
import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { startEmulator } from '@rds-iam/emulator'
import { probeMysql } from './mysql-probe.mjs'
import { createStepper } from './progress-spinner.mjs'

const out = process.stdout
const step = createStepper(out)
const say = (line = '') => out.write(`${line}\n`)
const require = createRequire(import.meta.url)
const exampleDir = (name) => dirname(require.resolve(`@rds-iam/example-${name}/package.json`))

/** The examples, in the order they run; `engine` picks the emulator. */
const EXAMPLES = [
  { name: 'pg', engine: 'postgres', what: 'node-postgres Pool through @rds-iam/pg' },
  { name: 'knex', engine: 'postgres', what: 'Knex migrations, seeds, transactions through @rds-iam/knex' },
  {
    name: 'sequelize',
    engine: 'postgres',
    what: 'Sequelize models and transactions through @rds-iam/sequelize',
  },
  {
    name: 'typeorm',
    engine: 'postgres',
    what: 'TypeORM DataSource, migrations, repositories through @rds-iam/typeorm',
  },
  { name: 'prisma', engine: 'postgres', what: 'Prisma 7 client over PrismaPgIam from @rds-iam/prisma' },
  { name: 'mysql2', engine: 'mysql', what: 'mysql2 promise pool through @rds-iam/mysql2' },
  { name: 'knex', engine: 'mysql', what: 'the same Knex app on client mysql2' },
  { name: 'sequelize', engine: 'mysql', what: 'the same Sequelize app on dialect mysql' },
  { name: 'typeorm', engine: 'mysql', what: 'the same TypeORM app on type mysql' },
]

const only = process.env.RDS_IAM_DEMO_ONLY?.split(',').map((s) => s.trim())
// RDS_IAM_DEMO_ONLY=pg,knex:mysql runs those only (a name alone: on every engine it has).
const selected = EXAMPLES.filter(
  (e) => !only || only.includes(e.name) || only.includes(`${e.name}:${e.engine}`),
)
const mysqlUrlGiven = Boolean(process.env.RDS_IAM_DEMO_MYSQL_URL)
const mysqlUrl = process.env.RDS_IAM_DEMO_MYSQL_URL || 'mysql://root@127.0.0.1:3306/test'
const pgUrl = process.env.RDS_IAM_DEMO_PG_URL || undefined
// Only host:port is ever printed: a URL may carry a password.
const pgWhere = pgUrl ? `PostgreSQL at ${new URL(pgUrl).host}` : 'an embedded PGlite'

/** Runs one example's app on `emu` and measures it through the emulator's own counters. */
async function runExample(example, emu, extra = {}) {
  say()
  say(`${example.name} · ${example.what} (${example.engine})`)
  const before = emu.stats()
  const row = {
    example: example.name,
    engine: example.engine,
    connections: 0,
    tokens: 0,
    retries: 0,
    result: 'OK',
  }
  try {
    const { run } = await import(join(exampleDir(example.name), 'src', 'app.mjs'))
    const result = await run({
      emu,
      ...extra,
      engine: example.engine,
      user: `demo_${example.name}`,
      log: (line) => say(`  ${line}`),
      step: (label, work) => step(label, work, '  '),
    })
    row.tokens = result.tokensSigned
    if (!result.tlsVerified) row.result = 'FAILED: TLS not verified'
    else if (result.tokensSigned < 2) row.result = 'FAILED: no new token after the forced expiry'
  } catch (err) {
    const message = String(err?.message ?? err).split('\n')[0]
    row.result = `FAILED: ${err?.code ? `${err.code} ` : ''}${message}`
    say(`  ✘ ${row.result}`)
  } finally {
    emu.faults.reset()
    const after = emu.stats()
    row.connections = after.accepted - before.accepted
    // A retry is a login the emulator refused for an aged or throttled token that the adapter then
    // repeated with a new token (InvalidToken comes from the apps' deliberate plain-password try).
    row.retries =
      after.rejected.ExpiredToken -
      before.rejected.ExpiredToken +
      (after.rejected.ThrottlingException - before.rejected.ThrottlingException)
  }
  return row
}

function table(rows) {
  const head = ['example', 'engine', 'connections opened', 'tokens signed', 'retries', 'result']
  const cells = rows.map((r) =>
    [r.example, r.engine, r.connections, r.tokens, r.retries, r.result].map(String),
  )
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)))
  const line = (c) =>
    c
      .map((v, i) => v.padEnd(widths[i]))
      .join('  ')
      .trimEnd()
  return [line(head), line(widths.map((w) => '─'.repeat(w))), ...cells.map(line)].join('\n')
}

say('rds-iam demo: every example app logs in with IAM tokens through a local RDS emulator.')
say('Tokens are signed and verified locally (SigV4, as RDS does it); no token is ever printed.')
say()

const rows = []
const pgExamples = selected.filter((e) => e.engine === 'postgres')
const mysqlExamples = selected.filter((e) => e.engine === 'mysql')

// Probed before the PostgreSQL half so a wrong RDS_IAM_DEMO_MYSQL_URL fails in seconds, not after it.
const mysqlProbe = mysqlExamples.length > 0 ? await probeMysql(mysqlUrl) : undefined
// A server that answers but refuses the login (or lacks the database) is skipped for the default
// URL: that is a machine's stock MySQL, not one set up for the demo. A URL the user set must work,
// so that is an error. Nothing listening is a skip either way (the server may simply be stopped).
if (mysqlProbe && !mysqlProbe.ok && mysqlProbe.kind !== 'unreachable' && mysqlUrlGiven) {
  process.stderr.write(
    `✘ RDS_IAM_DEMO_MYSQL_URL: ${mysqlProbe.reason}. Point it at a user that can log in ` +
      '(mysql://user:pass@host:port/db), or unset it to skip the MySQL examples.\n',
  )
  process.exit(1)
}

if (pgExamples.some((e) => e.name === 'prisma')) {
  const root = exampleDir('prisma')
  await step('generating the Prisma client (prisma generate, offline)', () =>
    promisify(execFile)(process.execPath, [join(root, 'scripts', 'generate.mjs')], { cwd: root }),
  )
}

if (pgExamples.length > 0) {
  const emu = await step(`starting the RDS IAM emulator in front of ${pgWhere}`, () =>
    startEmulator({ engine: 'postgres', ...(pgUrl ? { upstream: pgUrl } : {}) }),
  )
  say(`emulator: ${emu.endpoint}, region ${emu.region}, its own CA and test access key`)
  try {
    for (const example of pgExamples) rows.push(await runExample(example, emu))
  } finally {
    await emu.stop()
  }
}

if (mysqlExamples.length > 0) {
  if (rows.length > 0) say()
  const where = new URL(mysqlUrl).host
  if (mysqlProbe?.ok) {
    const emu = await step(`starting a second emulator (engine mysql) in front of ${where}`, () =>
      startEmulator({ engine: 'mysql', upstream: mysqlUrl }),
    )
    say(`emulator: ${emu.endpoint}, region ${emu.region}`)
    try {
      const database = new URL(mysqlUrl).pathname.slice(1) || 'test'
      for (const example of mysqlExamples) rows.push(await runExample(example, emu, { database }))
    } finally {
      await emu.stop()
    }
    say()
    say(
      "(Prisma on MySQL, PrismaMariaDbIam, is tested in packages/prisma: this example's schema is PostgreSQL.)",
    )
  } else {
    const how = {
      unreachable: 'Start MySQL or MariaDB there (docker compose up -d --wait) or set RDS_IAM_DEMO_MYSQL_URL',
      refused: 'Set RDS_IAM_DEMO_MYSQL_URL=mysql://user:pass@host:port/db naming a user that can log in',
      'no-database': `Create it or set RDS_IAM_DEMO_MYSQL_URL=mysql://user:pass@host:port/db`,
    }[mysqlProbe.kind]
    say(
      `MySQL examples (${mysqlExamples.map((e) => e.name).join(', ')}) not run: ${mysqlProbe.reason}. ` +
        `${how}, then run pnpm demo again.`,
    )
  }
}

say()
say(table(rows))
const failed = rows.filter((r) => r.result !== 'OK')
say()
say(
  failed.length === 0
    ? `${rows.length} example(s) OK: every one signed a token, verified TLS, wrote and read rows, and got a new token after its token expired.`
    : `${failed.length} of ${rows.length} example(s) failed.`,
)
process.exitCode = failed.length === 0 && rows.length > 0 ? 0 : 1
