import { checkPeerVersion, installedPeerVersion, requirePeer } from '@rds-iam/core'
import type { Mysql2ModuleLike, Mysql2PromiseModuleLike } from './internal-types.js'
import { SUPPORTED_MYSQL2_VERSIONS } from './supported-versions.js'

let callbackApi: Mysql2ModuleLike | undefined
let promiseApi: Mysql2PromiseModuleLike | undefined

/**
 * mysql2 is a peer dependency, so resolving it from this package finds the application's copy
 * (npm hoists it; pnpm links the peer beside us). Loaded on first use only.
 */
export function loadMysql2(): Mysql2ModuleLike {
  callbackApi ??= load('mysql2') as Mysql2ModuleLike
  return callbackApi
}

/** `mysql2/promise` of the application's mysql2. */
export function loadMysql2Promise(): Mysql2PromiseModuleLike {
  promiseApi ??= load('mysql2/promise') as Mysql2PromiseModuleLike
  return promiseApi
}

function load(id: string): unknown {
  checkPeerVersion('mysql2', installedPeerVersion('mysql2', import.meta.url), SUPPORTED_MYSQL2_VERSIONS)
  return requirePeer(
    id,
    import.meta.url,
    'install it beside @rds-iam/mysql2 (npm install mysql2), or pass your copy: createPool(config, { mysql2 })',
  )
}
