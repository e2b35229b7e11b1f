import type { Duplex } from 'node:stream'

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

/**
 * Buffers a stream's bytes during the handshake and hands out whole PostgreSQL packets: the
 * untyped, length-prefixed startup packets and typed `<byte><int32 length><body>` messages.
 * Lengths are checked before buffering so an oversized or lying length cannot make it grow.
 */
export class PacketReader {
  readonly #stream: Duplex
  #buffer: Buffer = Buffer.alloc(0)
  #failure: HandshakeError | undefined
  #wake: (() => void) | undefined

  readonly #onData = (chunk: Buffer): void => {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk])
    this.#notify()
  }
  readonly #onEnd = (): void =>
    this.#fail(new HandshakeError('disconnect', 'client disconnected during handshake'))
  readonly #onError = (err: Error): void => this.#fail(new HandshakeError('socket', err.message))

  constructor(stream: Duplex) {
    this.#stream = stream
    stream.on('data', this.#onData)
    stream.on('end', this.#onEnd)
    stream.on('close', this.#onEnd)
    stream.on('error', this.#onError)
  }

  /** Bytes received and not yet consumed. */
  get buffered(): number {
    return this.#buffer.length
  }

  /** Ends every pending and future read with `err` (timeouts, shutdown). */
  fail(err: HandshakeError): void {
    this.#fail(err)
  }

  /** The next byte without consuming it. */
  async peek(): Promise<number> {
    await this.#need(1)
    return this.#buffer[0]!
  }

  /** Reads a startup-phase packet (no type byte) of at most `max` bytes; returns the body after the length. */
  async untyped(max: number): Promise<Buffer> {
    await this.#need(4)
    const length = this.#buffer.readUInt32BE(0)
    if (length < 8 || length > max) {
      throw new HandshakeError('bad-length', `startup packet length ${length} outside 8..${max}`)
    }
    await this.#need(length)
    return this.#take(length).subarray(4)
  }

  /** Reads a typed message of at most `max` bytes. */
  async typed(max: number): Promise<{ type: number; body: Buffer; raw: Buffer }> {
    await this.#need(5)
    const type = this.#buffer[0]!
    const length = this.#buffer.readUInt32BE(1)
    if (length < 4 || length + 1 > max) {
      throw new HandshakeError('bad-length', `message length ${length} outside 4..${max - 1}`)
    }
    await this.#need(length + 1)
    const raw = this.#take(length + 1)
    return { type, body: raw.subarray(5), raw }
  }

  /** Stops listening and returns what was read past the last packet, for the relay to forward. */
  detach(): Buffer {
    const s = this.#stream
    s.off('data', this.#onData)
    s.off('end', this.#onEnd)
    s.off('close', this.#onEnd)
    s.off('error', this.#onError)
    const rest = this.#buffer
    this.#buffer = Buffer.alloc(0)
    return rest
  }

  #take(n: number): Buffer {
    const out = this.#buffer.subarray(0, n)
    this.#buffer = this.#buffer.subarray(n)
    return out
  }

  async #need(n: number): Promise<void> {
    while (this.#buffer.length < n) {
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
