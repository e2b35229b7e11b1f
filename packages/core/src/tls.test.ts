import { X509Certificate } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { RdsIamError } from './rds-iam-error.js'
import { rdsTls, resolveTls } from './rds-tls.js'

describe('rdsTls', () => {
  it('returns the RDS CA bundle as parseable PEM certificates, CA certificates only', () => {
    const { ca } = rdsTls()
    expect(ca.length).toBeGreaterThan(50)
    const subjects = ca.map((pem) => new X509Certificate(pem))
    expect(subjects.every((c) => c.ca)).toBe(true)
    expect(subjects.some((c) => c.subject.includes('Amazon RDS'))).toBe(true)
    // RDS Proxy presents Amazon Root CA chains; the bundle must include them.
    expect(subjects.some((c) => c.subject.includes('Amazon Root CA'))).toBe(true)
  })

  it('hands out a copy each time', () => {
    const a = rdsTls()
    a.ca.length = 0
    expect(rdsTls().ca.length).toBeGreaterThan(50)
  })
})

describe('resolveTls', () => {
  it.each([undefined, null, true, 'require', 'verify-full', 'Amazon RDS'])(
    '%s → verified TLS against the RDS bundle',
    (ssl) => {
      const out = resolveTls(ssl, {})
      expect(out).not.toBe(false)
      expect(out).toMatchObject({ rejectUnauthorized: true })
      expect((out as { ca: string[] }).ca.length).toBeGreaterThan(50)
    },
  )

  it("a user's object keeps its settings, with verification forced on", () => {
    const mine = { ca: 'my-ca', servername: 'x' }
    expect(resolveTls(mine, {})).toMatchObject({ ...mine, rejectUnauthorized: true })
  })

  it.each([false, 'disable'])('%s is refused with RDS_IAM_INSECURE_TRANSPORT', (ssl) => {
    let err: unknown
    try {
      resolveTls(ssl, {})
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(RdsIamError)
    expect((err as RdsIamError).code).toBe('RDS_IAM_INSECURE_TRANSPORT')
    expect((err as RdsIamError).hint).toContain('insecure')
  })

  it('iam.insecure allows no TLS', () => {
    expect(resolveTls(false, { insecure: true })).toBe(false)
    expect(resolveTls('disable', { insecure: true })).toBe(false)
  })

  it('an unknown string is an invalid option', () => {
    expect(() => resolveTls('sometimes', {})).toThrow(
      expect.objectContaining({ code: 'RDS_IAM_INVALID_OPTIONS' }),
    )
  })
})
