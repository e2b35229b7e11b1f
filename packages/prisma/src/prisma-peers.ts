import { createRequire } from 'node:module'
import { checkPeerVersion, installedPeerVersion, RdsIamError, requirePeer } from '@rds-iam/core'
import type { PgModuleLike } from '@rds-iam/pg'
import type { AdapterFactoryLike } from './internal-types.js'
import type { MariaDbPoolParts } from './mariadb-iam-pool.js'
import { SUPPORTED_MARIADB_CONNECTOR_VERSIONS, SUPPORTED_PRISMA_VERSIONS } from './supported-versions.js'

/** `@prisma/adapter-pg` together with the `pg` it was built with (its own dependency). */
export interface AdapterPgPeer {
  PrismaPg: new (pool: unknown, options?: unknown) => AdapterFactoryLike
  pg: PgModuleLike
}

/** `@prisma/adapter-mariadb` together with its own (pinned) `mariadb` connector. */
export interface AdapterMariaDbPeer {
  PrismaMariaDb: new (pool: unknown, options?: unknown) => AdapterFactoryLike
  mariadb: MariaDbModuleLike
  mariadbVersion: string | undefined
  /** The connector's pool classes, from that same copy. */
  poolParts: MariaDbPoolParts
}

/** The part of the `mariadb` connector used here. */
export interface MariaDbModuleLike {
  createPool(config: object): unknown
}

let pgPeer: AdapterPgPeer | undefined
let mariadbPeer: AdapterMariaDbPeer | undefined

/**
 * Loads `@prisma/adapter-pg` and the `pg` IT resolves. `PrismaPg` checks `instanceof pg.Pool`
 * against its own copy; a pool from any other copy is taken for a config object and the first
 * query then crashes the process, so the IAM pool must be built on exactly this `pg`.
 */
export function loadAdapterPg(): AdapterPgPeer {
  if (pgPeer) return pgPeer
  const fix = 'install it beside @rds-iam/prisma: npm install @prisma/adapter-pg'
  const mod = requirePeer<{ PrismaPg: AdapterPgPeer['PrismaPg'] }>('@prisma/adapter-pg', import.meta.url, fix)
  const entry = createRequire(import.meta.url).resolve('@prisma/adapter-pg')
  const pg = requirePeer<PgModuleLike>('pg', entry, `${fix} (its pg dependency is missing)`)
  checkPeerVersion(
    '@prisma/adapter-pg',
    installedPeerVersion('@prisma/adapter-pg', import.meta.url),
    SUPPORTED_PRISMA_VERSIONS,
  )
  pgPeer = { PrismaPg: mod.PrismaPg, pg }
  return pgPeer
}

/**
 * Loads `@prisma/adapter-mariadb` and the `mariadb` connector IT resolves (the adapter pins one
 * version; building the pool on that copy keeps the connector the adapter was written for).
 */
export function loadAdapterMariaDb(): AdapterMariaDbPeer {
  if (mariadbPeer) return mariadbPeer
  const fix = 'install it beside @rds-iam/prisma: npm install @prisma/adapter-mariadb'
  const mod = requirePeer<{ PrismaMariaDb: AdapterMariaDbPeer['PrismaMariaDb'] }>(
    '@prisma/adapter-mariadb',
    import.meta.url,
    fix,
  )
  const entry = createRequire(import.meta.url).resolve('@prisma/adapter-mariadb')
  const mariadb = requirePeer<MariaDbModuleLike>(
    'mariadb',
    entry,
    `${fix} (its mariadb dependency is missing)`,
  )
  mariadbPeer = {
    PrismaMariaDb: mod.PrismaMariaDb,
    mariadb,
    mariadbVersion: connectorVersion(entry),
    poolParts: loadPoolParts(entry),
  }
  checkPeerVersion('mariadb', mariadbPeer.mariadbVersion, SUPPORTED_MARIADB_CONNECTOR_VERSIONS)
  return mariadbPeer
}

/**
 * What `mariadb.createPool()` is made of (3.4.5: `lib/pool.js` with `lib/config/pool-options.js`,
 * its connections wrapped in `lib/connection-promise.js`), loaded from the connector's own files so
 * the pool can be a subclass of the connector's (see `MariaDbIamPool`). A connector without these files gets `RDS_IAM_UNSUPPORTED_DRIVER`.
 */
function loadPoolParts(adapterEntry: string): MariaDbPoolParts {
  const fix = `pin the mariadb connector to ${SUPPORTED_MARIADB_CONNECTOR_VERSIONS}, the version @prisma/adapter-mariadb 7.10 pins and this adapter is tested with`
  const load = <T>(file: string) => requirePeer<T>(`mariadb/lib/${file}`, adapterEntry, fix)
  const parts = {
    PoolOptions: load<MariaDbPoolParts['PoolOptions']>('config/pool-options.js'),
    Pool: load<MariaDbPoolParts['Pool']>('pool.js'),
    ConnectionPromise: load<MariaDbPoolParts['ConnectionPromise']>('connection-promise.js'),
  }
  if (Object.values(parts).some((part) => typeof part !== 'function')) {
    throw new RdsIamError(
      'RDS_IAM_UNSUPPORTED_DRIVER',
      'this mariadb connector version does not have the pool classes PrismaMariaDbIam builds its pool from',
      fix,
    )
  }
  return parts
}

/** The version of the `mariadb` package resolved from `from`, when its package.json is readable. */
export function connectorVersion(from: string): string | undefined {
  try {
    return (createRequire(from)('mariadb/package.json') as { version?: string }).version
  } catch {
    return undefined
  }
}
