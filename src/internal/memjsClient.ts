/**
 * The memjs side of the `Memcached` layers: the service over a memjs client, opened in the layer's scope and closed
 * with it, whether the client is built here from the options (`Memcached.layer`) or brought by the caller
 * (`Memcached.layerClient`). Shared by both Effect lines: what differs between them comes from `#effect-line`.
 *
 * @internal
 */
import type {
  CheckedConnectionOptions,
  ClientLayerOptions,
  LayerOptions,
  MemcachedError,
  MemcachedOptions,
  MemjsClientLike,
  PoolOptions,
  Scope
} from "#effect-line"
import { Effect, Redacted } from "#effect-line"
import type { EngineClient, PoolEngineOptions } from "../engine/client.js"
import { makeEngineClient } from "../engine/client.js"
import { makeClient } from "../engine/dialect.js"
import type { MemjsClient } from "../engine/memjs.js"
import { placementOf } from "../engine/placementChoice.js"
import type { ServerAddress } from "../engine/servers.js"
import { makeCheckedService } from "./checkedService.js"
import type { MemcachedService } from "./memcachedService.js"
import { makeMemjsBackend } from "./memjsBackend.js"

/** How long a released layer waits for in-flight operations before it closes the sockets. */
const RELEASE_GRACE_MILLIS = 250

/**
 * Opens the service over `client`, probing when asked, and closes its connections (and, with `closeSockets`, the
 * client's sockets) when the scope closes. An `owned` client (one the layer built) lets its idle sockets not hold
 * the process.
 */
const acquire = (
  makeEngine: (options: PoolEngineOptions) => EngineClient,
  addresses: ReadonlyArray<ServerAddress>,
  options: LayerOptions & PoolOptions & { readonly checkOnStart?: boolean | undefined },
  checkedOptions: CheckedConnectionOptions,
  closeSockets: boolean,
  owned: boolean,
  clientPlacement?: (key: string) => number
): Effect.Effect<MemcachedService, MemcachedError, Scope.Scope> =>
  Effect.gen(function*() {
    const { deadMillis, deadlineMillis, defaultExpiry, ejectAfter, maxItemSize } = checkedOptions
    const backend = yield* Effect.acquireRelease(
      Effect.sync(() =>
        makeMemjsBackend(makeEngine({
          addresses,
          deadlineMillis,
          maxItemSize,
          placement: placementOf(options.placement, addresses, clientPlacement),
          ejection: { ejectAfter, deadMillis },
          failover: options.failover ?? false,
          unrefIdle: owned
        }))
      ),
      (backend) => backend.close(RELEASE_GRACE_MILLIS, closeSockets)
    )
    const service = makeCheckedService(backend, { ...options, defaultExpiry })
    if (options.checkOnStart) yield* service.version
    return service
  })

/**
 * @internal The service over a client of its own in the `protocol` the options ask for (`engine/dialect.ts`; memjs's
 * servers for binary), built from the (checked) options: its requests are framed by the engine, so memjs's own
 * retries, failover and logger are off. Its sockets close with the scope.
 */
export const openClient = (
  addresses: ReadonlyArray<ServerAddress>,
  options: MemcachedOptions,
  checkedOptions: CheckedConnectionOptions
): Effect.Effect<MemcachedService, MemcachedError, Scope.Scope> =>
  Effect.suspend(() => {
    const username = options.username || undefined
    const password = options.password === undefined ? undefined : Redacted.value(options.password) || undefined
    const makeEngine = (pool: PoolEngineOptions) =>
      makeClient(checkedOptions.protocol, pool, username, password, checkedOptions.tls)
    return acquire(makeEngine, addresses, options, checkedOptions, true, true)
  })

/**
 * @internal The service over a memjs client the caller brought: its servers, credentials and `getServer` placement.
 * Its sockets close with the scope only with `closeOnRelease`.
 */
export const openBroughtClient = (
  brought: MemjsClientLike,
  options: ClientLayerOptions,
  checkedOptions: CheckedConnectionOptions
): Effect.Effect<MemcachedService, MemcachedError, Scope.Scope> =>
  Effect.suspend(() => {
    const client = brought as unknown as MemjsClient
    const addresses = client.servers.map((server) => ({
      host: server.host,
      port: server.port,
      weight: 1,
      label: `${server.host}:${server.port}`
    }))
    return acquire(
      (pool) => makeEngineClient({ ...pool, client }),
      addresses,
      options,
      checkedOptions,
      options.closeOnRelease ?? false,
      false,
      (key) => Number(client.getServer(key))
    )
  })
