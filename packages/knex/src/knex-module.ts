import { checkPeerVersion, installedPeerVersion, requirePeer } from '@rds-iam/core'
import type { DriverKind, KnexDialectClass, KnexModuleLike } from './internal-types.js'
import { SUPPORTED_KNEX_VERSIONS } from './supported-versions.js'

let resolved: KnexModuleLike | undefined
const dialects = new WeakMap<KnexModuleLike, Partial<Record<DriverKind, KnexDialectClass>>>()

/**
 * The `knex` the application installed. knex is a peer dependency, so resolving it from this
 * package finds the application's copy; loaded on first use.
 */
export function loadKnex(): KnexModuleLike {
  if (!resolved)
    checkPeerVersion('knex', installedPeerVersion('knex', import.meta.url), SUPPORTED_KNEX_VERSIONS)
  resolved ??= requirePeer<KnexModuleLike>(
    'knex',
    import.meta.url,
    'install it beside @rds-iam/knex (npm install knex), or pass your copy: withIam(config, { knex })',
  )
  return resolved
}

/**
 * The dialect class knex itself would use for `client: kind`, taken from a connection-less knex
 * instance of that very module. knex 3.2.0–3.2.7 export only their main entry, so a deep import of
 * `knex/lib/dialects/…` fails there; without a `connection` the instance loads no driver and
 * opens no pool, so this costs nothing and touches no network.
 */
export function dialectClass(knex: KnexModuleLike, kind: DriverKind): KnexDialectClass {
  let byKind = dialects.get(knex)
  if (!byKind) {
    byKind = {}
    dialects.set(knex, byKind)
  }
  const cached = byKind[kind]
  if (cached) return cached
  const Dialect = knex({ client: kind }).client.constructor as KnexDialectClass
  byKind[kind] = Dialect
  return Dialect
}
