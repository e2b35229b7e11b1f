import type { Duplex } from 'node:stream'
import { ChunkQueue } from '../chunk-queue.js'

/** Why a handshake read failed; the front turns `kind` into a protocolError count. */
export class HandshakeError extends Error {
  constructor(
    readonly kind: string,
    message: string,
  ) {
    super(message)
    this.name = 'HandshakeError'
  }
}

/** Bounds of a {@link PacketReader}. */
export interface PacketReaderLimits {
  /**
   * Most bytes held unconsumed. Past it `onOverflow` runs (the front aborts the connection): a
   * client has no business sending more than one handshake packet ahead, and without a bound a
   * client pushing data while authorization or the upstream login is pending grows memory.
   */
  maxBuffered: number
  onOverflow(err: HandshakeError): void
}

/**
 * Buffers a stream's bytes during the handshake and hands out whole PostgreSQL packets: the
 * untyped, length-prefixed startup packets and typed `<byte><int32 length><body>` messages.
 * Lengths are checked before buffering so an oversized or lying length cannot make it grow, and
 * with `limits` the buffer itself is bounded in every phase, read pending or not.
 */
export class PacketReader {
  readonly #stream: Duplex
  readonly #limits: PacketReaderLimits | undefined
  /** Chunks as received; joined only when a read needs bytes across them (no per-chunk copy). */
  readonly #bytes = new ChunkQueue()
  #failure: HandshakeError | undefined
  #wake: (() => void) | undefined

  readonly #onData = (chunk: Buffer): void => {
    if (this.#failure !== undefined) return
    this.#bytes.push(chunk)
    const limits = this.#limits
    if (limits !== undefined && this.#bytes.length > limits.maxBuffered) {
      const err = new HandshakeError(
        'flood',
        `${this.#bytes.length} bytes sent ahead of the handshake (limit ${limits.maxBuffered})`,
      )
      this.#bytes.drain() // dropped: nothing past the limit is kept
      this.#fail(err)
      limits.onOverflow(err)
      return
    }
    this.#notify()
  }
  readonly #onEnd = (): void =>
    this.#fail(new HandshakeError('disconnect', 'client disconnected during handshake'))
  readonly #onError = (err: Error): void => this.#fail(new HandshakeError('socket', err.message))

  constructor(stream: Duplex, limits?: PacketReaderLimits) {
    this.#stream = stream
    this.#limits = limits
    stream.on('data', this.#onData)
    stream.on('end', this.#onEnd)
    stream.on('close', this.#onEnd)
    stream.on('error', this.#onError)
  }

  /** Bytes received and not yet consumed. */
  get buffered(): number {
    return this.#bytes.length
  }

  /** Ends every pending and future read with `err` (timeouts, shutdown). */
  fail(err: HandshakeError): void {
    this.#fail(err)
  }

  /** The next byte without consuming it. */
  async peek(): Promise<number> {
    await this.#need(1)
    return this.#bytes.head(1)[0]!
  }

  /** Reads a startup-phase packet (no type byte) of at most `max` bytes; returns the body after the length. */
  async untyped(max: number): Promise<Buffer> {
    await this.#need(4)
    const length = this.#bytes.head(4).readUInt32BE(0)
    if (length < 8 || length > max) {
      throw new HandshakeError('bad-length', `startup packet length ${length} outside 8..${max}`)
    }
    await this.#need(length)
    return this.#bytes.take(length).subarray(4)
  }

  /** Reads a typed message of at most `max` bytes. */
  async typed(max: number): Promise<{ type: number; body: Buffer; raw: Buffer }> {
    await this.#need(5)
    const head = this.#bytes.head(5)
    const type = head[0]!
    const length = head.readUInt32BE(1)
    if (length < 4 || length + 1 > max) {
      throw new HandshakeError('bad-length', `message length ${length} outside 4..${max - 1}`)
    }
    await this.#need(length + 1)
    const raw = this.#bytes.take(length + 1)
    return { type, body: raw.subarray(5), raw }
  }

  /** Stops listening and returns what was read past the last packet, for the relay to forward. */
  detach(): Buffer {
    const s = this.#stream
    s.off('data', this.#onData)
    s.off('end', this.#onEnd)
    s.off('close', this.#onEnd)
    s.off('error', this.#onError)
    return this.#bytes.drain()
  }

  async #need(n: number): Promise<void> {
    while (this.#bytes.length < n) {
      if (this.#failure !== undefined) throw this.#failure
      await new Promise<void>((resolve) => {
        this.#wake = resolve
      })
    }
  }

  #fail(err: HandshakeError): void {
    this.#failure ??= err
    this.#notify()
  }

  #notify(): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }
}
