import { describe, expect, it } from 'vitest'
import { requirePeer } from './peer-dependency.js'
import { RdsIamError } from './rds-iam-error.js'

describe('requirePeer', () => {
  it("loads a module the caller's package can resolve", () => {
    const pg = requirePeer<{ Client: unknown }>('pg', import.meta.url, 'npm install pg')
    expect(typeof pg.Client).toBe('function')
  })

  it('turns a missing module into RDS_IAM_UNSUPPORTED_DRIVER with the fix and the cause', () => {
    let error: unknown
    try {
      requirePeer('no-such-driver-rds-iam', import.meta.url, 'npm install no-such-driver-rds-iam')
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(RdsIamError)
    expect(error).toMatchObject({
      code: 'RDS_IAM_UNSUPPORTED_DRIVER',
      message: expect.stringContaining('no-such-driver-rds-iam could not be loaded'),
      hint: 'npm install no-such-driver-rds-iam',
    })
    expect((error as Error).cause).toMatchObject({ code: 'MODULE_NOT_FOUND' })
  })
})
