/**
 * The `Cache` service: values in, values out, over the bytes-level `Memcached` service and a `Serializer`. This module
 * composes `Cache` over them (`Cache.layer`, `Cache.layerMemcached`, `Cache.layerMemory`); `Memcached` never names
 * `Cache`.
 *
 * @since 2.0.0
 */
import type * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type { LazyArg } from "effect/Function"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import type * as Schema from "effect/Schema"
import { argsKey } from "../../src/engine/argsKey.js"
import type { Codec } from "../../src/internal/cache/codec.js"
import { flatMapNow, identity, makeItemCodec, mapNow, schemaCodec } from "../../src/internal/cache/codec.js"
import { itemAccess } from "../../src/internal/cache/direct.js"
import { leased, leaseOf, serverLeased } from "../../src/internal/cache/lease.js"
import { namespaced } from "../../src/internal/cache/namespace.js"
import { makeSingleFlight } from "../../src/internal/cache/singleFlight.js"
import type { MemcachedView } from "../../src/internal/memcachedService.js"
import { serverLeases } from "../../src/internal/memcachedService.js"
import { CacheNotFound } from "./errors/CacheNotFound.js"
import type { CacheError } from "./errors/index.js"
import { InvalidArgument } from "./errors/InvalidArgument.js"
import type { InvalidKey } from "./errors/InvalidKey.js"
import type { MemcachedError } from "./errors/MemcachedError.js"
import type { SerializationError } from "./errors/SerializationError.js"
import { notAStringKey } from "./internal/keys.js"
import { decodeWithUnits } from "./internal/ttl.js"
import type { DurationWithUnits, Item, LayerOptions, MemcachedOptions, Ttl } from "./Memcached.js"
import { Memcached } from "./Memcached.js"
import type { SerializerService } from "./Serializer.js"
import { Serializer } from "./Serializer.js"

/**
 * Options of writes. `ttl` left out means the layer's `defaultTtl` (300 seconds unless configured); `null` never
 * expires.
 *
 * @since 2.0.0
 * @category models
 */
export interface SetOptions {
  readonly ttl?: Ttl | undefined
}

/**
 * A cross-process lease for `getOrSet` (stampede protection). On a miss, the caller first takes the lease
 * `<key>:lease` with memcached's atomic `add`: the one that gets it computes, stores and releases it; the others poll
 * for the value every `poll` for up to `wait`, then compute it themselves. A holder that dies leaves the lease to
 * expire after `ttl`.
 *
 * With `protocol: "meta"`, memcached keeps the lease on the key itself, in one round trip when the value is there: a
 * read that misses leaves a placeholder for `ttl` and wins; the others see it is taken and poll as above. A value
 * marked stale by `invalidate` goes to one caller to recompute (see `staleWhileRevalidate`). Namespaced caches lease
 * with a key, as over binary.
 *
 * @since 2.0.0
 * @category models
 */
export interface LeaseOptions {
  /** How long a lease lives if its holder never releases it (rounded up to whole seconds). @default "5 seconds" */
  readonly ttl?: DurationWithUnits | undefined
  /**
   * How long a caller that did not get the lease waits for the holder's value before computing it itself.
   * @default "2 seconds"
   */
  readonly wait?: DurationWithUnits | undefined
  /** How often a waiting caller looks for the value. @default "50 millis" */
  readonly poll?: DurationWithUnits | undefined
  /**
   * Over meta, a value marked stale by `invalidate` is returned at once to every caller but one, which recomputes and
   * stores it; without it, they wait for the new value as on a miss. Over binary and in the fake, `invalidate`
   * deletes, so there is no stale value to return.
   *
   * @default false
   * @since 2.0.0
   */
  readonly staleWhileRevalidate?: boolean | undefined
}

/**
 * Options of `getOrSet` and `cached`: a write's `ttl`, and an opt-in cross-process `lease` (`true` for the defaults).
 *
 * @since 2.0.0
 * @category models
 */
export interface GetOrSetOptions extends SetOptions {
  /** Let one process compute a missing value while the others wait for it. @default false */
  readonly lease?: boolean | LeaseOptions | undefined
}

/**
 * Options of `cached`: how a call's arguments become its key, and those of `getOrSet`.
 *
 * @since 2.0.0
 * @category models
 */
