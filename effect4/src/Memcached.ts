/**
 * The bytes-level memcached service and its layers: real servers through a scoped memjs client, a client you bring,
 * or the in-memory fake. The layers provide `Memcached` only; `Cache` composes itself over them (`Cache.layer`,
 * `Cache.layerMemcached`, `Cache.layerMemory`).
 *
 * @since 2.0.0
 */
import * as Config from "effect/Config"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { BadOption } from "../../src/engine/options.js"
import { makeCheckedService } from "../../src/internal/checkedService.js"
import type { MemcachedService } from "../../src/internal/memcachedService.js"
import { openBroughtClient, openClient } from "../../src/internal/memjsClient.js"
import { makeMemoryBackend } from "../../src/internal/memoryBackend.js"
import type { MemcachedError } from "./errors/MemcachedError.js"
import type { ClientLayerOptions, LayerOptions, MemcachedOptions, MemjsClientLike } from "./internal/options.js"
import { checkConnectionOptions, checkLayerOptions, checkServers } from "./internal/options.js"

export type {
  /**
   * An item with the CAS token of its current version.
   *
   * @since 2.0.0
   * @category models
   */
  CasItem,
  /**
   * A value as bytes, with memcached's 32-bit item flags: what `Memcached` reads and writes, and what a `Serializer`
   * makes of a value.
   *
   * @since 2.0.0
   * @category models
   */
  Item
} from "../../src/engine/item.js"
export type {
  /**
   * A server in a pool: `host`, `port` (11211 when left out) and `weight` (1 when left out).
   *
   * @since 2.0.0
   * @category models
   */
  ServerSpec
} from "../../src/engine/servers.js"
export type {
  /**
   * The `tls` option: `true` to connect over TLS trusting Node's CAs, or Node's `tls.ConnectionOptions` (`ca`,
   * `servername`, `cert` and `key` for mutual TLS, `rejectUnauthorized`, …); `false` for plain TCP.
   *
   * @since 2.0.0
   * @category models
   */
  TlsOption
} from "../../src/engine/tls.js"
export type {
  /**
   * Options of `increment` and `decrement`.
   *
   * @since 2.0.0
   * @category models
   */
  CounterOptions,
  /**
   * memcached's own operations on bytes, with the key, TTL and size rules applied before anything is sent.
   *
   * @since 2.0.0
   * @category models
   */
  MemcachedService,
  /**
   * Per-write options. `ttl` left out means the layer's `defaultTtl`.
   *
   * @since 2.0.0
   * @category models
   */
  WriteOptions
} from "../../src/internal/memcachedService.js"
export type {
  /**
   * Options of `Memcached.layerClient`.
   *
   * @since 2.0.0
   * @category models
   */
  ClientLayerOptions,
  /**
   * Options every `Memcached` layer takes: the key, TTL and size rules, retries, spans and metrics.
   *
   * @since 2.0.0
   * @category models
   */
  LayerOptions,
  /**
   * Options of `Memcached.layer` (and of `MemcachedCache`).
   *
   * @since 2.0.0
   * @category models
   */
  MemcachedOptions,
  /**
   * The `memjs.Client` that `Memcached.layerClient` runs over, written out by the members it reads; any
   * `memjs.Client` fits.
   *
   * @since 2.0.0
   * @category models
   */
  MemjsClientLike,
  /**
   * Where each key lives in a pool: `"ketama"`, `"ketama-hashring"`, `"modulo"`, or your own function.
   *
   * @since 2.0.0
   * @category models
   */
  PlacementOption,
  /**
   * How a pool of servers is run.
   *
   * @since 2.0.0
   * @category models
   */
  PoolOptions
} from "./internal/options.js"
export type {
  /**
   * A duration with its unit: `"30 seconds"`, `"5 minutes"`, `Duration.seconds(30)` or `[seconds, nanos]`; never a
   * bare number.
   *
   * @since 2.0.0
   * @category models
   */
  DurationWithUnits,
  /**
   * A TTL: a duration with its unit (rounded up to whole seconds; zero or negative expires at once) or `null` for
   * never.
   *
   * @since 2.0.0
   * @category models
   */
  Ttl
} from "./internal/ttl.js"

/** A bad option fails the layer with a `ConfigError` that names it. */
const checked = <A>(result: A | BadOption): Effect.Effect<A, Config.ConfigError> =>
  result instanceof BadOption
    ? Effect.fail(new Config.ConfigError(new ConfigProvider.SourceError({ message: result.message })))
    : Effect.succeed(result)

/**
 * The bytes-level memcached service. Most code uses `Cache`; this one is for memcached's own operations (add,
 * replace, counters, touch) and for building other stores.
 *
 * @since 2.0.0
 * @category tags
 */
export class Memcached extends Context.Service<Memcached, MemcachedService>()("effect-memcached/Memcached") {
  /**
   * Real memcached servers through a memjs client that the layer opens in its scope and closes on release
   * (in-flight operations get a short grace period). By default the layer builds even when the servers are down, and
   * each operation then fails with `MemcachedError` within `timeout`; `checkOnStart: true` fails the layer instead.
   * A bad option (a bare-number duration, a malformed server, …) fails the layer with a `ConfigError` naming it.
   *
   * @since 2.0.0
   * @category layers
   */
  static readonly layer = (
    options: MemcachedOptions = {}
  ): Layer.Layer<Memcached, MemcachedError | Config.ConfigError> =>
    Layer.effect(
      Memcached,
      Effect.gen(function*() {
        const addresses = yield* checked(checkServers(options.servers))
        const checkedOptions = yield* checked(checkConnectionOptions(options))
        return yield* openClient(addresses, options, checkedOptions)
      })
    )

  /**
   * `Memcached.layer` with its options read from an Effect `Config`.
   *
   * @since 2.0.0
   * @category layers
   */
  static readonly layerConfig = (
    config: Config.Wrap<MemcachedOptions>
  ): Layer.Layer<Memcached, MemcachedError | Config.ConfigError> =>
    Layer.unwrap(Effect.map(Config.unwrap(config), Memcached.layer))

  /**
   * Runs over a `memjs.Client` you built (privex `mcache_instance`): its servers, credentials and `getServer`
   * placement are used, its retries and logger are not (requests are framed here). Left open on release unless
   * `closeOnRelease`. A bad option fails the layer with a `ConfigError` naming it.
   *
   * @since 2.0.0
   * @category layers
   */
  static readonly layerClient = (
    client: MemjsClientLike,
    options: ClientLayerOptions = {}
  ): Layer.Layer<Memcached, MemcachedError | Config.ConfigError> =>
    Layer.effect(
      Memcached,
      Effect.flatMap(
        checked(checkConnectionOptions(options)),
        (checkedOptions) => openBroughtClient(client, options, checkedOptions)
      )
    )

  /**
   * The in-memory fake: memcached's key, TTL and size rules on the Effect `Clock` (so `TestClock.adjust` expires
   * keys), whole-second expiry, no eviction. Each build starts empty. A bad option fails the layer with a
   * `ConfigError` naming it.
   *
   * @since 2.0.0
   * @category layers
   */
  static readonly layerMemory = (
    options: LayerOptions = {}
  ): Layer.Layer<Memcached, Config.ConfigError> =>
    Layer.effect(
      Memcached,
      Effect.map(
        checked(checkLayerOptions(options)),
        ({ defaultExpiry, maxItemSize }) =>
          makeCheckedService(makeMemoryBackend(maxItemSize), { ...options, defaultExpiry })
      )
    )
}
