/**
 * The bytes-level memcached service and its layers: real servers through a scoped memjs client, a client you bring,
 * or the in-memory fake. Every layer also provides `Cache`, built over the `Serializer` in context.
 *
 * @since 1.0.0
 */
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Schedule from "effect/Schedule"
import { Cache } from "./Cache.js"
import type { MemjsClient } from "./engine/memjs.js"
import { makeMemjsClient } from "./engine/memjs.js"
import type { Placement } from "./engine/placement.js"
import { fromLocate, ketama, modulo } from "./engine/placement.js"
import type { InvalidArgument } from "./errors/InvalidArgument.js"
import type { InvalidKey } from "./errors/InvalidKey.js"
import type { MemcachedError } from "./errors/MemcachedError.js"
import type { ValueTooLarge } from "./errors/ValueTooLarge.js"
import { makeCheckedService } from "./internal/checkedService.js"
import { makeMemjsBackend } from "./internal/memjsBackend.js"
import { makeMemoryBackend } from "./internal/memoryBackend.js"
import type { BadOption, CheckedConnectionOptions, CheckedStoreOptions } from "./internal/options.js"
import { checkConnectionOptions, checkServers, checkStoreOptions } from "./internal/options.js"
import type { ServerAddress } from "./internal/servers.js"
import type { Store } from "./internal/store.js"
import type { ObservabilityOptions } from "./Observability.js"
import { Serializer } from "./Serializer.js"

/**
 * A stored value as bytes, with memcached's 32-bit item flags.
 *
 * @since 1.0.0
 * @category models
 */
export interface Item {
  readonly value: Uint8Array
  readonly flags: number
}

/**
 * A stored value with the CAS token of its current version.
 *
 * @since 1.0.0
 * @category models
 */
export interface CasItem extends Item {
  readonly cas: bigint
}

/**
 * A duration with its unit: `"30 seconds"`, `"5 minutes"`, `Duration.seconds(30)` or `[seconds, nanos]`. Every TTL,
 * timeout and interval of the Effect API is one. A bare number is not: Effect would read `300` as milliseconds and
 * memcached as seconds, so it is a type error, and forced through, an `InvalidArgument` (or, in a layer's options, a
 * `ConfigError`) that says how to write it.
 *
 * @since 1.0.0
 * @category models
 */
export type DurationWithUnits = Exclude<Duration.DurationInput, number | bigint>

/**
 * A TTL: a duration with its unit (rounded up to whole seconds; zero or negative expires at once) or `null` for never.
 *
 * @since 1.0.0
 * @category models
 */
export type Ttl = DurationWithUnits | null

/**
 * Per-write options. `ttl` left out means the layer's `defaultTtl`.
 *
 * @since 1.0.0
 * @category models
 */
export interface WriteOptions {
  readonly ttl?: Ttl | undefined
  /** memcached's item flags. @default 0 */
  readonly flags?: number | undefined
}

/**
 * Options of `increment` and `decrement`.
 *
 * @since 1.0.0
 * @category models
 */
export interface CounterOptions {
  /** Create a missing key with this value (the delta is not applied then); left out, a missing key stays missing. */
  readonly initial?: bigint | number | undefined
  /** The TTL of a key created from `initial`. */
  readonly ttl?: Ttl | undefined
}

/**
 * memcached's own operations on bytes, with the key, TTL and size rules applied before anything is sent.
 *
 * @since 1.0.0
 * @category models
 */