export interface CachedOptions<Args extends ReadonlyArray<unknown>> extends GetOrSetOptions {
  /**
   * A function from the arguments to the key, or a prefix: then a call without arguments uses the prefix as its key,
   * and a call with arguments `<prefix>:<arguments>`, written as JSON with object keys sorted, and `1n`, `undefined`,
   * `Date(<ms>)`, `Map{…}`, `Set[…]` where JSON has nothing; whitespace and control characters are percent-encoded.
   * Functions, symbols and cycles have no key (a defect: give a function). Long arguments make keys over 250 bytes:
   * use a function, or `hashLongKeys`.
   */
  readonly key: string | ((...args: Args) => string)
}

/**
 * Options of `namespace`.
 *
 * @since 2.0.0
 * @category models
 */
export interface NamespaceOptions {
  /**
   * How long this process trusts its copy of the namespace's version before reading it again (one round trip); a
   * `clear` in another process is seen within this time. `Duration.zero` reads it before every operation. A `clear`
   * in this process is seen here at once. @default "1 second"
   */
  readonly versionTtl?: DurationWithUnits | undefined
}

/**
 * The cache, with values of type `A`: what `Cache.typed(schema)` returns, and the shape of `Cache` itself.
 *
 * @since 2.0.0
 * @category models
 */
export interface TypedCache<A> {
  /** Reads a key; a miss or an expired entry is `Option.none()`. */
  readonly get: (key: string) => Effect.Effect<Option.Option<A>, CacheError>
  /** Reads a key, or gives `orElse()` on a miss (privex `get(key, default)`). */
  readonly getOrElse: <B>(key: string, orElse: LazyArg<B>) => Effect.Effect<A | B, CacheError>
  /** Reads a key, failing with `CacheNotFound` on a miss (privex `get(key, fail=True)`). */
  readonly getOrFail: (key: string) => Effect.Effect<A, CacheNotFound | CacheError>
  /** Stores a value. */
  readonly set: (key: string, value: A, options?: SetOptions) => Effect.Effect<void, CacheError>
  /** Removes keys; `true` only if every key existed. All are removed either way, in one batch per server. */
  readonly remove: (...keys: ReadonlyArray<string>) => Effect.Effect<boolean, CacheError>
  /**
   * Marks a key stale instead of deleting it (meta's `md <key> I`): plain reads miss it, and `getOrSet` with a lease
   * hands its recomputation to one caller, the others waiting for the new value or, with `staleWhileRevalidate`,
   * getting the stale one at once. Over binary and in the fake, it deletes the key. `true` if the key
   * existed. @since 2.0.0
   */
  readonly invalidate: (key: string) => Effect.Effect<boolean, CacheError>
  /** Gives a key a new TTL from now and returns its value, in one round trip; `CacheNotFound` on a miss. */
  readonly updateTimeout: (key: string, ttl?: Ttl) => Effect.Effect<A, CacheNotFound | CacheError>
  /**
   * Reads a key; on a miss runs `compute`, stores and returns its result. Concurrent callers of one key in this
   * process share one run of `compute`; its failure is theirs too, and nothing is stored then.
   */
  readonly getOrSet: <E, R>(
    key: string,
    compute: Effect.Effect<A, E, R>,
    options?: GetOrSetOptions
  ) => Effect.Effect<A, E | CacheError, R>
  /**
   * Memoizes an Effect-returning function through the cache (privex `r_cache`): each call reads its key and, on a
   * miss, runs the function and stores the result, whatever it is (`0`, `""`, `false` and `null` are cached too).
   * Calls share `getOrSet`'s single flight, and its `lease` when asked.
   */
  readonly cached: <Args extends ReadonlyArray<unknown>, E, R>(
    fn: (...args: Args) => Effect.Effect<A, E, R>,
    options: CachedOptions<Args>
  ) => (...args: Args) => Effect.Effect<A, E | CacheError, R>
  /** Whether a key holds a value (it is read: memcached has no cheaper test). */
  readonly has: (key: string) => Effect.Effect<boolean, CacheError>
  /** Reads many keys in one pipelined batch per server; the map holds hits only. */
  readonly getMany: (keys: Iterable<string>) => Effect.Effect<ReadonlyMap<string, A>, CacheError>
  /** Stores many values in one pipelined batch per server. */
  readonly setMany: (
    entries: Iterable<readonly [string, A]>,
    options?: SetOptions
  ) => Effect.Effect<void, CacheError>
}

/**
 * The `Cache` service: values of any type the serializer takes.
 *
 * @since 2.0.0
 * @category models
 */
