import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { type HandshakeError, PacketReader } from './packet-reader.js'

function typedMessage(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5)
  head.write(type, 0, 'latin1')
  head.writeUInt32BE(body.length + 4, 1)
  return Buffer.concat([head, body])
}

describe('PacketReader', () => {
  it('reassembles messages split into 1-byte chunks and keeps what follows for detach()', async () => {
    const stream = new PassThrough()
    const reader = new PacketReader(stream)
    const body = Buffer.from(`${'t'.repeat(3000)}\0`)
    const wire = Buffer.concat([
      typedMessage('p', body),
      typedMessage('Q', Buffer.from('select 1\0')),
      Buffer.from('xy'),
    ])
    for (const byte of wire) stream.write(Buffer.of(byte))
    const first = await reader.typed(10_240)
    expect(first.type).toBe(0x70)
    expect(first.body).toEqual(body)
    const second = await reader.typed(10_240)
    expect(second.body.toString()).toBe('select 1\0')
    expect(reader.buffered).toBe(2)
    expect(reader.detach().toString()).toBe('xy')
  })

  it('with limits, reports a flood once and stops holding bytes, whether or not a read is pending', async () => {
    const stream = new PassThrough()
    const overflows: HandshakeError[] = []
    const reader = new PacketReader(stream, { maxBuffered: 64 * 1024, onOverflow: (e) => overflows.push(e) })
    const chunk = Buffer.alloc(16 * 1024)
    for (let i = 0; i < 1024; i++) stream.write(chunk) // 16 MB, nobody reading
    await new Promise((r) => setImmediate(r))
    expect(overflows.map((e) => e.kind)).toEqual(['flood'])
    expect(reader.buffered).toBe(0)
    await expect(reader.typed(10_240)).rejects.toMatchObject({ kind: 'flood' })
  })
})
