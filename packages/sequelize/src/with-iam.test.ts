import { describe, expect, test } from 'vitest'
import { getTokenProvider, IAM_HOOK_NAME } from './iam-hooks.js'
import type { EndpointConfig } from './internal-types.js'
import { withIam } from './with-iam.js'

// Pure option handling: what withIam returns and what its hook does to a config, without a
// database (the hook's token comes from static credentials; signing is local).
const iam = {
  region: 'eu-west-1',
  credentials: { accessKeyId: 'AKIAUNITTEST', secretAccessKey: 'unit-secret' },
}
const HOST = 'mydb.abc123.eu-west-1.rds.amazonaws.com'

type Hook = (this: unknown, config: EndpointConfig) => Promise<void>
const hooksOf = (options: object): unknown[] =>
  ((options as { hooks?: { beforeConnect?: unknown[] } }).hooks?.beforeConnect ?? []) as unknown[]
const iamHook = (options: object): Hook => hooksOf(options).at(-1) as Hook

describe('withIam options', () => {
  test('removes iam, keeps the rest, and appends its hook after the user’s own', () => {
    const mine = async () => {}
    const out = withIam({
      dialect: 'postgres',
      host: HOST,
      username: 'app',
      logging: false,
      hooks: { beforeConnect: mine },
      iam,
    })
    expect(out).not.toHaveProperty('iam')
    expect(out.logging).toBe(false)
    expect(hooksOf(out)[0]).toBe(mine)
    expect(hooksOf(out)).toHaveLength(2)
    expect(getTokenProvider(out)?.target?.hostname).toBe(HOST)
    expect(IAM_HOOK_NAME).toBe('rdsIam')
  })

  test('the hook gives the config a token (hidden from logging) and verified TLS for its host', async () => {
    const out = withIam({ dialect: 'postgres', host: HOST, username: 'app', iam })
    const config: EndpointConfig = { host: HOST, port: 5432, username: 'app', dialectOptions: undefined }
    await iamHook(out).call(undefined, config)
    expect(typeof config.password).toBe('string')
    expect(String(config.password)).toContain('X-Amz-Signature')
    expect(Object.keys(config)).not.toContain('password')
    expect(JSON.stringify(config)).not.toContain('X-Amz')
    const ssl = config.dialectOptions?.ssl as { rejectUnauthorized?: boolean; ca?: unknown[] }
    expect(ssl.rejectUnauthorized).toBe(true)
    expect(Array.isArray(ssl.ca) && ssl.ca.length).toBeGreaterThan(10)
  })

  test("Sequelize's `ssl: { require: true }` gets the RDS bundle; a user's own ca is kept", async () => {
    const out = withIam({ dialect: 'postgres', host: HOST, username: 'app', iam })
    const required: EndpointConfig = {
      host: HOST,
      username: 'app',
      dialectOptions: { ssl: { require: true } },
    }
    await iamHook(out).call(undefined, required)
    const ssl = required.dialectOptions?.ssl as Record<string, unknown>
    expect(ssl).not.toHaveProperty('require')
    expect((ssl.ca as unknown[]).length).toBeGreaterThan(10)

    const own: EndpointConfig = { host: HOST, username: 'app', dialectOptions: { ssl: { ca: 'MY-CA' } } }
    await iamHook(out).call(undefined, own)
    const ownSsl = own.dialectOptions?.ssl as { ca: unknown; rejectUnauthorized?: boolean }
    expect(ownSsl.ca).toBe('MY-CA')
    expect(ownSsl.rejectUnauthorized).toBe(true)
  })

  test('mysql: the user’s auth plugins stay, mysql_clear_password sends the connection’s password', async () => {
    const mine = () => () => Buffer.from('')
    const out = withIam({
      dialect: 'mysql',
      host: HOST,
      username: 'app',
      dialectOptions: { authPlugins: { mine } },
      iam,
    })
    const config: EndpointConfig = {
      host: HOST,
      port: 3306,
      username: 'app',
      dialectOptions: { authPlugins: { mine } },
    }
    await iamHook(out).call(undefined, config)
    const plugins = config.dialectOptions?.authPlugins as Record<
      string,
      (ctx: object) => () => Promise<Buffer>
    >
    expect(plugins.mine).toBe(mine)
    // No TLS socket here, so @rds-iam/mysql2's server check accepts only a connection that mysql2
    // was set to verify for HOST (as for a resumed TLS session); then the config's password goes.
    const verifying = { host: HOST, ssl: { rejectUnauthorized: true, verifyIdentity: true } }
    const sent = await plugins.mysql_clear_password!({
      connection: { config: { ...verifying, password: 'TOKEN' } },
    })()
    expect(sent.toString()).toBe('TOKEN\0')
    await expect(plugins.mysql_clear_password!({ connection: { config: verifying } })()).rejects.toThrow(
      /no IAM token|none/,
    )
    // A connection not set to verify HOST gets nothing, whatever its password.
    const unverified = plugins.mysql_clear_password!({
      connection: { config: { host: 'other.example.com', ssl: verifying.ssl, password: 'TOKEN' } },
    })()
    await expect(unverified).rejects.toThrow(/the IAM token was not sent/)
  })

  test('replication: every endpoint has its own provider, signed for its own host and port', async () => {
    const out = withIam({
      dialect: 'mysql',
      username: 'app',
      replication: {
        write: { host: 'writer.cluster-abc123.eu-west-1.rds.amazonaws.com' },
        read: [
          { host: 'reader.cluster-ro-abc123.eu-west-1.rds.amazonaws.com', port: 3307 },
          { host: 'replica-2.abc123.eu-west-1.rds.amazonaws.com' },
        ],
      },
      iam,
    })
    const writer = getTokenProvider(out)
    const reader = getTokenProvider(out, { host: 'reader.cluster-ro-abc123.eu-west-1.rds.amazonaws.com' })
    const second = getTokenProvider(out, { host: 'replica-2.abc123.eu-west-1.rds.amazonaws.com' })
    expect(writer?.target?.hostname).toBe('writer.cluster-abc123.eu-west-1.rds.amazonaws.com')
    expect(reader?.target?.port).toBe(3307)
    expect(second?.target?.port).toBe(3306)
    expect(new Set([writer, reader, second]).size).toBe(3)

    // Each config the connection manager hands the hook is signed for that config's endpoint.
    const readConfig: EndpointConfig = {
      host: 'reader.cluster-ro-abc123.eu-west-1.rds.amazonaws.com',
      port: 3307,
      username: 'app',
    }
    await iamHook(out).call(undefined, readConfig)
    expect(decodeURIComponent(String(readConfig.password))).toMatch(
      /^reader\.cluster-ro-abc123\.eu-west-1\.rds\.amazonaws\.com:3307\/\?Action=connect&DBUser=app/,
    )
  })

  test('a URL is read like Sequelize reads it: scheme → dialect, query → dialectOptions', () => {
    const out = withIam(`postgres://app@${HOST}:6543/shop?application_name=api`, { iam })
    expect(out).toMatchObject({
      dialect: 'postgres',
      host: HOST,
      port: 6543,
      username: 'app',
      database: 'shop',
    })
    expect(out.dialectOptions).toMatchObject({ application_name: 'api' })
  })
})