export interface CacheService extends Omit<TypedCache<unknown>, "getOrSet" | "cached"> {
  /**
   * Reads a key; on a miss runs `compute`, stores and returns its result. Concurrent callers of one key in this
   * process share one run of `compute`; with `lease`, so do other processes (see `LeaseOptions`).
   */
  readonly getOrSet: <A, E, R>(
    key: string,
    compute: Effect.Effect<A, E, R>,
    options?: GetOrSetOptions
  ) => Effect.Effect<A, E | CacheError, R>
  /**
   * Memoizes an Effect-returning function through the cache (privex `r_cache`): each call reads its key and, on a
   * miss, runs the function and stores the result, whatever it is (`0`, `""`, `false` and `null` are cached too).
   */
  readonly cached: <Args extends ReadonlyArray<unknown>, A, E, R>(
    fn: (...args: Args) => Effect.Effect<A, E, R>,
    options: CachedOptions<Args>
  ) => (...args: Args) => Effect.Effect<A, E | CacheError, R>
  /** A view whose values are `A`, encoded and decoded through `schema`; a stored value that does not decode is a `SerializationError`. */
  readonly typed: <A, I>(schema: Schema.Codec<A, I, never, never>) => TypedCache<A>
  /**
   * A view of the keys under `<name>:<version>:`, with the same members and `clear()`, which drops only this
   * namespace (no `flush_all`). The same name gives the same view.
   */
  readonly namespace: (name: string, options?: NamespaceOptions) => NamespacedCache
}

/**
 * A namespace of the cache (`cache.namespace("users")`): the same members, over keys stored as
 * `<name>:<version>:<key>`, and `clear()`, which moves the namespace to a new version with one atomic memcached
 * `increment` of `<name>:_version`. Old keys are never read again and age out; other namespaces and plain keys are
 * untouched. Namespaces nest: clearing one clears those inside it.
 *
 * @since 2.0.0
 * @category models
 */
export interface NamespacedCache extends CacheService {
  readonly name: string
  /** Invalidates every key of this namespace: at once in this process, within `versionTtl` in the others. */
  readonly clear: Effect.Effect<void, InvalidKey | MemcachedError>
}

/**
 * Builds the cache over a `MemcachedView` (`Memcached`, or a namespace of it) and a serializer. `Cache.layer` calls
 * this for you.
 *
 * @since 2.0.0
 * @category constructors
 */
export const make = (memcached: MemcachedView, serializer: SerializerService): Effect.Effect<CacheService> =>
  Effect.sync(() => makeCache(memcached, serializer))

export type {
  /**
   * The part of `MemcachedService` that a cache reads and writes through: `Memcached` itself, or a namespace of it.
   *
   * @since 2.0.0
   * @category models
   */
  MemcachedView
}

/** A `ttl` option that is not `null` or a duration with its unit, checked before anything runs. */
const badTtl = (key: string, ttl: unknown): InvalidArgument | undefined => {
  if (ttl === undefined || ttl === null) return undefined
  const decoded = decodeWithUnits(ttl)
  return Result.isFailure(decoded) ? new InvalidArgument({ argument: "ttl", reason: decoded.failure, key }) : undefined
}

const keyOf = <Args extends ReadonlyArray<unknown>>(key: CachedOptions<Args>["key"], args: Args): string =>
  typeof key === "function" ? key(...args) : argsKey(key, args)