export interface MemcachedService {
  /** Reads one key; a miss or an expired item is `Option.none()`. */
  readonly get: (key: string) => Effect.Effect<Option.Option<Item>, InvalidKey | MemcachedError>
  /** Reads many keys in one pipelined batch per server; the map holds hits only. */
  readonly getMany: (keys: Iterable<string>) => Effect.Effect<ReadonlyMap<string, Item>, InvalidKey | MemcachedError>
  /** Stores a value. */
  readonly set: (
    key: string,
    value: Uint8Array,
    options?: WriteOptions
  ) => Effect.Effect<void, InvalidKey | InvalidArgument | ValueTooLarge | MemcachedError>
  /** Stores many values in one pipelined batch per server. */
  readonly setMany: (
    entries: Iterable<readonly [string, Item]>,
    options?: { readonly ttl?: Ttl | undefined }
  ) => Effect.Effect<void, InvalidKey | InvalidArgument | ValueTooLarge | MemcachedError>
  /** Stores only if the key is absent; `false` if it was there. */
  readonly add: (
    key: string,
    value: Uint8Array,
    options?: WriteOptions
  ) => Effect.Effect<boolean, InvalidKey | InvalidArgument | ValueTooLarge | MemcachedError>
  /** Stores only if the key is present; `false` if it was not. */
  readonly replace: (
    key: string,
    value: Uint8Array,
    options?: WriteOptions
  ) => Effect.Effect<boolean, InvalidKey | InvalidArgument | ValueTooLarge | MemcachedError>
  /** Deletes a key; `false` if it did not exist. */
  readonly delete: (key: string) => Effect.Effect<boolean, InvalidKey | MemcachedError>
  /** Deletes many keys in one pipelined batch per server; returns how many of the (distinct) keys existed. */
  readonly deleteMany: (keys: Iterable<string>) => Effect.Effect<number, InvalidKey | MemcachedError>
  /** Gives a key a new TTL from now; `false` if it did not exist. */
  readonly touch: (key: string, ttl?: Ttl) => Effect.Effect<boolean, InvalidKey | InvalidArgument | MemcachedError>
  /** Reads a key and gives it a new TTL from now, in one round trip (memcached's get-and-touch). */
  readonly getAndTouch: (
    key: string,
    ttl?: Ttl
  ) => Effect.Effect<Option.Option<Item>, InvalidKey | InvalidArgument | MemcachedError>
  /** Adds to a decimal counter (wrapping at 2^64), exact at any size; `none` if missing and no `initial`. */
  readonly increment: (
    key: string,
    delta?: bigint | number,
    options?: CounterOptions
  ) => Effect.Effect<Option.Option<bigint>, InvalidKey | InvalidArgument | MemcachedError>
  /** Subtracts from a decimal counter, stopping at 0; `none` if missing and no `initial`. */
  readonly decrement: (
    key: string,
    delta?: bigint | number,
    options?: CounterOptions
  ) => Effect.Effect<Option.Option<bigint>, InvalidKey | InvalidArgument | MemcachedError>
  /** Adds bytes after an existing value; `false` if the key is missing or the result would not fit. Never retried. */
  readonly append: (
    key: string,
    value: Uint8Array
  ) => Effect.Effect<boolean, InvalidKey | ValueTooLarge | MemcachedError>
  /**
   * Adds bytes before an existing value (memjs's own `prepend` appends); `false` if the key is missing or the result
   * would not fit. Never retried.
   */
  readonly prepend: (
    key: string,
    value: Uint8Array
  ) => Effect.Effect<boolean, InvalidKey | ValueTooLarge | MemcachedError>
  /** Reads a key with its CAS token (memcached's `gets`), for `compareAndSet`. */
  readonly getWithCas: (key: string) => Effect.Effect<Option.Option<CasItem>, InvalidKey | MemcachedError>
  /** Stores only if the item still has the CAS token `cas`; `false` if it changed or is gone. Never retried. */
  readonly compareAndSet: (
    key: string,
    value: Uint8Array,
    cas: bigint,
    options?: WriteOptions
  ) => Effect.Effect<boolean, InvalidKey | InvalidArgument | ValueTooLarge | MemcachedError>
  /**
   * Read-modify-write without lost updates: reads the item with its CAS token, stores `f(current)`, and starts over
   * when another writer got there first (up to `attempts` times, then fails with `MemcachedError` `Protocol`).
   * `f` gets `Option.none()` for a missing key, which is then created with `add`. Returns what was stored.
   */
  readonly update: (
    key: string,
    f: (current: Option.Option<Item>) => Item,
    options?: WriteOptions & { readonly attempts?: number | undefined }
  ) => Effect.Effect<Item, InvalidKey | InvalidArgument | ValueTooLarge | MemcachedError>
  /** Each server's statistics (memcached's `stats`), by `host:port`. */
  readonly stats: Effect.Effect<ReadonlyMap<string, Readonly<Record<string, string>>>, MemcachedError>
  /** Drops every item on every server (all keys, not only this prefix's). */
  readonly flush: Effect.Effect<void, MemcachedError>
  /** Asks every server for its version (keyed by `host:port`); fails if one does not answer. */
  readonly version: Effect.Effect<ReadonlyMap<string, string>, MemcachedError>
}

