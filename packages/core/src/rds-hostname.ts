import { RdsIamError } from './rds-iam-error.js'

/** What kind of RDS endpoint a hostname names. */
export type RdsEndpointKind =
  | 'instance'
  | 'cluster'
  | 'cluster-ro'
  | 'cluster-custom'
  | 'proxy'
  | 'shard-group'
  | 'global'
  | 'dsql'
  | 'unknown'

/** The result of {@link parseRdsHostname}. */
export interface RdsHostnameInfo {
  /** The region named by the hostname; absent for non-RDS hosts and global writer endpoints. */
  region?: string
  kind: RdsEndpointKind
}

// Region shape, not a list: two or more letters, one or more word parts, a number
// (us-east-1, us-gov-west-1, cn-northwest-1, eusc-de-east-1). New regions need no release.
const REGION_SHAPE = /^[a-z]{2,}(?:-[a-z]+)+-\d+$/
const RDS_LABEL = /^rds(?:-fips)?$/
// Aurora DSQL: <cluster-id>.dsql.<region>.on.aws (the documented shape; the id is 26 lowercase
// alphanumerics today, but the shape is what matters, so any non-empty first label is accepted).
// DSQL's FIPS endpoints are not documented at the time of writing: they are not guessed at.
const DSQL_SUFFIX = /^(?:[a-z0-9-]+\.)+dsql\.([a-z]{2,}(?:-[a-z]+)+-\d+)\.on\.aws$/

function kindOf(labels: string[]): RdsEndpointKind {
  const last = labels[labels.length - 1] ?? ''
  if (last.startsWith('cluster-ro-')) return 'cluster-ro'
  if (last.startsWith('cluster-custom-')) return 'cluster-custom'
  if (last.startsWith('cluster-')) return 'cluster'
  if (last.startsWith('proxy-')) return 'proxy'
  if (last.startsWith('shardgrp-')) return 'shard-group'
  if (last.startsWith('global-')) return 'global'
  return labels.length === 2 ? 'instance' : 'unknown'
}

/**
 * Reads the region and endpoint kind from an RDS/Aurora hostname: instance, cluster (writer,
 * `-ro`, custom), proxy, Limitless shard group, `rds-fips`, China (both forms), GovCloud and other
 * partitions; case and a trailing dot do not matter. A Global Database writer endpoint names no region.
 * Aurora DSQL endpoints (`<cluster-id>.dsql.<region>.on.aws`) are kind `'dsql'`.
 *
 * @example
 * ```ts
 * parseRdsHostname('db.cluster-abc.eu-west-1.rds.amazonaws.com') // { region: 'eu-west-1', kind: 'cluster' }
 * parseRdsHostname('abcdefghijklmnopqrstuvwxyz.dsql.us-east-1.on.aws') // { region: 'us-east-1', kind: 'dsql' }
 * ```
 */
export function parseRdsHostname(host: string): RdsHostnameInfo {
  const name = String(host).trim().toLowerCase().replace(/\.$/, '')
  const dsql = DSQL_SUFFIX.exec(name)
  if (dsql) return { region: dsql[1]!, kind: 'dsql' }
  const labels = name.split('.')
  for (let i = 1; i < labels.length - 1; i++) {
    if (!RDS_LABEL.test(labels[i] ?? '')) continue
    const before = labels[i - 1] ?? ''
    const after = labels[i + 1] ?? ''
    // Classic form: <name>.<hash>.<region>.rds.amazonaws.com (also .com.cn, .eu, GovCloud, ISO).
    if (REGION_SHAPE.test(before) && i >= 3) {
      return { region: before, kind: kindOf(labels.slice(0, i - 1)) }
    }
    // China's newer form: <name>.<hash>.rds.<region>.amazonaws.com.cn
    if (REGION_SHAPE.test(after) && labels[i + 2] === 'amazonaws' && i >= 2) {
      return { region: after, kind: kindOf(labels.slice(0, i)) }
    }
    // Aurora Global Database writer endpoint: <name>.global-<hash>.global.rds.amazonaws.com
    if (before === 'global' && i >= 3) return { kind: 'global' }
  }
  return { kind: 'unknown' }
}

/**
 * Region precedence: `iam.region` > hostname > `AWS_REGION` > `AWS_DEFAULT_REGION`.
 * @internal
 */
export function resolveRegion(
  hostname: string,
  explicit: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (explicit) return explicit
  const parsed = parseRdsHostname(hostname)
  if (parsed.region) return parsed.region
  const fromEnv = env.AWS_REGION || env.AWS_DEFAULT_REGION
  if (fromEnv) return fromEnv
  const why =
    parsed.kind === 'global'
      ? `${hostname} is an Aurora Global Database writer endpoint, which names no region`
      : `cannot tell the region of ${hostname}`
  throw new RdsIamError(
    'RDS_IAM_NO_REGION',
    why,
    "set iam: { region: 'eu-west-1' } (the region the database runs in) or the AWS_REGION environment variable",
  )
}
