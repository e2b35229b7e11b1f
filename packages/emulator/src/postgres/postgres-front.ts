import type { Server } from 'node:net'
import type { FrontContext } from '../internal-types.js'

/** Placeholder until the PostgreSQL front lands. */
export function createPostgresFront(_ctx: FrontContext): Server {
  throw new Error('not implemented')
}