/**
 * Rules every store applies, and its spans and metrics (`ObservabilityOptions`).
 *
 * @since 1.0.0
 * @category models
 */
export interface StoreOptions extends ObservabilityOptions {
  /** TTL of writes that give none: positive, or `null` for never. @default "300 seconds" */
  readonly defaultTtl?: Ttl | undefined
  /** Prepended to every key; the 250-byte limit counts it. @default "" */
  readonly keyPrefix?: string | undefined
  /** Store keys over 250 bytes as `prefix + "#" + sha256(key)` instead of failing with `InvalidKey`. @default false */
  readonly hashLongKeys?: boolean | undefined
  /** memcached's item size limit (`-I`), key and per-item overhead included. @default 1048576 */
  readonly maxItemSize?: number | undefined
  /**
   * How operations that may safely be sent twice (get, getMany, set, setMany, delete, deleteMany, touch,
   * getAndTouch, flush) are retried after an `Unavailable` or `Timeout` error; it sees each error. `increment`,
   * `decrement`, `add` and `replace` are never retried. Each attempt has its own `timeout`.
   * @default once more, at once, after `Unavailable` only
   */
  readonly retry?: Schedule.Schedule<unknown, MemcachedError> | undefined
}

/**
 * A server in a pool: `host`, `port` (11211 when left out) and `weight`, its share of the keys relative to the other
 * servers' weights (1 when left out).
 *
 * @since 1.0.0
 * @category models
 */
export interface ServerSpec {
  readonly host: string
  readonly port?: number | undefined
  readonly weight?: number | undefined
}

/**
 * Where each key lives in a pool: `"ketama"` (libmemcached's weighted ketama, MD5; pylibmc with `ketama_weighted`),
 * `"ketama-hashring"` (the `memcached` npm package), `"modulo"` (memjs's `hash % n`, not consistent), or your own
 * function from the servers to a key's server index.
 *
 * @since 1.0.0
 * @category models
 */
export type PlacementOption =
  | "ketama"
  | "ketama-hashring"
  | "modulo"
  | ((servers: ReadonlyArray<Required<ServerSpec>>) => (key: string) => number)

/**
 * How a pool of servers is run.
 *
 * @since 1.0.0
 * @category models
 */
export interface PoolOptions {
  /** Where each key lives; keys are placed by their prefixed form. @default "ketama" */
  readonly placement?: PlacementOption | undefined
  /** Failed connections in a row after which a server is ejected; `Infinity` never ejects. @default 3 */
  readonly ejectAfter?: number | undefined
  /** How long an ejected server is skipped before one request tries it again. @default "1 second" */
  readonly ejectFor?: DurationWithUnits | undefined
  /**
   * Send the keys of an ejected server to the next live server on the ring instead of failing fast with
   * `MemcachedError` `Unavailable`. A trade-off: while the server is out, its keys live (and may be stale) elsewhere.
   * @default false
   */
  readonly failover?: boolean | undefined
}

/**
 * Options of `Memcached.layer` (and of `MemcachedCache`).
 *
 * @since 1.0.0
 * @category models
 */
export interface MemcachedOptions extends StoreOptions, PoolOptions {
  /**
   * `"h1:11211,h2:11211:2"` (`host[:port[:weight]]`, IPv6 as `[::1]:11211`) or a list of such strings or
   * `ServerSpec`s. @default "localhost:11211"
   */
  readonly servers?: string | ReadonlyArray<string | ServerSpec> | undefined
  /** SASL user; with `password`, turns SASL PLAIN on. memjs has no TLS: credentials travel in clear. */
  readonly username?: string | undefined
  /** SASL password. */
  readonly password?: Redacted.Redacted | undefined
  /** Deadline of each operation, connecting included. @default "1 second" */
  readonly timeout?: DurationWithUnits | undefined
  /** Ask every server for its version when the layer is built, and fail the layer if one does not answer. @default false */
  readonly checkOnStart?: boolean | undefined
}

