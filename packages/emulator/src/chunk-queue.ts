/**
 * Bytes as a socket delivered them, kept in chunks and joined only when a read needs bytes that
 * span several: joining on every chunk made a packet trickled in n small chunks cost O(n²)
 * copying. Both fronts' packet readers hold their input in one.
 */
export class ChunkQueue {
  #chunks: Buffer[] = []
  #length = 0

  /** Bytes held. */
  get length(): number {
    return this.#length
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return
    this.#chunks.push(chunk)
    this.#length += chunk.length
  }

  /** A buffer starting with the first `n` held bytes (`n` ≤ {@link length}); joins only the chunks those span. */
  head(n: number): Buffer {
    if (this.#chunks[0]!.length < n) {
      let count = 0
      for (let have = 0; have < n; count++) have += this.#chunks[count]!.length
      this.#chunks.splice(0, count, Buffer.concat(this.#chunks.slice(0, count)))
    }
    return this.#chunks[0]!
  }

  /** Removes and returns the first `n` held bytes (`n` ≤ {@link length}). */
  take(n: number): Buffer {
    const head = this.head(n)
    if (head.length === n) this.#chunks.shift()
    else this.#chunks[0] = head.subarray(n)
    this.#length -= n
    return head.subarray(0, n)
  }

  /** Removes and returns everything held. */
  drain(): Buffer {
    const rest = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks)
    this.#chunks = []
    this.#length = 0
    return rest
  }
}