const makeCache = (memcached: MemcachedView, serializer: SerializerService): CacheService => {
  const flights = makeSingleFlight<string>()
  const namespaces = new Map<MemcachedView, NamespacedCache>()
  const access = itemAccess(memcached)

  const view = <A>(codec: Codec<A>): TypedCache<A> => {
    const items = makeItemCodec(serializer, codec)
    const decodeSome = (key: string, item: Item): Effect.Effect<Option.Option<A>, SerializationError> =>
      mapNow(items.decode(key, item), Option.some)

    const get = (key: string) =>
      access.read(key, (item) => item === undefined ? Effect.succeedNone : decodeSome(key, item))

    /** The value at `key`, decoded, or `onMiss()` when there is none: one step, with no `Option` in between. */
    const getOr = <B, E>(key: string, onMiss: () => Effect.Effect<B, E>): Effect.Effect<A | B, E | CacheError> =>
      access.read(
        key,
        (item): Effect.Effect<A | B, E | SerializationError> => item === undefined ? onMiss() : items.decode(key, item)
      )

    const getOrFail = (key: string): Effect.Effect<A, CacheNotFound | CacheError> =>
      getOr(key, () => Effect.fail(new CacheNotFound({ key })))

    /**
     * The key is checked before the value is encoded: a key that is not a string is `InvalidKey`, whatever the
     * value.
     */
    const set = (key: string, value: A, options?: SetOptions): Effect.Effect<void, CacheError> =>
      typeof key !== "string" ? Effect.fail(notAStringKey(key)) : flatMapNow(
        items.encode(key, value),
        (item) => access.write(key, item, options?.ttl)
      )

    /** Its options are checked before the key is read, so a bad one fails on a hit too. */
    const getOrSet = <E, R>(
      key: string,
      compute: Effect.Effect<A, E, R>,
      options?: GetOrSetOptions
    ): Effect.Effect<A, E | CacheError, R> => {
      if (typeof key !== "string") return Effect.fail(notAStringKey(key))
      const lease = leaseOf(key, options?.lease)
      if (lease instanceof InvalidArgument) return Effect.fail(lease)
      const ttlError = badTtl(key, options?.ttl)
      if (ttlError) return Effect.fail(ttlError)
      const computeAndStore = () => Effect.tap(compute, (value) => set(key, value, options))
      const server = lease && serverLeases.get(memcached)
      if (lease && server) {
        // over meta, the lease read is the read: one round trip when the value is there
        const decode = items.decode
        return flights(key, serverLeased({ memcached, server, key, lease, decode, computeAndStore }))
      }
      return Effect.flatMap(
        get(key),
        Option.match({
          onSome: (value) => Effect.succeed(value),
          onNone: () =>
            flights(
              key,
              lease
                ? leased({ memcached, key, lease, get, decode: items.decode, computeAndStore: computeAndStore() })
                : computeAndStore()
            )
        })
      )
    }

    const cached = <Args extends ReadonlyArray<unknown>, E, R>(
      fn: (...args: Args) => Effect.Effect<A, E, R>,
      options: CachedOptions<Args>
    ) =>
    (...args: Args): Effect.Effect<A, E | CacheError, R> =>
      Effect.suspend(() => getOrSet(keyOf(options.key, args), Effect.suspend(() => fn(...args)), options))

    return {
      get,
      getOrElse: (key, orElse) => getOr(key, () => Effect.succeed(orElse())),
      getOrFail,
      set,
      invalidate: (key) => serverLeases.get(memcached)?.invalidate(key) ?? memcached.delete(key),
      remove: (...keys) => Effect.map(memcached.deleteMany(keys), (existed) => existed === new Set(keys).size),
      updateTimeout: (key, ttl) =>
        Effect.flatMap(
          memcached.getAndTouch(key, ttl),
          Option.match({
            onNone: (): Effect.Effect<A, CacheNotFound | SerializationError> => Effect.fail(new CacheNotFound({ key })),
            onSome: (item) => items.decode(key, item)
          })
        ),
      getOrSet,
      cached,
      has: (key) => access.read(key, (item) => Effect.succeed(item !== undefined)),
      getMany: (keys) => access.readMany(keys, items.decodeAll),
      setMany: (entries, options) =>
        Effect.flatMap(
          Effect.forEach(entries, ([key, value]): Effect.Effect<readonly [string, Item], CacheError> =>
            typeof key !== "string"
              ? Effect.fail(notAStringKey(key))
              : Effect.map(items.encode(key, value), (item) =>
                [key, item] as const)),
          (entries) =>
            memcached.setMany(entries, options)
        )
    }
  }

  const untyped = view(identity)
  return {
    ...untyped,
    getOrSet: untyped.getOrSet as CacheService["getOrSet"],
    cached: untyped.cached as CacheService["cached"],
    typed: (schema) => view(schemaCodec(schema)),
    namespace: (name, options) => {
      const inner = namespaced(memcached, name, options?.versionTtl)
      let found = namespaces.get(inner)
      if (!found) {
        found = { ...makeCache(inner, serializer), name, clear: inner.clear }
        namespaces.set(inner, found)
      }
      return found
    }
  }
}

/**
 * The cache service. Get it with `yield* Cache`, or use the accessors (`Cache.get(key)`, …) as Effects that need it.
 *
 * @since 2.0.0
 * @category tags
 */
export class Cache extends Context.Service<Cache, CacheService>()("effect-memcached/Cache") {
  /** @since 2.0.0 */
  static readonly make = make

  /**
   * The cache over the `Memcached` and the `Serializer` in context.
   *
   * @since 2.0.0
   * @category layers
   */
  static readonly layer: Layer.Layer<Cache, never, Memcached | Serializer> = Layer.effect(
    Cache,
    Effect.flatMap(Effect.all([Memcached, Serializer]), ([memcached, serializer]) => make(memcached, serializer))
  )

