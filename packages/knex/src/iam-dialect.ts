import { explainNoTls, isRdsIamError, RdsIamError, type TokenProvider, withAuthRetry } from '@rds-iam/core'
import type { IamDialectState, KnexDialectClass } from './internal-types.js'

/**
 * A subclass of the application's own knex dialect class (`Client_PG` / `Client_MySQL2`) whose
 * pool creates each physical connection inside core's `withAuthRetry`: a refused login
 * invalidates the token and is retried with a freshly signed one, every other error reaches
 * knex unchanged. Before each attempt opens its socket, `state.prepare()` waits for the
 * connection-rate limiter and warms the token; the token itself then comes from the driver-level
 * hook `withIam` put on `connection`, which uses that same permit, so one permit and one token go
 * to each physical connection.
 *
 * @example
 * ```ts
 * const Client = createIamDialect(dialectClass(knex, 'pg'), { kind: 'pg', provider, iam })
 * const db = knex({ ...config, client: Client, connection: pgConfig })
 * ```
 */
export function createIamDialect(Base: KnexDialectClass, state: IamDialectState): KnexDialectClass {
  const { kind, provider, iam, prepare } = state
  class IamKnexClient extends Base {
    override acquireRawConnection(): Promise<unknown> {
      return withAuthRetry(
        async () => {
          // Permit and token before the dialect opens its socket: the limiter then spaces out
          // the sockets themselves, a slow or broken credential source fails here, and no
          // server holds a half-open login waiting for a permit or a token.
          await prepare()
          try {
            return await super.acquireRawConnection()
          } catch (err) {
            // The dialect opens a raw pg Client / mysql2 connection, not @rds-iam's pools, so a
            // server without TLS is typed here, inside the retry loop (a typed error is never
            // retried: no token was sent, and another attempt would meet the same server).
            throw explainNoTls(unwrapDriverError(err), endpointOf(provider))
          }
        },
        provider,
        iam.retry,
      ).catch((err: unknown) => {
        throw withKnexContext(err, kind)
      })
    }
  }
  Object.defineProperty(IamKnexClient, 'name', { value: `IamKnex${Base.name || 'Client'}` })
  return IamKnexClient
}

/** The socket's endpoint (not the signing one): that is the server that offered no TLS. */
function endpointOf(provider: TokenProvider): { hostname: string; port: number } | undefined {
  const target = provider.target
  return target && { hostname: target.connectHostname, port: target.connectPort }
}

/**
 * mysql2 replaces `code` on an error thrown by an auth plugin with `AUTH_SWITCH_PLUGIN_ERROR`;
 * `@rds-iam/mysql2`'s plugin keeps our typed error as its `cause`, so it is recovered here.
 */
function unwrapDriverError(err: unknown): unknown {
  if (isRdsIamError(err)) return err
  let current: unknown = err
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    if (isRdsIamError(current)) return current
    if ((current as { code?: unknown }).code !== 'AUTH_SWITCH_PLUGIN_ERROR' && depth === 0) return err
    current = current.cause
  }
  return err
}

/**
 * The same typed error, with the message saying it was knex's pool that could not connect, so a
 * failed query or migration points at the knex config. A fresh error per failure: core may hand
 * one error object to several waiters, and it must not be changed under them.
 */
function withKnexContext(err: unknown, kind: string): unknown {
  if (!isRdsIamError(err)) return err
  const suffix = ` (${err.code}). Hint: ${err.hint}`
  const bare = err.message.endsWith(suffix) ? err.message.slice(0, -suffix.length) : err.message
  return new RdsIamError(
    err.code,
    `knex (client '${kind}') could not open a pooled connection: ${bare}`,
    err.hint,
    { cause: err.cause ?? err },
  )
}