/**
 * Options of `Memcached.layerClient`.
 *
 * @since 1.0.0
 * @category models
 */
export interface ClientLayerOptions extends StoreOptions, PoolOptions {
  /** Close the client's sockets when the layer is released. @default false */
  readonly closeOnRelease?: boolean | undefined
  /** Deadline of each operation. @default "1 second" */
  readonly timeout?: DurationWithUnits | undefined
  /** Ask every server for its version when the layer is built, and fail the layer if one does not answer. @default false */
  readonly checkOnStart?: boolean | undefined
}

/**
 * The `memjs.Client` that `Memcached.layerClient` runs over, written out by the members it reads so that this
 * package's types need no `@types/memjs`; any `memjs.Client` fits. Pass a real one (`memjs.Client.create(…)`): the
 * layer drives its servers' sockets.
 *
 * @since 1.0.0
 * @category models
 */
export interface MemjsClientLike {
  readonly servers: ReadonlyArray<{ readonly host: string; readonly port: number }>
  readonly seq: number
  getServer(key: string): string | number
  incrSeq(): void
}

/** How long a released layer waits for in-flight operations before it closes the sockets. */
const RELEASE_GRACE_MILLIS = 250

/** A bad option fails the layer with a `ConfigError` that names it. */
const checked = <A>(result: Either.Either<A, BadOption>): Either.Either<A, ConfigError.ConfigError> =>
  Either.mapLeft(result, ({ message, option }) => ConfigError.InvalidData([option], message))

const checkedService = (store: Store, options: StoreOptions, checkedOptions: CheckedStoreOptions) =>
  Effect.sync(() => makeCheckedService(store, { ...options, defaultExpiry: checkedOptions.defaultExpiry }))

const placementOf = (
  option: PlacementOption | undefined,
  addresses: ReadonlyArray<ServerAddress>,
  clientPlacement: ((key: string) => number) | undefined
): Placement => {
  const nodes = addresses.map(({ host, port, weight }) => ({ host, port, weight }))
  if (option === undefined && clientPlacement) return fromLocate(nodes.length, clientPlacement)
  switch (option ?? "ketama") {
    case "ketama":
      return ketama(nodes)
    case "ketama-hashring":
      return ketama(nodes, { flavour: "hashring" })
    case "modulo":
      return modulo(nodes)
    default: {
      const locate = (option as (servers: ReadonlyArray<Required<ServerSpec>>) => (key: string) => number)(nodes)
      return fromLocate(nodes.length, (key) => {
        const index = locate(key)
        return Number.isInteger(index) && index >= 0 && index < nodes.length ? index : 0
      })
    }
  }
}

/**
 * Opens the store over `client`, probing when asked, and closes it (and maybe the client's sockets) on release. An
 * `owned` client (one the layer built) lets its idle sockets not hold the process.
 */
const acquireMemjs = (
  client: MemjsClient,
  addresses: ReadonlyArray<ServerAddress>,
  options: StoreOptions & PoolOptions & { readonly checkOnStart?: boolean | undefined },
  checkedOptions: CheckedConnectionOptions,
  closeSockets: boolean,
  owned: boolean,
  clientPlacement?: (key: string) => number
) =>
  Effect.gen(function*() {
    const { deadMillis, deadlineMillis, ejectAfter, maxItemSize } = checkedOptions
    const placement = placementOf(options.placement, addresses, clientPlacement)
    const store = yield* Effect.acquireRelease(
      Effect.sync(() =>
        makeMemjsBackend({
          client,
          addresses,
          deadlineMillis,
          maxItemSize,
          placement,
          ejection: { ejectAfter, deadMillis },
          failover: options.failover ?? false,
          unrefIdle: owned
        })
      ),
      (store) => store.close(RELEASE_GRACE_MILLIS, closeSockets)
    )
    const service = yield* checkedService(store, options, checkedOptions)
    if (options.checkOnStart) yield* service.version
    return service
  })