  /**
   * `Cache.layer` over `Memcached.layer(options)`, in one line: provides both `Cache` and `Memcached`, and needs a
   * `Serializer`. A bad option fails the layer with a `ConfigError` naming it. Its `Cache` is its own (`Layer.fresh`):
   * Effect 4 shares a layer already built by an enclosing `Effect.provide`, and `Cache.layer` over another `Memcached`
   * must not be that one.
   *
   * @since 2.0.0
   * @category layers
   */
  static readonly layerMemcached = (
    options?: MemcachedOptions
  ): Layer.Layer<Cache | Memcached, MemcachedError | Config.ConfigError, Serializer> =>
    Layer.provideMerge(Layer.fresh(Cache.layer), Memcached.layer(options))

  /**
   * `Cache.layer` over the in-memory fake, `Memcached.layerMemory(options)`: provides both `Cache` and `Memcached`, and
   * needs a `Serializer`. Each build starts empty.
   *
   * @since 2.0.0
   * @category layers
   */
  static readonly layerMemory = (
    options?: LayerOptions
  ): Layer.Layer<Cache | Memcached, Config.ConfigError, Serializer> =>
    Layer.provideMerge(Layer.fresh(Cache.layer), Memcached.layerMemory(options))
  /** @since 2.0.0 @category accessors */
  static readonly get = (key: string) => Effect.flatMap(Cache, (cache) => cache.get(key))
  /** @since 2.0.0 @category accessors */
  static readonly getOrElse = <B>(key: string, orElse: LazyArg<B>) =>
    Effect.flatMap(Cache, (cache) => cache.getOrElse(key, orElse))
  /** @since 2.0.0 @category accessors */
  static readonly getOrFail = (key: string) => Effect.flatMap(Cache, (cache) => cache.getOrFail(key))
  /** @since 2.0.0 @category accessors */
  static readonly set = (key: string, value: unknown, options?: SetOptions) =>
    Effect.flatMap(Cache, (cache) => cache.set(key, value, options))
  /** @since 2.0.0 @category accessors */
  static readonly remove = (...keys: ReadonlyArray<string>) => Effect.flatMap(Cache, (cache) => cache.remove(...keys))
  /** @since 2.0.0 @category accessors */
  static readonly invalidate = (key: string) => Effect.flatMap(Cache, (cache) => cache.invalidate(key))
  /** @since 2.0.0 @category accessors */
  static readonly updateTimeout = (key: string, ttl?: Ttl) =>
    Effect.flatMap(Cache, (cache) => cache.updateTimeout(key, ttl))
  /** @since 2.0.0 @category accessors */
  static readonly getOrSet = <A, E, R>(key: string, compute: Effect.Effect<A, E, R>, options?: GetOrSetOptions) =>
    Effect.flatMap(Cache, (cache) => cache.getOrSet(key, compute, options))
  /**
   * `cache.cached(fn, options)` as a function whose calls need `Cache`: memoizes an Effect-returning function through
   * whichever cache is provided.
   *
   * @since 2.0.0
   * @category accessors
   */
  static readonly cached = <Args extends ReadonlyArray<unknown>, A, E, R>(
    fn: (...args: Args) => Effect.Effect<A, E, R>,
    options: CachedOptions<Args>
  ) =>
  (...args: Args): Effect.Effect<A, E | CacheError, R | Cache> =>
    Effect.flatMap(Cache, (cache) => cache.cached(fn, options)(...args))
  /** @since 2.0.0 @category accessors */
  static readonly namespace = (name: string, options?: NamespaceOptions) =>
    Effect.map(Cache, (cache) => cache.namespace(name, options))
  /** @since 2.0.0 @category accessors */
  static readonly has = (key: string) => Effect.flatMap(Cache, (cache) => cache.has(key))
  /** @since 2.0.0 @category accessors */
  static readonly getMany = (keys: Iterable<string>) => Effect.flatMap(Cache, (cache) => cache.getMany(keys))
  /** @since 2.0.0 @category accessors */
  static readonly setMany = (entries: Iterable<readonly [string, unknown]>, options?: SetOptions) =>
    Effect.flatMap(Cache, (cache) => cache.setMany(entries, options))
  /** @since 2.0.0 @category accessors */
  static readonly typed = <A, I>(schema: Schema.Codec<A, I, never, never>) =>
    Effect.map(Cache, (cache) => cache.typed(schema))
}
