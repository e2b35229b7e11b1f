// Type-level test (issue 8, item 13), compiled by `tsc --noEmit` in credential-types.test.ts
// under several moduleResolution modes. Each line must type-check: the README suggests these.
import { fromIni, fromNodeProviderChain, fromTemporaryCredentials } from '@aws-sdk/credential-providers'
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types'
import { createTokenProvider, type IamOption, type IamOptions } from './index.js'

const host = 'db.abc.eu-west-1.rds.amazonaws.com'

export const profile: IamOption = { credentials: fromIni({ profile: 'dev' }) }
export const assumed: IamOptions = {
  credentials: fromTemporaryCredentials({
    params: { RoleArn: 'arn:aws:iam::123456789012:role/db-connect', RoleSessionName: 'app' },
  }),
}
export const chain: IamOptions = { credentials: fromNodeProviderChain() }

declare const identity: AwsCredentialIdentity
declare const provider: AwsCredentialIdentityProvider
export const staticIdentity: IamOptions = { credentials: identity }
export const smithyProvider: IamOptions = { credentials: provider }
export const plain: IamOptions = {
  credentials: async () => ({ accessKeyId: 'AKID', secretAccessKey: 'secret', expiration: new Date() }),
}

export const tokens = createTokenProvider({
  hostname: host,
  port: 5432,
  username: 'app',
  credentials: fromIni(),
})

// @ts-expect-error a number is not credentials
export const wrong: IamOptions = { credentials: 12345 }
// @ts-expect-error credentials need a secret
export const incomplete: IamOptions = { credentials: { accessKeyId: 'AKID' } }
