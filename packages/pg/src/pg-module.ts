import { checkPeerVersion, installedPeerVersion, requirePeer, unsupportedDriver } from '@rds-iam/core'
import type { PgModuleLike } from './internal-types.js'
import { SUPPORTED_PG_VERSIONS } from './supported-versions.js'

let resolved: PgModuleLike | undefined

/**
 * The `pg` the application installed. pg is a peer dependency, so resolving it from this
 * package finds the application's copy (npm hoists it; pnpm links the peer beside us). It is
 * loaded on first use, so importing `withIam` alone never loads pg.
 */
export function loadPg(): PgModuleLike {
  if (!resolved) checkPeerVersion('pg', installedPeerVersion('pg', import.meta.url), SUPPORTED_PG_VERSIONS)
  resolved ??= requirePeer<PgModuleLike>(
    'pg',
    import.meta.url,
    'install it beside @rds-iam/pg (npm install pg), or pass your copy: createPool(config, { pg })',
  )
  return resolved
}

/**
 * Rejects pg-native (and `NODE_PG_FORCE_NATIVE`): libpq does its own authentication and never
 * calls a password function, so it cannot take a fresh token per connection.
 */
export function assertJsClient(Client: unknown): void {
  const proto = typeof Client === 'function' ? (Client.prototype as Record<string, unknown>) : undefined
  if (!proto || typeof proto._handleAuthCleartextPassword !== 'function') {
    throw unsupportedDriver(
      'pg-native',
      'use the pure JavaScript pg driver: import pg (not pg.native) and unset NODE_PG_FORCE_NATIVE',
    )
  }
}
