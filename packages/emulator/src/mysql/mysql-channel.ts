import type { Socket } from 'node:net'
import { encodePacket, type MysqlPacket, MysqlProtocolError, PacketReader } from './mysql-packets.js'

/** The peer closed or the socket failed while a packet was awaited. */
export class ChannelClosedError extends Error {
  override readonly name = 'ChannelClosedError'
}

/** Bound on what a {@link PacketChannel} holds unread. */
export interface ChannelLimits {
  /**
   * Most bytes held in packets not yet read plus a partial packet. Past it `onOverflow` runs (the
   * front aborts): a client never sends more than one packet ahead during the connection phase,
   * and without a bound one pushing data while authorization or the upstream login is pending
   * grows memory without end.
   */
  maxBuffered: number
  onOverflow(err: MysqlProtocolError): void
}

/**
 * Packet-at-a-time reading over a socket during the connection phase. Once the phase is over
 * `detach()` stops listening and returns the bytes that arrived past the last packet, so the
 * caller can hand them to TLS or to the relay.
 */
export class PacketChannel {
  private readonly reader: PacketReader
  private readonly ready: MysqlPacket[] = []
  private waiter: { resolve(p: MysqlPacket): void; reject(e: Error): void } | undefined
  private failure: Error | undefined
  private readyBytes = 0
  private readonly onData = (chunk: Buffer) => this.receive(chunk)
  private readonly onEnd = () => this.fail(new ChannelClosedError('connection closed by peer'))
  private readonly onError = (err: Error) => this.fail(new ChannelClosedError(err.message, { cause: err }))

  constructor(
    readonly socket: Socket,
    maxPayload: number,
    private readonly limits?: ChannelLimits,
  ) {
    this.reader = new PacketReader(maxPayload)
    socket.on('data', this.onData)
    socket.on('end', this.onEnd)
    socket.on('close', this.onEnd)
    socket.on('error', this.onError)
  }

  private receive(chunk: Buffer): void {
    if (this.failure) return
    this.reader.push(chunk)
    try {
      for (let p = this.reader.next(); p; p = this.reader.next()) {
        this.ready.push(p)
        this.readyBytes += p.payload.length + 4
      }
    } catch (err) {
      this.fail(err as Error)
      return
    }
    const held = this.readyBytes + this.reader.pending
    if (this.limits && held > this.limits.maxBuffered) {
      const err = new MysqlProtocolError(
        'flood',
        `${held} bytes sent ahead of the connection phase (limit ${this.limits.maxBuffered})`,
      )
      this.ready.length = 0
      this.readyBytes = 0
      this.reader.takeRemainder()
      this.fail(err)
      this.limits.onOverflow(err)
      return
    }
    this.flush()
  }

  private flush(): void {
    if (!this.waiter) return
    const packet = this.ready.shift()
    if (packet) {
      this.readyBytes -= packet.payload.length + 4
      const w = this.waiter
      this.waiter = undefined
      w.resolve(packet)
    } else if (this.failure) {
      const w = this.waiter
      this.waiter = undefined
      w.reject(this.failure)
    }
  }

  private fail(err: Error): void {
    if (!this.failure) this.failure = err
    this.flush()
  }

  /** The next packet; rejects with `ChannelClosedError` or `MysqlProtocolError`. */
  read(): Promise<MysqlPacket> {
    if (this.waiter) return Promise.reject(new Error('concurrent read on a packet channel'))
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject }
      this.flush()
    })
  }

  write(seq: number, payload: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(encodePacket(seq, payload))
  }

  /**
   * Stops listening and returns bytes not yet consumed as packets. The caller attaches its own
   * 'error' listener in the same tick, so no socket error goes unhandled.
   */
  detach(): Buffer {
    this.socket.pause()
    this.socket.off('data', this.onData)
    this.socket.off('end', this.onEnd)
    this.socket.off('close', this.onEnd)
    this.socket.off('error', this.onError)
    const rest = [...this.ready.map((p) => encodePacket(p.seq, p.payload)), this.reader.takeRemainder()]
    this.ready.length = 0
    this.readyBytes = 0
    return Buffer.concat(rest)
  }
}
