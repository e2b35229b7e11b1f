// Issue 8 item 13: compiled by `tsc -p packages/mysql2` (no runtime), against the lowest (mysql2,
// 3.9.0) and the newest (mysql2-latest) driver typings. Every line here failed before the fix.
import mysql from 'mysql2'
import mysqlPromise from 'mysql2/promise'
import mysqlLatest from 'mysql2-latest'
import mysqlLatestPromise from 'mysql2-latest/promise'
import { createPoolCluster, getTokenProvider, type IamPoolCluster, withIam } from '../src/index.js'
import { createPool as createPromisePool } from '../src/promise.js'

declare const host: string

// withIam's output goes into mysql2's own createPool / createConnection (TS2769: `ssl` was unknown).
mysql.createPool(withIam({ host, user: 'app', iam: true }))
const lowestPromise = mysqlPromise.createPool(withIam({ host, user: 'app', database: 'app', iam: true }))
mysql.createConnection(withIam({ host, user: 'app', ssl: { ca: 'PEM' } }))
mysqlLatest.createPool(withIam({ host, user: 'app', iam: true }))
mysqlLatestPromise.createPool(withIam({ host, user: 'app', iam: { region: 'eu-west-1' } }))
mysqlLatest.createConnection(withIam({ host, user: 'app', ssl: 'Amazon RDS' }))

// @ts-expect-error ssl is mysql2's SslOptions, a profile name or a boolean, never a number
withIam({ host, user: 'app', iam: true, ssl: 12345 })
// @ts-expect-error mysql2 never passes ssl.crl to Node's TLS (refused at run time too)
withIam({ host, user: 'app', iam: true, ssl: { crl: 'PEM' } })
// @ts-expect-error mysql2 never passes ssl.pfx to Node's TLS (refused at run time too)
withIam({ host, user: 'app', iam: true, ssl: { pfx: 'PFX' } })

// The createPoolCluster TSDoc example ("'iam' does not exist in type 'PoolOptions'").
const cluster: IamPoolCluster = createPoolCluster()
cluster.add('writer', { host, user: 'app', iam: true })
cluster.add('reader', { host, user: 'app', iam: { region: 'eu-west-1' } })
cluster.add({ host, user: 'app', iam: true })
cluster.add('plain', { host, user: 'app', password: 'not IAM' })
cluster.add('uri', 'mysql://app@db.example:3306/app')
// It is still mysql2's PoolCluster where one is expected.
const asMysql2: mysql.PoolCluster = cluster
asMysql2.end()

// getTokenProvider answers for promise pools of either kind.
getTokenProvider(createPromisePool({ host, user: 'app', iam: true }))?.stats()
getTokenProvider(lowestPromise)?.invalidate()
