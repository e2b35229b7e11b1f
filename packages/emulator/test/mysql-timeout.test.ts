import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import mysql from 'mysql2/promise'
import { afterEach, describe, expect, it } from 'vitest'
import {
  eventually,
  iamOptions,
  type MysqlEmulator,
  requireMysql,
  startMysqlEmulator,
} from './fixtures/mysql-env.js'

const available = await requireMysql()

/** Resolves when the peer closes, or after `ms`; never rejects. */
function closedOrAfter(socket: Socket, ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve()
    const t = setTimeout(resolve, ms)
    socket.once('close', () => {
      clearTimeout(t)
      resolve()
    })
  })
}

describe.skipIf(!available)('mysql front: handshake timeout', () => {
  let emu: MysqlEmulator | undefined
  afterEach(async () => {
    await emu?.stop()
    emu = undefined
  })

  it('drops a client that stops mid-handshake once handshakeTimeoutMs passes', async () => {
    const lines: string[] = []
    const e = await startMysqlEmulator({ handshakeTimeoutMs: 300, log: (l) => lines.push(l) })
    emu = e
    const s = connect(e.port, '127.0.0.1')
    s.on('error', () => {})
    await once(s, 'data') // the greeting; then silence
    expect(s.destroyed).toBe(false)
    await closedOrAfter(s, 5_000)
    expect(s.destroyed || s.readableEnded).toBe(true)
    await eventually(() => e.stats().protocolErrors === 1, 'the timeout to be counted')
    expect(lines).toContain('protocol error: timeout')
  })

  it('does not time out a client whose token is being verified slowly', async () => {
    const e = await startMysqlEmulator({ handshakeTimeoutMs: 300 })
    emu = e
    e.faults.latency(600) // authorization outlasts the handshake timeout
    const conn = await mysql.createConnection(iamOptions(e, 'patient_user'))
    const [rows] = await conn.query('select 1 as ok')
    await conn.end()
    expect(rows).toEqual([{ ok: 1 }])
    expect(e.stats()).toMatchObject({ accepted: 1, protocolErrors: 0 })
  })
})