/**
 * The bytes-level memcached service. Most code uses `Cache`; this one is for memcached's own operations (add,
 * replace, counters, touch) and for building other stores.
 *
 * @since 1.0.0
 * @category tags
 */
export class Memcached extends Context.Tag("effect-memcached/Memcached")<Memcached, MemcachedService>() {
  /**
   * Real memcached servers through a memjs client that the layer opens in its scope and closes on release
   * (in-flight operations get a short grace period). By default the layer builds even when the servers are down, and
   * each operation then fails with `MemcachedError` within `timeout`; `checkOnStart: true` fails the layer instead.
   * A bad option (a bare-number duration, a malformed server, …) fails the layer with a `ConfigError` naming it.
   *
   * @since 1.0.0
   * @category layers
   */
  static readonly layer = (
    options: MemcachedOptions = {}
  ): Layer.Layer<Memcached | Cache, MemcachedError | ConfigError.ConfigError, Serializer> =>
    withCache(Layer.scoped(
      Memcached,
      Effect.gen(function*() {
        const addresses = yield* checked(checkServers(options.servers))
        const checkedOptions = yield* checked(checkConnectionOptions(options))
        const { deadlineMillis } = checkedOptions
        const username = options.username || undefined
        const password = options.password === undefined ? undefined : Redacted.value(options.password) || undefined
        const client = makeMemjsClient(addresses, username, password, deadlineMillis)
        return yield* acquireMemjs(client, addresses, options, checkedOptions, true, true)
      })
    ))

  /**
   * `Memcached.layer` with its options read from an Effect `Config`.
   *
   * @since 1.0.0
   * @category layers
   */
  static readonly layerConfig = (
    config: Config.Config.Wrap<MemcachedOptions>
  ): Layer.Layer<Memcached | Cache, MemcachedError | ConfigError.ConfigError, Serializer> =>
    Layer.unwrapEffect(Effect.map(Config.unwrap(config), Memcached.layer))

  /**
   * Runs over a `memjs.Client` you built (privex `mcache_instance`): its servers, credentials and `getServer`
   * placement are used, its retries and logger are not (requests are framed here). Left open on release unless
   * `closeOnRelease`. A bad option fails the layer with a `ConfigError` naming it.
   *
   * @since 1.0.0
   * @category layers
   */
  static readonly layerClient = (
    client: MemjsClientLike,
    options: ClientLayerOptions = {}
  ): Layer.Layer<Memcached | Cache, MemcachedError | ConfigError.ConfigError, Serializer> =>
    withCache(Layer.scoped(
      Memcached,
      Effect.gen(function*() {
        const checkedOptions = yield* checked(checkConnectionOptions(options))
        const raw = client as unknown as MemjsClient
        const addresses = raw.servers.map((server) => ({
          host: server.host,
          port: server.port,
          weight: 1,
          label: `${server.host}:${server.port}`
        }))
        return yield* acquireMemjs(
          raw,
          addresses,
          options,
          checkedOptions,
          options.closeOnRelease ?? false,
          false,
          (key) => Number(raw.getServer(key))
        )
      })
    ))

  /**
   * The in-memory fake: memcached's key, TTL and size rules on the Effect `Clock` (so `TestClock.adjust` expires
   * keys), whole-second expiry, no eviction. Each build starts empty. A bad option fails the layer with a
   * `ConfigError` naming it.
   *
   * @since 1.0.0
   * @category layers
   */
  static readonly layerMemory = (
    options: StoreOptions = {}
  ): Layer.Layer<Memcached | Cache, ConfigError.ConfigError, Serializer> =>
    withCache(Layer.effect(
      Memcached,
      Effect.flatMap(
        checked(checkStoreOptions(options)),
        (checkedOptions) => checkedService(makeMemoryBackend(checkedOptions.maxItemSize), options, checkedOptions)
      )
    ))
}

const withCache = <E, R>(
  memcached: Layer.Layer<Memcached, E, R>
): Layer.Layer<Memcached | Cache, E, R | Serializer> =>
  Layer.provideMerge(
    Layer.effect(
      Cache,
      Effect.flatMap(Effect.all([Memcached, Serializer]), ([store, serializer]) => Cache.make(store, serializer))
    ),
    memcached
  )
