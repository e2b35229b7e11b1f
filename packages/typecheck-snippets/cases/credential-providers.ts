// Issue 8, item 13: the AWS SDK's own credential providers are accepted as `iam.credentials` (the
// READMEs suggest `fromIni`), by core, pg and the mysql2 callback API.
import { fromIni, fromTemporaryCredentials } from '@aws-sdk/credential-providers'
import { createTokenProvider } from '@rds-iam/core'
import { createPool } from '@rds-iam/mysql2'
import { Pool } from '@rds-iam/pg'

const assumed = fromTemporaryCredentials({ params: { RoleArn: 'arn:aws:iam::123456789012:role/db-app' } })
export const pgPool = new Pool({ host, user: 'app', iam: { credentials: fromIni({ profile: 'dev' }) } })
export const pgAssumed = new Pool({ host, user: 'app', iam: { credentials: assumed } })
export const mysqlPool = createPool({ host, user: 'app', iam: { credentials: fromIni({ profile: 'dev' }) } })
export const mysqlAssumed = createPool({ host, user: 'app', iam: { credentials: assumed } })
export const tokens = createTokenProvider({
  hostname: host,
  port: 5432,
  username: 'app',
  credentials: fromIni({ profile: 'dev' }),
})
