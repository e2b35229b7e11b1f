import { runDistSmoke } from '@rds-iam/testkit'
import { expect } from 'vitest'
import { SUPPORTED_PRISMA_VERSIONS } from '../src/index.js'

runDistSmoke({
  packageDir: new URL('..', import.meta.url),
  specifiers: ['@rds-iam/prisma'],
  distFiles: ['dist/index.mjs', 'dist/index.cjs'],
  probe: `
    const mod = mods['@rds-iam/prisma']
    const p = mod.PrismaPgIam ? mod : mod.default
    const pgAdapter = new p.PrismaPgIam({ host: 'db.abc123.us-east-1.rds.amazonaws.com', user: 'app', database: 'app', iam: true })
    const adapterPg = require(require.resolve('pg', { paths: [require.resolve('@prisma/adapter-pg')] }))
    const myAdapter = new p.PrismaMariaDbIam('mysql://app@db.abc123.us-east-1.rds.amazonaws.com:3306/app')
    let refused
    try { new p.PrismaPgIam('postgres://app:pw@db.abc123.us-east-1.rds.amazonaws.com/app') } catch (e) { refused = e.code }
    console.log(JSON.stringify({
      exports: Object.keys(mod).sort(),
      provider: [pgAdapter.provider, myAdapter.provider],
      onAdapterPg: pgAdapter.pool instanceof adapterPg.Pool,
      hasProvider: typeof p.getTokenProvider(pgAdapter).stats === 'function' && typeof p.getTokenProvider(myAdapter).stats === 'function',
      refused,
      supported: p.SUPPORTED_PRISMA_VERSIONS,
    }))
    pgAdapter.pool.end()
  `,
  check(result) {
    expect(result.exports).toEqual(
      expect.arrayContaining([
        'PrismaMariaDbIam',
        'PrismaPgIam',
        'RdsIamError',
        'SUPPORTED_MARIADB_CONNECTOR_VERSIONS',
        'SUPPORTED_PRISMA_VERSIONS',
        'getRdsIamError',
        'getTokenProvider',
        'isPrismaAuthError',
        'isRdsIamError',
      ]),
    )
    expect(result.provider).toEqual(['postgres', 'mysql'])
    expect(result.onAdapterPg).toBe(true)
    expect(result.hasProvider).toBe(true)
    expect(result.refused).toBe('RDS_IAM_INVALID_OPTIONS')
    expect(result.supported).toBe(SUPPORTED_PRISMA_VERSIONS)
  },
  supported: { constant: SUPPORTED_PRISMA_VERSIONS, peer: '@prisma/client' },
})
