import { createRequire } from 'node:module'
import { type Emulator, startEmulator } from '@rds-iam/emulator'
import { TEST_URLS } from '@rds-iam/testkit'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Client, createClient, type PgModuleLike } from '../src/index.js'
import { type CountingRelay, startCountingRelay } from './counting-relay.js'

// Review finding: client.end() called while connect() was still preparing the token resolved at
// once (pg saw no socket yet), and connect() then logged in anyway: an open session nobody would
// close, keeping the process alive. Plain pg aborts the login. Now connect() rejects the way pg
// reports a connection ended by end() (Error 'Connection terminated'), and no socket is opened.

type Credential = Emulator['credentials'][number]

const pgLatest = createRequire(import.meta.url)('pg-latest') as PgModuleLike

describe.each([
  ['pg 8.11', (config: ConstructorParameters<typeof Client>[0]) => new Client(config)],
  ['pg latest', (config: ConstructorParameters<typeof Client>[0]) => createClient(config, { pg: pgLatest })],
])('%s: client.end() while connect() prepares the token', (_label, makeClient) => {
  let emu: Emulator
  let relay: CountingRelay
  beforeAll(async () => {
    emu = await startEmulator({ engine: 'postgres', upstream: TEST_URLS.postgres })
    relay = await startCountingRelay(emu.port)
  })
  afterAll(async () => {
    await relay?.close()
    await emu?.stop()
  })

  let n = 0
  /** A client whose credential source answers only when the test says so. */
  const gatedClient = () => {
    let asked!: () => void
    const wasAsked = new Promise<void>((resolve) => {
      asked = resolve
    })
    let answer!: (c: Credential) => void
    const client = makeClient({
      host: '127.0.0.1',
      port: relay.port,
      user: `end_while_connecting_${process.pid}_${n++}`,
      database: 'test',
      ssl: { ca: emu.ca },
      iam: {
        region: emu.region,
        credentials: () => {
          asked()
          return new Promise<Credential>((resolve) => {
            answer = resolve
          })
        },
        signingHostname: 'localhost',
        signingPort: emu.port,
      },
    })
    return { client, wasAsked, answer: () => answer(emu.credentials[0]!) }
  }

  test('connect() rejects with pg\'s "Connection terminated", a queued query too; nothing reaches the server', async () => {
    const { client, wasAsked, answer } = gatedClient()
    const errors: unknown[] = []
    client.on('error', (e) => errors.push(e))
    const before = emu.stats()
    const connections = relay.connections()
    const queued = client.query('select 1').then(
      () => new Error('query ran'),
      (e: unknown) => e,
    )
    const connecting = client.connect().then(
      () => new Error('connected after end()'),
      (e: unknown) => e,
    )
    await wasAsked
    await client.end()
    answer()

    const err = await connecting
    expect(err).toBeInstanceOf(Error)
    expect((err as Error).message).toBe('Connection terminated')
    expect((err as { code?: unknown }).code).toBeUndefined()
    expect(await queued).toBe(err)
    expect(errors).toEqual([])
    expect(relay.connections()).toBe(connections)
    expect(emu.stats()).toEqual(before)
  })

  test('the callback form reports the same error', async () => {
    const { client, wasAsked, answer } = gatedClient()
    const connections = relay.connections()
    const connecting = new Promise<unknown>((resolve) => client.connect((e: Error) => resolve(e)))
    await wasAsked
    await client.end()
    answer()
    expect(await connecting).toMatchObject({ message: 'Connection terminated' })
    expect(relay.connections()).toBe(connections)
  })

  test('control: without end() the same client logs in once the credentials arrive', async () => {
    const { client, wasAsked, answer } = gatedClient()
    const connections = relay.connections()
    const connecting = client.connect()
    await wasAsked
    answer()
    await connecting
    try {
      expect((await client.query('select 1 as one')).rows).toEqual([{ one: 1 }])
      expect(relay.connections() - connections).toBe(1)
    } finally {
      await client.end()
    }
  })
})
