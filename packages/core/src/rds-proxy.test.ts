import { X509Certificate } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { isAuthError, isProxyCapacityError, isTlsRefusal } from './auth-error.js'
import { parseRdsHostname } from './rds-hostname.js'
import { isRdsIamError } from './rds-iam-error.js'
import { rdsTls, resolveTls } from './rds-tls.js'
import { STATIC_CREDS, uniqueUser } from './test-support/unique.js'
import { verifyRdsToken } from './test-support/verify-sigv4.js'
import { createTokenProvider } from './token-provider.js'

// RDS Proxy: one TLS rule for every database behind it, certificates from Amazon's public roots
// (ACM), tokens for the proxy endpoint, and its own refusals. Texts from
// https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy.troubleshooting.html
const PROXY = 'app-proxy.proxy-c9akciq32abc.eu-west-1.rds.amazonaws.com'

describe('RDS Proxy: TLS', () => {
  it('the shipped bundle holds the Amazon Root CAs 1–4 and Starfield Services Root G2, self-signed roots', () => {
    const certs = rdsTls().ca.map((pem) => new X509Certificate(pem))
    const wanted = [
      'CN=Amazon Root CA 1',
      'CN=Amazon Root CA 2',
      'CN=Amazon Root CA 3',
      'CN=Amazon Root CA 4',
      'CN=Starfield Services Root Certificate Authority - G2',
    ]
    for (const cn of wanted) {
      const cert = certs.find((c) => c.subject.split('\n').includes(cn))
      expect(cert, cn).toBeDefined()
      expect(cert!.ca).toBe(true)
      expect(cert!.checkIssued(cert!)).toBe(true)
      expect(new Date(cert!.validTo).getTime()).toBeGreaterThan(Date.now())
    }
  })

  it('is required for a proxy endpoint whatever the database behind it would accept, and checks the proxy name', () => {
    expect(parseRdsHostname(PROXY)).toEqual({ region: 'eu-west-1', kind: 'proxy' })
    for (const off of [false, 'disable', { rejectUnauthorized: false }, 'no-verify']) {
      let caught: unknown
      try {
        resolveTls(off, {}, { host: PROXY })
      } catch (err) {
        caught = err
      }
      expect(isRdsIamError(caught) && caught.code).toBe('RDS_IAM_INSECURE_TRANSPORT')
    }
    const tls = resolveTls(undefined, {}, { host: PROXY })
    expect(tls).toMatchObject({ rejectUnauthorized: true, servername: PROXY })
    // Through a tunnel the certificate is still checked against the proxy's name.
    const tunnelled = resolveTls(undefined, { signingHostname: PROXY }, { host: '127.0.0.1' })
    expect(tunnelled).toMatchObject({ rejectUnauthorized: true, servername: PROXY })
  })

  it("the proxy's TLS refusals are TLS refusals, not auth errors", () => {
    for (const message of [
      'This RDS Proxy requires TLS connections.',
      'IAM authentication is allowed only with SSL connections.',
      'IAM is allowed only with SSL connections.',
    ]) {
      expect(isTlsRefusal({ code: '28000', message })).toBe(true)
      expect(isAuthError({ code: '28000', message })).toBe(false)
    }
    expect(isTlsRefusal({ errno: 3159, message: 'This RDS Proxy requires TLS connections.' })).toBe(true)
  })
})

describe('RDS Proxy: tokens and refusals', () => {
  it('signs for the proxy endpoint (rds-db, host:port of the proxy), also through a tunnel', async () => {
    const username = uniqueUser('app')
    const token = await createTokenProvider({
      hostname: PROXY,
      port: 5432,
      username,
      credentials: STATIC_CREDS,
    }).getToken()
    const direct = verifyRdsToken(token, {
      secretAccessKey: STATIC_CREDS.secretAccessKey,
      endpoint: `${PROXY}:5432`,
      user: username,
      region: 'eu-west-1',
    })
    expect(direct.reason).toBeUndefined()
    const viaTunnel = await createTokenProvider({
      hostname: '127.0.0.1',
      port: 13306,
      username,
      credentials: STATIC_CREDS,
      signingHostname: PROXY,
      signingPort: 3306,
    }).getToken()
    expect(
      verifyRdsToken(viaTunnel, { secretAccessKey: STATIC_CREDS.secretAccessKey, endpoint: `${PROXY}:3306` })
        .ok,
    ).toBe(true)
  })

  it('a bad token at the proxy is an auth error (PostgreSQL text, MySQL 1045)', () => {
    expect(
      isAuthError({
        message: 'IAM authentication failed for user app. Check the IAM token for this user and try again.',
      }),
    ).toBe(true)
    expect(
      isAuthError({
        message:
          'The IAM authentication failed for the role app. Check the IAM token for this role and try again.',
      }),
    ).toBe(true)
    expect(
      isAuthError({
        errno: 1045,
        code: 'ER_ACCESS_DENIED_ERROR',
        message: "Access denied for user 'app'@'%' (using password: YES)",
      }),
    ).toBe(true)
  })

  it('MaxConnectionsPercent exhaustion and client limits are capacity refusals, never auth errors', () => {
    const refusals = [
      { message: 'Timed-out waiting to acquire database connection.' },
      { message: 'The maximum number of client connections to the proxy exceeded 500.' },
      { message: 'Rate of connection to proxy exceeded 100.' },
      { errno: 9501, code: 'ER_UNKNOWN', message: 'Timed-out waiting to acquire database connection' },
      { errno: 1040, code: 'ER_CON_COUNT_ERROR', message: 'Connections rate limit exceeded (100)' },
    ]
    for (const err of refusals) {
      expect(isAuthError({ parent: err })).toBe(false)
      expect(isProxyCapacityError({ parent: err })).toBe(true)
    }
  })
})
