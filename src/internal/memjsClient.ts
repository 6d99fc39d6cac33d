/**
 * The memjs side of the `Memcached` layers: the client built from the options (`Memcached.layer`), and the service
 * opened over a client, built here or brought by the caller (`Memcached.layerClient`), in the layer's scope.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Memjs from "memjs"
import type { MemcachedError } from "../errors/MemcachedError.js"
import { makeCheckedService } from "./checkedService.js"
import type { MemjsClient, MemjsServer } from "./connection.js"
import { memjsServerOptions } from "./connection.js"
import type { MemcachedService } from "./memcachedService.js"
import { makeMemjsStore } from "./memjsStore.js"
import type { CheckedConnectionOptions, LayerOptions, PoolOptions } from "./options.js"
import { placementOf } from "./placementChoice.js"
import type { ServerAddress } from "./servers.js"

/** How long a released layer waits for in-flight operations before it closes the sockets. */
const RELEASE_GRACE_MILLIS = 250

const quietLogger = { log: () => {} }

/**
 * @internal A memjs client over `addresses` with these credentials (none when empty), whose requests are framed here:
 * memjs's own retries, failover and logger are off.
 */
export const makeMemjsClient = (
  addresses: ReadonlyArray<ServerAddress>,
  username: string | undefined,
  password: string | undefined,
  deadlineMillis: number
): MemjsClient => {
  const serverOptions = memjsServerOptions(deadlineMillis)
  const servers = addresses.map((address) => {
    const server = new Memjs.Server(
      address.host,
      address.port,
      username,
      password,
      serverOptions
    ) as unknown as MemjsServer
    // memjs falls back to MEMCACHE(IER)_USERNAME/PASSWORD when these are empty; only our options count.
    server.username = username
    server.password = password
    return server
  })
  return new Memjs.Client(servers as unknown as Array<Memjs.Server>, {
    retries: 1,
    failover: false,
    expires: 0,
    logger: quietLogger
  }) as unknown as MemjsClient
}

/** @internal The servers of a client brought to `layerClient`, as the options would give them. */
export const addressesOf = (client: MemjsClient): ReadonlyArray<ServerAddress> =>
  client.servers.map((server) => ({
    host: server.host,
    port: server.port,
    weight: 1,
    label: `${server.host}:${server.port}`
  }))

/**
 * @internal Opens the service over `client`, probing when asked, and closes its connections (and, with
 * `closeSockets`, the client's sockets) when the scope closes.
 */
export const acquireMemjs = (
  client: MemjsClient,
  addresses: ReadonlyArray<ServerAddress>,
  options: LayerOptions & PoolOptions & { readonly checkOnStart?: boolean | undefined },
  checkedOptions: CheckedConnectionOptions,
  closeSockets: boolean,
  clientPlacement?: (key: string) => number
): Effect.Effect<MemcachedService, MemcachedError, Scope.Scope> =>
  Effect.gen(function*() {
    const { deadMillis, deadlineMillis, defaultExpiry, ejectAfter, maxItemSize } = checkedOptions
    const backend = yield* Effect.acquireRelease(
      Effect.sync(() =>
        makeMemjsStore({
          client,
          addresses,
          deadlineMillis,
          maxItemSize,
          placement: placementOf(options.placement, addresses, clientPlacement),
          ejection: { ejectAfter, deadMillis },
          failover: options.failover ?? false
        })
      ),
      (backend) =>
        Effect.forEach(backend.connections, (connection) => connection.close(RELEASE_GRACE_MILLIS, closeSockets), {
          concurrency: "unbounded",
          discard: true
        })
    )
    const service = makeCheckedService(backend, { ...options, defaultExpiry })
    if (options.checkOnStart) yield* service.version
    return service
  })
