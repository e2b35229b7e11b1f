import { describe, expect, it } from 'vitest'
import { RdsIamErrorCodes } from './codes.js'
import { normalizeIamOptions } from './iam-options.js'
import { RdsIamError, unsupportedDriver } from './rds-iam-error.js'

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (e) {
    return e instanceof RdsIamError ? e.code : `not RdsIamError: ${String(e)}`
  }
  return undefined
}

describe('normalizeIamOptions', () => {
  it('true means every default', () => {
    expect(normalizeIamOptions(true)).toEqual({})
  })

  it('keeps valid options', () => {
    const logger = { debug() {}, warn() {} }
    const out = normalizeIamOptions({
      region: 'eu-west-1',
      signingHostname: 'db.example',
      signingPort: 5432,
      refreshMarginSeconds: 120,
      credentialTimeoutMs: 2500,
      retry: { maxAttempts: 5, baseDelayMs: 50, maxDelayMs: 1000 },
      maxNewConnectionsPerSecond: 0,
      insecure: false,
      logger,
    })
    expect(out).toMatchObject({
      region: 'eu-west-1',
      signingPort: 5432,
      credentialTimeoutMs: 2500,
      retry: { maxAttempts: 5 },
      logger,
    })
  })

  it('rejects an unknown key naming it', () => {
    let err: unknown
    try {
      normalizeIamOptions({ regoin: 'eu-west-1' })
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(RdsIamError)
    expect((err as RdsIamError).code).toBe('RDS_IAM_INVALID_OPTIONS')
    expect((err as RdsIamError).message).toContain('iam.regoin')
  })

  it.each([
    ['not an object', 'yes'],
    ['false', false],
    ['unknown retry key', { retry: { attempts: 3 } }],
    ['region type', { region: 42 }],
    ['empty region', { region: ' ' }],
    ['port out of range', { signingPort: 70000 }],
    ['margin too large', { refreshMarginSeconds: 900 }],
    ['negative rate', { maxNewConnectionsPerSecond: -1 }],
    ['zero credential timeout', { credentialTimeoutMs: 0 }],
    ['credential timeout as a string', { credentialTimeoutMs: '5000' }],
    ['insecure not boolean', { insecure: 'true' }],
    ['bad credentials', { credentials: { accessKeyId: 'x' } }],
    ['credentials and profile', { credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, profile: 'p' }],
    ['logger without warn', { logger: { debug() {} } }],
    ['zero attempts', { retry: { maxAttempts: 0 } }],
  ])('%s → RDS_IAM_INVALID_OPTIONS', (_name, value) => {
    expect(codeOf(() => normalizeIamOptions(value))).toBe('RDS_IAM_INVALID_OPTIONS')
  })
})

describe('RdsIamError', () => {
  it('carries name, code, hint, cause and a stack', () => {
    const cause = new Error('driver')
    const err = new RdsIamError('RDS_IAM_AUTH_FAILED', 'refused', 'grant rds_iam', { cause })
    expect(err).toBeInstanceOf(Error)
    expect(err.name).toBe('RdsIamError')
    expect(err.code).toBe('RDS_IAM_AUTH_FAILED')
    expect(err.hint).toBe('grant rds_iam')
    expect(err.cause).toBe(cause)
    expect(err.message).toContain('grant rds_iam')
    expect(err.stack).toContain('iam-options.test.ts')
  })

  it('unsupportedDriver() builds RDS_IAM_UNSUPPORTED_DRIVER', () => {
    const err = unsupportedDriver('pg-native', 'use the pure JavaScript pg client')
    expect(err.code).toBe(RdsIamErrorCodes.UNSUPPORTED_DRIVER)
    expect(err.message).toContain('pg-native')
  })

  it('every code in codes.ts is distinct and prefixed', () => {
    const values = Object.values(RdsIamErrorCodes)
    expect(new Set(values).size).toBe(values.length)
    expect(values.every((v) => v.startsWith('RDS_IAM_'))).toBe(true)
    expect(values).toHaveLength(7)
  })
})
