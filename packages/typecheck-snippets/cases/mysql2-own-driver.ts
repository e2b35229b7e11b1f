// Issue 8, item 13: `withIam` output goes into mysql2's own createPool (callback and promise), a
// pool cluster takes `iam`, and `ssl` stays typed (a number is an error, not `unknown`).
import { createPoolCluster, withIam } from '@rds-iam/mysql2'
import mysql from 'mysql2'
import mysqlPromise from 'mysql2/promise'

export const callbackPool = mysql.createPool(withIam({ host, user: 'app', iam: true }))
export const promisePool = mysqlPromise.createPool(withIam({ host, user: 'app', database: 'app', iam: true }))
const cluster = createPoolCluster()
cluster.add('writer', { host: writerHost, user: 'app', iam: true })
cluster.add('reader', { host: readerHost, user: 'app', iam: { region: 'eu-west-1' } })
// @ts-expect-error ssl is mysql2's SslOptions or a profile name, never a number
withIam({ host, user: 'app', iam: true, ssl: 12345 })
