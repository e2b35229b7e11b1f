import type { AwsCredentialIdentityProvider } from '@smithy/types'
import { describe, expect, it } from 'vitest'
import { credentialSourceFor } from './credential-source.js'
import type { IamOptions } from './iam-options.js'

describe('credential sources are built once and reused', () => {
  it('the default chain is one source per process', () => {
    expect(credentialSourceFor(undefined)).toBe(credentialSourceFor(undefined))
    expect(credentialSourceFor(undefined).id).toBe('default')
  })

  it('one source per profile', () => {
    expect(credentialSourceFor(undefined, 'a')).toBe(credentialSourceFor(undefined, 'a'))
    expect(credentialSourceFor(undefined, 'a')).not.toBe(credentialSourceFor(undefined, 'b'))
  })

  it('user credentials and functions are keyed by identity', () => {
    const creds = { accessKeyId: 'A', secretAccessKey: 'S' }
    const fn = async () => creds
    expect(credentialSourceFor(creds)).toBe(credentialSourceFor(creds))
    expect(credentialSourceFor(fn)).toBe(credentialSourceFor(fn))
    expect(credentialSourceFor({ ...creds }).id).not.toBe(credentialSourceFor(creds).id)
    expect(credentialSourceFor(fn).id).not.toBe(credentialSourceFor(creds).id)
  })

  it("accepts the AWS SDK's provider type (compile-time check)", async () => {
    const sdkProvider: AwsCredentialIdentityProvider = async () => ({
      accessKeyId: 'A',
      secretAccessKey: 'S',
    })
    const options: IamOptions = { credentials: sdkProvider }
    expect(typeof options.credentials).toBe('function')
    await expect(credentialSourceFor(options.credentials).resolve()).resolves.toMatchObject({
      accessKeyId: 'A',
    })
  })
})
