import { describe, expect, it } from 'vitest'
import { parseRdsHostname, resolveRegion } from './rds-hostname.js'
import { RdsIamError } from './rds-iam-error.js'

const SHAPES: [string, string | undefined, string][] = [
  ['mydb.c9akciq32.us-east-1.rds.amazonaws.com', 'us-east-1', 'instance'],
  ['mydb.cluster-c9akciq32.eu-west-1.rds.amazonaws.com', 'eu-west-1', 'cluster'],
  ['mydb.cluster-ro-c9akciq32.ap-southeast-2.rds.amazonaws.com', 'ap-southeast-2', 'cluster-ro'],
  ['reporting.cluster-custom-c9akciq32.eu-central-1.rds.amazonaws.com', 'eu-central-1', 'cluster-custom'],
  ['myproxy.proxy-c9akciq32.us-west-2.rds.amazonaws.com', 'us-west-2', 'proxy'],
  ['reader.endpoint.proxy-c9akciq32.us-west-2.rds.amazonaws.com', 'us-west-2', 'proxy'],
  ['limitless.shardgrp-c9akciq32.us-east-2.rds.amazonaws.com', 'us-east-2', 'shard-group'],
  ['mydb.c9akciq32.us-east-1.rds-fips.amazonaws.com', 'us-east-1', 'instance'],
  ['mydb.cluster-c9akciq32.us-gov-west-1.rds.amazonaws.com', 'us-gov-west-1', 'cluster'],
  ['mydb.c9akciq32.rds.cn-north-1.amazonaws.com.cn', 'cn-north-1', 'instance'],
  ['mydb.cluster-c9akciq32.rds.cn-northwest-1.amazonaws.com.cn', 'cn-northwest-1', 'cluster'],
  ['mydb.c9akciq32.cn-north-1.rds.amazonaws.com.cn', 'cn-north-1', 'instance'],
  ['mydb.c9akciq32.eusc-de-east-1.rds.amazonaws.eu', 'eusc-de-east-1', 'instance'],
  ['mydb.c9akciq32.us-iso-east-1.rds.c2s.ic.gov', 'us-iso-east-1', 'instance'],
  ['mydb.c9akciq32.il-central-1.rds.amazonaws.com.', 'il-central-1', 'instance'],
  ['MyDB.Cluster-C9AKCIQ32.EU-WEST-3.RDS.AMAZONAWS.COM', 'eu-west-3', 'cluster'],
  ['mydb.c9akciq32.xx-future-9.rds.amazonaws.com', 'xx-future-9', 'instance'],
  ['myglobal.global-c9akciq32.global.rds.amazonaws.com', undefined, 'global'],
  ['localhost', undefined, 'unknown'],
  ['127.0.0.1', undefined, 'unknown'],
  ['db.internal.example.com', undefined, 'unknown'],
  ['rds.amazonaws.com', undefined, 'unknown'],
]

describe('parseRdsHostname', () => {
  it.each(SHAPES)('%s → region %s, kind %s', (host, region, kind) => {
    const parsed = parseRdsHostname(host)
    expect(parsed.region).toBe(region)
    expect(parsed.kind).toBe(kind)
  })
})

describe('region precedence', () => {
  const host = 'mydb.c9akciq32.eu-west-1.rds.amazonaws.com'
  const env = { AWS_REGION: 'us-west-2', AWS_DEFAULT_REGION: 'ap-south-1' }

  it('iam.region wins over everything', () => {
    expect(resolveRegion(host, 'sa-east-1', env)).toBe('sa-east-1')
  })
  it('then the hostname', () => {
    expect(resolveRegion(host, undefined, env)).toBe('eu-west-1')
  })
  it('then AWS_REGION, then AWS_DEFAULT_REGION', () => {
    expect(resolveRegion('localhost', undefined, env)).toBe('us-west-2')
    expect(resolveRegion('localhost', undefined, { AWS_DEFAULT_REGION: 'ap-south-1' })).toBe('ap-south-1')
  })
  it('else RDS_IAM_NO_REGION with a hint naming the fix', () => {
    const err = (() => {
      try {
        resolveRegion('localhost', undefined, {})
      } catch (e) {
        return e
      }
    })()
    expect(err).toBeInstanceOf(RdsIamError)
    expect((err as RdsIamError).code).toBe('RDS_IAM_NO_REGION')
    expect((err as RdsIamError).hint).toContain("iam: { region: 'eu-west-1' }")
    expect((err as RdsIamError).hint).toContain('AWS_REGION')
  })
  it('a global writer endpoint needs an explicit region', () => {
    expect(() => resolveRegion('g.global-c9akciq32.global.rds.amazonaws.com', undefined, {})).toThrow(
      /Global Database/,
    )
  })
})
