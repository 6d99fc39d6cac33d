/**
 * The `Cache` service: values in, values out, over the bytes-level `Memcached` service and a `Serializer`.
 *
 * @since 1.0.0
 */
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import type { LazyArg } from "effect/Function"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { CacheNotFound } from "./errors/CacheNotFound.js"
import type { CacheError } from "./errors/index.js"
import { SerializationError } from "./errors/SerializationError.js"
import type { Item, MemcachedService, Ttl } from "./Memcached.js"
import type { SerializerService } from "./Serializer.js"

/**
 * Options of writes. `ttl` left out means the layer's `defaultTtl` (300 seconds unless configured); `null` never
 * expires.
 *
 * @since 1.0.0
 * @category models
 */
export interface SetOptions {
  readonly ttl?: Ttl | undefined
}

/**
 * The cache, with values of type `A`: what `Cache.typed(schema)` returns, and the shape of `Cache` itself.
 *
 * @since 1.0.0
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
  /** Gives a key a new TTL from now and returns its value, in one round trip; `CacheNotFound` on a miss. */
  readonly updateTimeout: (key: string, ttl?: Ttl) => Effect.Effect<A, CacheNotFound | CacheError>
  /**
   * Reads a key; on a miss runs `compute`, stores and returns its result. Concurrent callers of one key in this
   * process share one run of `compute`; its failure is theirs too, and nothing is stored then.
   */
  readonly getOrSet: <E, R>(
    key: string,
    compute: Effect.Effect<A, E, R>,
    options?: SetOptions
  ) => Effect.Effect<A, E | CacheError, R>
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
 * @since 1.0.0
 * @category models
 */
export interface CacheService extends Omit<TypedCache<unknown>, "getOrSet"> {
  /**
   * Reads a key; on a miss runs `compute`, stores and returns its result. Concurrent callers of one key in this
   * process share one run of `compute`.
   */
  readonly getOrSet: <A, E, R>(
    key: string,
    compute: Effect.Effect<A, E, R>,
    options?: SetOptions
  ) => Effect.Effect<A, E | CacheError, R>
  /** A view whose values are `A`, encoded and decoded through `schema`; a stored value that does not decode is a `SerializationError`. */
  readonly typed: <A, I>(schema: Schema.Schema<A, I, never>) => TypedCache<A>
}

interface Codec<A> {
  readonly encode: (key: string, value: A) => Effect.Effect<unknown, SerializationError>
  readonly decode: (key: string, value: unknown) => Effect.Effect<A, SerializationError>
}

const identity: Codec<unknown> = { encode: (_, value) => Effect.succeed(value), decode: (_, value) => Effect.succeed(value) }

const schemaCodec = <A, I>(schema: Schema.Schema<A, I, never>): Codec<A> => {
  const encode = Schema.encode(schema)
  const decode = Schema.decodeUnknown(schema)
  return {
    encode: (key, value) =>
      Effect.mapError(encode(value), (cause) => new SerializationError({ key, direction: "encode", cause })),
    decode: (key, value) =>
      Effect.mapError(decode(value), (cause) => new SerializationError({ key, direction: "decode", cause }))
  }
}

/**
 * Builds the cache over a bytes-level store and a serializer. The layers in `Memcached` call this for you.
 *
 * @since 1.0.0
 * @category constructors
 */
