import { execFile, spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { expect, test } from 'vitest'

const demoDir = join(dirname(fileURLToPath(import.meta.url)), '..')
const doc = join(demoDir, '..', '..', 'docs', 'testing-in-ci.md')

/** The `run: |` script of the workflow step called `name`, from the doc's yaml block, as written. */
async function workflowStep(name: string): Promise<string> {
  const text = await readFile(doc, 'utf8')
  const yaml = /```yaml\n([\s\S]*?)```/.exec(text)?.[1] ?? ''
  const lines = yaml.split('\n')
  const at = lines.findIndex((l) => l.trim() === `- name: ${name}`)
  expect(at, `step "${name}" in docs/testing-in-ci.md`).toBeGreaterThan(0)
  expect(lines[at + 1]?.trim()).toBe('run: |')
  const body: string[] = []
  const indent = /^\s*/.exec(lines[at + 2] ?? '')?.[0].length ?? 0
  for (const line of lines.slice(at + 2)) {
    if (line.trim() !== '' && (/^\s*/.exec(line)?.[0].length ?? 0) < indent) break
    body.push(line.slice(indent))
  }
  return body.join('\n')
}

// docs/testing-in-ci.md's GitHub Actions step, run under bash in a project whose node_modules has
// @rds-iam/cli and @rds-iam/emulator (this package), then the doc's connection from a test process.
test("the testing-in-ci workflow step starts the emulator and exports a key the doc's Pool logs in with", async () => {
  const script = await workflowStep('Start the RDS IAM emulator')
  expect(script).toContain('npx rds-iam emulator --engine postgres --port 15432 --ca-file .rds-iam/ca.pem')
  const work = await mkdtemp(join(demoDir, '.ci-rehearsal-'))
  const githubEnv = join(work, 'github-env')
  // Its own process group: the emulator it leaves running in the background is stopped with it.
  const step = spawn('bash', ['-e', '-c', script], {
    cwd: work,
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, GITHUB_ENV: githubEnv },
  })
  try {
    const code = await new Promise((resolve) => step.once('exit', resolve))
    expect(code).toBe(0)
    const exported = Object.fromEntries(
      (await readFile(githubEnv, 'utf8'))
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    )
    expect(Object.keys(exported).sort()).toEqual(['AWS_ACCESS_KEY_ID', 'AWS_REGION', 'AWS_SECRET_ACCESS_KEY'])

    // The doc's test code, with the step's environment (as the next workflow step gets it).
    const connect = `
      import { readFileSync } from 'node:fs'
      import { Pool } from '@rds-iam/pg'
      const pool = new Pool({
        host: process.env.DB_HOST, port: Number(process.env.DB_PORT), user: 'app_user', database: 'postgres',
        ssl: { ca: readFileSync(process.env.DB_CA_FILE ?? '.rds-iam/ca.pem', 'utf8') },
        iam: true,
      })
      const { rows } = await pool.query('select 1 as ok')
      console.log(JSON.stringify(rows))
      await pool.end()`
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')))
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', connect], {
      cwd: demoDir,
      timeout: 60_000,
      env: {
        ...clean,
        ...exported,
        DB_HOST: 'localhost',
        DB_PORT: '15432',
        DB_CA_FILE: join(work, '.rds-iam', 'ca.pem'),
      },
    })
    expect(stdout.trim()).toBe('[{"ok":1}]')
    const log = await readFile(join(work, '.rds-iam', 'emulator.log'), 'utf8')
    expect(log).toContain('IAM authentication succeeded for user "app_user"')
    expect(log).not.toMatch(/X-Amz-Signature/)
  } finally {
    if (step.pid !== undefined) {
      try {
        process.kill(-step.pid, 'SIGTERM')
      } catch {}
    }
    await rm(work, { recursive: true, force: true })
  }
}, 120_000)

// The doc's in-process block, run as written (the ts fence after "## In-process").
test("the testing-in-ci in-process block prints '2 1': a second token after the forced expiry, one refused login", async () => {
  const text = await readFile(doc, 'utf8')
  const section = text.slice(text.indexOf('## In-process'))
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1]
  expect(code).toContain('emu.faults.maxTokenAge(1)')
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', code ?? ''], {
    cwd: demoDir,
    timeout: 120_000,
  })
  expect(stdout.trim()).toBe('2 1')
}, 150_000)
