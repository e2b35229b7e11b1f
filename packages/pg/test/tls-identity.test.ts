import { type Emulator, startEmulator } from '@rds-iam/emulator'
import { TEST_URLS } from '@rds-iam/testkit'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Client, Pool } from '../src/index.js'

// Issue 8, item 4: whenever a token is sent, the server's certificate must name the endpoint.
// Through a tunnel (connect to 127.0.0.1, iam.signingHostname = the RDS endpoint) the name to
// check is the signing host name: it is the name on the RDS certificate.

const RDS_NAME = 'db.example.us-east-1.rds.amazonaws.com'

describe('pg through a tunnel: the certificate is checked against iam.signingHostname', () => {
  // Issues a certificate that also names RDS_NAME, as RDS's does.
  let rds: Emulator
  // Issues a certificate for loopback names only: through the tunnel, it is the wrong server.
  let impostor: Emulator
  beforeAll(async () => {
    rds = await startEmulator({
      engine: 'postgres',
      upstream: TEST_URLS.postgres,
      endpoint: `${RDS_NAME}:5432`,
    })
    impostor = await startEmulator({
      engine: 'postgres',
      upstream: TEST_URLS.postgres,
      credentials: rds.credentials,
    })
  })
  afterAll(async () => {
    await rds?.stop()
    await impostor?.stop()
  })

  let n = 0
  const tunnel = (emu: Emulator, ca: string) => ({
    host: '127.0.0.1',
    port: emu.port,
    user: `tunnel_user_${process.pid}_${n++}`,
    database: 'test',
    ssl: { ca },
    iam: {
      region: emu.region,
      credentials: rds.credentials[0]!,
      signingHostname: RDS_NAME,
      signingPort: 5432,
    },
  })

  test('the right certificate: Pool and Client connect and query', async () => {
    const pool = new Pool({ ...tunnel(rds, rds.ca), max: 1 })
    try {
      expect((await pool.query('select 1 as one')).rows).toEqual([{ one: 1 }])
    } finally {
      await pool.end()
    }
    const client = new Client(tunnel(rds, rds.ca))
    await client.connect()
    try {
      expect((await client.query('select 2 as two')).rows).toEqual([{ two: 2 }])
    } finally {
      await client.end()
    }
  })

  test('a certificate that names only 127.0.0.1 is refused before the token is sent', async () => {
    // The impostor's certificate is valid for 127.0.0.1 (what pg alone would check) and chains to
    // a CA we trust, but does not name the RDS endpoint.
    const before = impostor.stats()
    for (const open of [
      async (s: ReturnType<typeof tunnel>) => {
        const pool = new Pool({ ...s, max: 1 })
        try {
          await pool.query('select 1')
        } finally {
          await pool.end()
        }
      },
      async (s: ReturnType<typeof tunnel>) => {
        await new Client(s).connect()
      },
    ]) {
      const err = await open(tunnel(impostor, impostor.ca)).then(
        () => new Error('connected to the impostor'),
        (e: unknown) => e,
      )
      expect(err).toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' })
      expect(String((err as Error).message)).toContain(RDS_NAME)
    }
    const after = impostor.stats()
    expect(after.accepted).toBe(before.accepted)
    expect(after.rejected).toEqual(before.rejected) // no token ever reached it
  })
})