export const make = (memcached: MemcachedService, serializer: SerializerService): Effect.Effect<CacheService> =>
  Effect.sync(() => {
    const flights = new Map<string, Deferred.Deferred<unknown, unknown>>()

    const view = <A>(codec: Codec<A>): TypedCache<A> => {
      const decodeItem = (key: string, item: Item) =>
        Effect.flatMap(serializer.decode(key, { bytes: item.value, flags: item.flags }), (value) =>
          codec.decode(key, value))
      const encodeItem = (key: string, value: A) =>
        Effect.flatMap(codec.encode(key, value), (encoded) =>
          Effect.map(serializer.encode(key, encoded), ({ bytes, flags }): Item => ({ value: bytes, flags })))

      const get = (key: string) =>
        Effect.flatMap(memcached.get(key), Option.match({
          onNone: () => Effect.succeedNone,
          onSome: (item) => Effect.asSome(decodeItem(key, item))
        }))

      const getOrFail = (key: string): Effect.Effect<A, CacheNotFound | CacheError> =>
        Effect.flatMap(get(key), Option.match({
          onNone: (): Effect.Effect<A, CacheNotFound> => Effect.fail(new CacheNotFound({ key })),
          onSome: Effect.succeed
        }))

      const set = (key: string, value: A, options?: SetOptions) =>
        Effect.flatMap(encodeItem(key, value), (item) =>
          memcached.set(key, item.value, { flags: item.flags, ttl: options?.ttl }))

      const getOrSet = <E, R>(key: string, compute: Effect.Effect<A, E, R>, options?: SetOptions) =>
        Effect.flatMap(get(key), Option.match({
          onSome: (value) => Effect.succeed(value),
          onNone: () => singleFlight(key, Effect.tap(compute, (value) => set(key, value, options)))
        }))

      const singleFlight = <E, R>(key: string, leader: Effect.Effect<A, E | CacheError, R>) =>
        Effect.suspend((): Effect.Effect<A, E | CacheError, R> => {
          const running = flights.get(key)
          if (running) {
            return Effect.flatMap(Deferred.await(running).pipe(Effect.exit), (exit) =>
              Exit.isInterrupted(exit)
                ? singleFlight(key, leader)
                : (exit as Exit.Exit<A, E | CacheError>))
          }
          const deferred = Deferred.unsafeMake<unknown, unknown>(FiberId.none)
          flights.set(key, deferred)
          return leader.pipe(Effect.onExit((exit) => {
            flights.delete(key)
            return Deferred.done(deferred, exit)
          }))
        })

      return {
        get,
        getOrElse: (key, orElse) => Effect.map(get(key), Option.getOrElse(orElse)),
        getOrFail,
        set,
        remove: (...keys) => Effect.map(memcached.deleteMany(keys), (existed) => existed === new Set(keys).size),
        updateTimeout: (key, ttl) =>
          Effect.flatMap(memcached.getAndTouch(key, ttl), Option.match({
            onNone: (): Effect.Effect<A, CacheNotFound | SerializationError> => Effect.fail(new CacheNotFound({ key })),
            onSome: (item) => decodeItem(key, item)
          })),
        getOrSet,
        has: (key) => Effect.map(memcached.get(key), Option.isSome),
        getMany: (keys) =>
          Effect.flatMap(memcached.getMany(keys), (items) =>
            Effect.map(
              Effect.forEach(items, ([key, item]) => Effect.map(decodeItem(key, item), (value) => [key, value] as const)),
              (pairs) => new Map(pairs)
            )),
        setMany: (entries, options) =>
          Effect.flatMap(
            Effect.forEach(entries, ([key, value]) => Effect.map(encodeItem(key, value), (item) => [key, item] as const)),
            (items) => memcached.setMany(items, options)
          )
      }
    }

    const untyped = view(identity)
    return {
      ...untyped,
      getOrSet: untyped.getOrSet as CacheService["getOrSet"],
      typed: (schema) => view(schemaCodec(schema))
    }
  })

/**
 * The cache service. Get it with `yield* Cache`, or use the accessors (`Cache.get(key)`, …) as Effects that need it.
 *
 * @since 1.0.0
 * @category tags
 */
export class Cache extends Context.Tag("effect-memcached/Cache")<Cache, CacheService>() {
  /** @since 1.0.0 */
  static readonly make = make
  /** @since 1.0.0 @category accessors */
  static readonly get = (key: string) => Effect.flatMap(Cache, (cache) => cache.get(key))
  /** @since 1.0.0 @category accessors */
  static readonly getOrElse = <B>(key: string, orElse: LazyArg<B>) =>
    Effect.flatMap(Cache, (cache) => cache.getOrElse(key, orElse))
  /** @since 1.0.0 @category accessors */
  static readonly getOrFail = (key: string) => Effect.flatMap(Cache, (cache) => cache.getOrFail(key))
  /** @since 1.0.0 @category accessors */
  static readonly set = (key: string, value: unknown, options?: SetOptions) =>
    Effect.flatMap(Cache, (cache) => cache.set(key, value, options))
  /** @since 1.0.0 @category accessors */
  static readonly remove = (...keys: ReadonlyArray<string>) => Effect.flatMap(Cache, (cache) => cache.remove(...keys))
  /** @since 1.0.0 @category accessors */
  static readonly updateTimeout = (key: string, ttl?: Ttl) =>
    Effect.flatMap(Cache, (cache) => cache.updateTimeout(key, ttl))
  /** @since 1.0.0 @category accessors */
  static readonly getOrSet = <A, E, R>(key: string, compute: Effect.Effect<A, E, R>, options?: SetOptions) =>
    Effect.flatMap(Cache, (cache) => cache.getOrSet(key, compute, options))
  /** @since 1.0.0 @category accessors */
  static readonly has = (key: string) => Effect.flatMap(Cache, (cache) => cache.has(key))
  /** @since 1.0.0 @category accessors */
  static readonly getMany = (keys: Iterable<string>) => Effect.flatMap(Cache, (cache) => cache.getMany(keys))
  /** @since 1.0.0 @category accessors */
  static readonly setMany = (entries: Iterable<readonly [string, unknown]>, options?: SetOptions) =>
    Effect.flatMap(Cache, (cache) => cache.setMany(entries, options))
  /** @since 1.0.0 @category accessors */
  static readonly typed = <A, I>(schema: Schema.Schema<A, I, never>) =>
    Effect.map(Cache, (cache) => cache.typed(schema))
}
