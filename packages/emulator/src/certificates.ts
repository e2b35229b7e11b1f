import { isIP } from 'node:net'

/** A throwaway CA and a server certificate it issued, all PEM. */
export interface IssuedCertificates {
  /** CA certificate: what clients trust (`ssl: { ca }`, `sslrootcert=`). */
  ca: string
  /** Server private key (PKCS#8). */
  key: string
  /** Server certificate followed by the CA certificate. */
  cert: string
}

/** Names every emulator certificate covers, so clients can verify the hostname whichever loopback form they use. */
const DEFAULT_NAMES = ['localhost', '127.0.0.1', '::1']

/**
 * Issues a fresh CA (ECDSA P-256) and a server certificate for `localhost`, `127.0.0.1`, `::1` and any
 * extra names. `node:crypto` makes keys but cannot write X.509, and users may lack an `openssl`
 * binary, hence `@peculiar/x509`; it is loaded lazily so importing the emulator stays cheap.
 */
export async function issueCertificates(extraNames: readonly string[] = []): Promise<IssuedCertificates> {
  // @peculiar/x509 resolves its ASN.1 schemas through tsyringe, which needs the Reflect metadata API.
  await import('reflect-metadata')
  const x509 = await import('@peculiar/x509')
  const { webcrypto } = await import('node:crypto')
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0])

  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
  const now = Date.now()
  // An hour back absorbs clock differences between this process and a client in a container.
  const notBefore = new Date(now - 3_600_000)
  const notAfter = new Date(now + 365 * 86_400_000)

  const caKeys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: 'CN=rds-iam emulator CA, O=rds-iam',
    notBefore,
    notAfter,
    signingAlgorithm: alg,
    keys: caKeys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  })

  const names = [...new Set([...DEFAULT_NAMES, ...extraNames.filter((n) => n.length > 0)])]
  const serverKeys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])
  const serverCert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: 'CN=localhost, O=rds-iam emulator',
    issuer: caCert.subject,
    notBefore,
    notAfter,
    signingAlgorithm: alg,
    publicKey: serverKeys.publicKey,
    signingKey: caKeys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(
        names.map((n) => (isIP(n) === 0 ? { type: 'dns', value: n } : { type: 'ip', value: n })),
      ),
      await x509.SubjectKeyIdentifierExtension.create(serverKeys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  })

  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', serverKeys.privateKey))
  const key = `-----BEGIN PRIVATE KEY-----\n${pkcs8
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .trimEnd()}\n-----END PRIVATE KEY-----\n`
  const ca = `${caCert.toString('pem')}\n`
  return { ca, key, cert: `${serverCert.toString('pem')}\n${ca}` }
}

/** Positive 128-bit serial (leading byte kept below 0x80 so DER does not read it as negative). */
function randomSerial(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16))
  bytes[0] = (bytes[0] ?? 0) & 0x7f
  return Buffer.from(bytes).toString('hex')
}
