/**
 * The `Cache` service: values in, values out, over the bytes-level `Memcached` service and a `Serializer`.
 *
 * @since 1.0.0
 */
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import type { LazyArg } from "effect/Function"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { CacheNotFound } from "./errors/CacheNotFound.js"
import type { CacheError } from "./errors/index.js"
import { InvalidArgument } from "./errors/InvalidArgument.js"
import type { InvalidKey } from "./errors/InvalidKey.js"
import type { MemcachedError } from "./errors/MemcachedError.js"
import { SerializationError } from "./errors/SerializationError.js"
import { argsKey } from "./internal/argsKey.js"
import { notAStringKey } from "./internal/keys.js"
import type { CacheStore } from "./internal/namespace.js"
import { namespaceStore } from "./internal/namespace.js"
import { EncodedRecord, ItemRecord, WriteRecord } from "./internal/records.js"
import { decodeWithUnits } from "./internal/ttl.js"
import type { DurationWithUnits, Item, Ttl } from "./Memcached.js"
import type { Encoded, SerializerService } from "./Serializer.js"

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
 * A cross-process lease for `getOrSet` (stampede protection). On a miss, the caller first takes the lease
 * `<key>:lease` with memcached's atomic `add`: the one that gets it computes, stores and releases it; the others poll
 * for the value every `poll` for up to `wait`, then compute it themselves. A holder that dies leaves the lease to
 * expire after `ttl`.
 *
 * @since 1.0.0
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
}

/**
 * Options of `getOrSet` and `cached`: a write's `ttl`, and an opt-in cross-process `lease` (`true` for the defaults).
 *
 * @since 1.0.0
 * @category models
 */
export interface GetOrSetOptions extends SetOptions {
  /** Let one process compute a missing value while the others wait for it. @default false */
  readonly lease?: boolean | LeaseOptions | undefined
}

/**
 * Options of `cached`: how a call's arguments become its key, and those of `getOrSet`.
 *
 * @since 1.0.0
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
 * @since 1.0.0
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
 * @since 1.0.0
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
  readonly typed: <A, I>(schema: Schema.Schema<A, I, never>) => TypedCache<A>
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
 * @since 1.0.0
 * @category models
 */
export interface NamespacedCache extends CacheService {
  readonly name: string
  /** Invalidates every key of this namespace: at once in this process, within `versionTtl` in the others. */
  readonly clear: Effect.Effect<void, InvalidKey | MemcachedError>
}

interface Codec<A> {
  readonly encode: (key: string, value: A) => Effect.Effect<unknown, SerializationError>
  readonly decode: (key: string, value: unknown) => Effect.Effect<A, SerializationError>
}

const identity: Codec<unknown> = {
  encode: (_, value) => Effect.succeed(value),
  decode: (_, value) => Effect.succeed(value)
}

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
 * Builds the cache over a bytes-level store (a `MemcachedService`, or any object with the members `CacheStore` lists)
 * and a serializer. The layers in `Memcached` call this for you.
 *
 * @since 1.0.0
 * @category constructors
 */
export const make = (memcached: CacheStore, serializer: SerializerService): Effect.Effect<CacheService> =>
  Effect.sync(() => makeCache(memcached, serializer))

export type {
  /**
   * The part of `MemcachedService` that a cache needs.
   *
   * @since 1.0.0
   * @category models
   */
  CacheStore
}

interface Lease {
  readonly ttl: Duration.Duration
  readonly wait: number
  readonly poll: Duration.Duration
}

/** One of the lease's durations, or what is wrong with it. */
const leaseDuration = (
  key: string,
  name: "ttl" | "wait" | "poll",
  input: unknown,
  fallback: Duration.DurationInput,
  allowZero: boolean
): Either.Either<Duration.Duration, InvalidArgument> => {
  const invalid = (reason: string) => new InvalidArgument({ argument: `lease.${name}`, reason, key })
  if (input === undefined) return Either.right(Duration.decode(fallback))
  return Either.flatMap(Either.mapLeft(decodeWithUnits(input), invalid), (duration) => {
    const millis = Duration.toMillis(duration)
    return Number.isFinite(millis) && (allowZero || millis > 0)
      ? Either.right(duration)
      : Either.left(invalid(`must be a ${allowZero ? "" : "positive, "}finite duration`))
  })
}

const noLease = Either.right(undefined)

/** The lease of a `getOrSet` (`undefined`: none), or `InvalidArgument` for options it cannot use. */
const leaseOf = (key: string, lease: unknown): Either.Either<Lease | undefined, InvalidArgument> => {
  if (lease === undefined || lease === false) return noLease
  if (lease !== true && (typeof lease !== "object" || lease === null)) {
    return Either.left(new InvalidArgument({ argument: "lease", reason: "must be true, false or LeaseOptions", key }))
  }
  const options: LeaseOptions = lease === true ? {} : lease
  return Either.all({
    ttl: leaseDuration(key, "ttl", options.ttl, "5 seconds", false),
    wait: Either.map(leaseDuration(key, "wait", options.wait, "2 seconds", true), Duration.toMillis),
    poll: leaseDuration(key, "poll", options.poll, "50 millis", false)
  })
}

/** A `ttl` option that is not `null` or a duration with its unit, checked before anything runs. */
const badTtl = (key: string, ttl: unknown): InvalidArgument | undefined => {
  if (ttl === undefined || ttl === null) return undefined
  const decoded = decodeWithUnits(ttl)
  return Either.isLeft(decoded) ? new InvalidArgument({ argument: "ttl", reason: decoded.left, key }) : undefined
}

const LEASE_VALUE = new TextEncoder().encode("1")

const keyOf = <Args extends ReadonlyArray<unknown>>(key: CachedOptions<Args>["key"], args: Args): string =>
  typeof key === "function" ? key(...args) : argsKey(key, args)

/** The Effect itself when it is already a success (`Effect.succeed` gives an `Exit`): its value needs no fiber. */
const successOf = <A, E>(effect: Effect.Effect<A, E>): Exit.Success<A, E> | undefined =>
  Exit.isExit(effect) && Exit.isSuccess(effect) ? effect as unknown as Exit.Success<A, E> : undefined

/** `Effect.map`, applied at once to an Effect that is already a success. */
const mapNow = <A, B, E>(effect: Effect.Effect<A, E>, f: (a: A) => B): Effect.Effect<B, E> => {
  const success = successOf(effect)
  return success ? Effect.succeed(f(success.value)) : Effect.map(effect, f)
}

/** `Effect.flatMap`, applied at once to an Effect that is already a success. */
const flatMapNow = <A, B, E, E2, R>(
  effect: Effect.Effect<A, E>,
  f: (a: A) => Effect.Effect<B, E2, R>
): Effect.Effect<B, E | E2, R> => {
  const success = successOf(effect)
  return success ? f(success.value) : Effect.flatMap(effect, f)
}

const makeCache = (store: CacheStore, serializer: SerializerService): CacheService => {
  // A serializer of your own that throws instead of failing gives a `SerializationError` too, never a throw.
  const serialize = (key: string, value: unknown): Effect.Effect<Encoded, SerializationError> => {
    try {
      return serializer.encode(key, value)
    } catch (cause) {
      return Effect.fail(new SerializationError({ key, direction: "encode", cause }))
    }
  }
  const deserialize = (key: string, encoded: Encoded): Effect.Effect<unknown, SerializationError> => {
    try {
      return serializer.decode(key, encoded)
    } catch (cause) {
      return Effect.fail(new SerializationError({ key, direction: "decode", cause }))
    }
  }
  const flights = new Map<string, Deferred.Deferred<unknown, unknown>>()
  const namespaces = new Map<CacheStore, NamespacedCache>()

  const view = <A>(codec: Codec<A>): TypedCache<A> => {
    // The untyped view skips the identity codec, and a serializer that answers at once (its Effect is an `Exit`)
    // is used without a step of the fiber: one step fewer on every read and write.
    const decodeItem = (key: string, item: Item): Effect.Effect<A, SerializationError> => {
      const decoded = deserialize(key, new EncodedRecord(item.value, item.flags))
      return codec === identity
        ? decoded as Effect.Effect<A, SerializationError>
        : Effect.flatMap(decoded, (value) => codec.decode(key, value))
    }
    /**
     * Decodes items in order and fails as the first that does not decode. A value the serializer decoded at once (a
     * success `Exit`, as the built-in serializers give) costs no step of the fiber; any other Effect is run in turn.
     */
    const decodeAll = (items: ReadonlyMap<string, Item>): Effect.Effect<ReadonlyMap<string, A>, SerializationError> => {
      const decoded = new Map<string, A>()
      const pending = items.entries()
      const rest = (): Effect.Effect<ReadonlyMap<string, A>, SerializationError> => {
        for (let next = pending.next(); !next.done; next = pending.next()) {
          const [key, item] = next.value
          const result = decodeItem(key, item)
          const success = successOf(result)
          if (!success) {
            return Effect.flatMap(result, (value) => {
              decoded.set(key, value)
              return rest()
            })
          }
          decoded.set(key, success.value)
        }
        return Effect.succeed(decoded)
      }
      return rest()
    }
    const encode = (key: string, value: A): Effect.Effect<Encoded, SerializationError> =>
      codec === identity
        ? serialize(key, value)
        : Effect.flatMap(codec.encode(key, value), (encoded) => serialize(key, encoded))
    const toItem = ({ bytes, flags }: Encoded): Item => new ItemRecord(bytes, flags)
    const encodeItem = (key: string, value: A): Effect.Effect<Item, SerializationError> =>
      mapNow(encode(key, value), toItem)
    const decodeSome = (key: string, item: Item): Effect.Effect<Option.Option<A>, SerializationError> =>
      mapNow(decodeItem(key, item), Option.some)

    const get = (key: string) =>
      Effect.flatMap(
        store.get(key),
        (found) => Option.isNone(found) ? Effect.succeedNone : decodeSome(key, found.value)
      )

    /** The value at `key`, decoded, or `onMiss()` when there is none: one step, with no `Option` in between. */
    const getOr = <B, E>(key: string, onMiss: () => Effect.Effect<B, E>): Effect.Effect<A | B, E | CacheError> =>
      Effect.flatMap(
        store.get(key),
        (found): Effect.Effect<A | B, E | SerializationError> =>
          Option.isNone(found) ? onMiss() : decodeItem(key, found.value)
      )

    const getOrFail = (key: string): Effect.Effect<A, CacheNotFound | CacheError> =>
      getOr(key, () => Effect.fail(new CacheNotFound({ key })))

    /**
     * The key is checked before the value is encoded: a key that is not a string is `InvalidKey`, whatever the
     * value.
     */
    const set = (key: string, value: A, options?: SetOptions): Effect.Effect<void, CacheError> =>
      typeof key !== "string" ? Effect.fail(notAStringKey(key)) : flatMapNow(
        encode(key, value),
        (encoded) => store.set(key, encoded.bytes, new WriteRecord(encoded.flags, options?.ttl))
      )

    /** Its options are checked before the key is read, so a bad one fails on a hit too. */
    const getOrSet = <E, R>(
      key: string,
      compute: Effect.Effect<A, E, R>,
      options?: GetOrSetOptions
    ): Effect.Effect<A, E | CacheError, R> => {
      if (typeof key !== "string") return Effect.fail(notAStringKey(key))
      const lease = leaseOf(key, options?.lease)
      if (Either.isLeft(lease)) return Effect.fail(lease.left)
      const ttlError = badTtl(key, options?.ttl)
      if (ttlError) return Effect.fail(ttlError)
      return Effect.flatMap(
        get(key),
        Option.match({
          onSome: (value) => Effect.succeed(value),
          onNone: () => {
            const computeAndStore = Effect.tap(compute, (value) => set(key, value, options))
            return singleFlight(key, lease.right ? leased(key, computeAndStore, lease.right) : computeAndStore)
          }
        })
      )
    }

    /**
     * The cross-process lease: `add` decides who computes. The holder looks once more (a holder that just finished
     * may have released the lease between our miss and our `add`), computes, stores, and releases. The others poll
     * the value and the lease together; a lease gone without a value (its holder failed) is taken again, and after
     * `wait` they compute themselves. A lease key over the key limit means no lease.
     */
    const leased = <E, R>(key: string, computeAndStore: Effect.Effect<A, E | CacheError, R>, lease: Lease) => {
      const leaseKey = `${key}:lease`
      const acquire: Effect.Effect<boolean | "unleased", CacheError> = store.add(leaseKey, LEASE_VALUE, {
        ttl: lease.ttl
      }).pipe(Effect.catchTag("InvalidKey", () => Effect.succeed("unleased" as const)))
      const asHolder = Effect.flatMap(
        get(key),
        Option.match({
          onSome: (value) => Effect.succeed(value),
          onNone: () => computeAndStore
        })
      ).pipe(Effect.ensuring(Effect.ignore(store.delete(leaseKey))))
      const waitFor = (deadline: number): Effect.Effect<A, E | CacheError, R> =>
        Effect.flatMap(Effect.zipRight(Effect.sleep(lease.poll), store.getMany([key, leaseKey])), (found) => {
          const item = found.get(key)
          if (item) return decodeItem(key, item)
          const retry = Effect.flatMap(
            Effect.clockWith((clock) => Effect.succeed(clock.unsafeCurrentTimeMillis())),
            (now): Effect.Effect<A, E | CacheError, R> => now >= deadline ? computeAndStore : waitFor(deadline)
          )
          if (found.has(leaseKey)) return retry
          return Effect.flatMap(acquire, (won) => won === false ? retry : won === true ? asHolder : computeAndStore)
        })
      return Effect.flatMap(acquire, (won): Effect.Effect<A, E | CacheError, R> => {
        if (won === "unleased") return computeAndStore
        if (won) return asHolder
        return Effect.flatMap(
          Effect.clockWith((clock) => Effect.succeed(clock.unsafeCurrentTimeMillis())),
          (now) => waitFor(now + lease.wait)
        )
      })
    }

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
      remove: (...keys) => Effect.map(store.deleteMany(keys), (existed) => existed === new Set(keys).size),
      updateTimeout: (key, ttl) =>
        Effect.flatMap(
          store.getAndTouch(key, ttl),
          Option.match({
            onNone: (): Effect.Effect<A, CacheNotFound | SerializationError> => Effect.fail(new CacheNotFound({ key })),
            onSome: (item) => decodeItem(key, item)
          })
        ),
      getOrSet,
      cached,
      has: (key) => Effect.map(store.get(key), Option.isSome),
      getMany: (keys) => Effect.flatMap(store.getMany(keys), decodeAll),
      setMany: (entries, options) =>
        Effect.flatMap(
          Effect.forEach(entries, ([key, value]): Effect.Effect<readonly [string, Item], CacheError> =>
            typeof key !== "string"
              ? Effect.fail(notAStringKey(key))
              : Effect.map(encodeItem(key, value), (item) =>
                [key, item] as const)),
          (items) =>
            store.setMany(items, options)
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
      const inner = namespaceStore(store, name, options?.versionTtl)
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
  static readonly getOrSet = <A, E, R>(key: string, compute: Effect.Effect<A, E, R>, options?: GetOrSetOptions) =>
    Effect.flatMap(Cache, (cache) => cache.getOrSet(key, compute, options))
  /**
   * `cache.cached(fn, options)` as a function whose calls need `Cache`: memoizes an Effect-returning function through
   * whichever cache is provided.
   *
   * @since 1.0.0
   * @category accessors
   */
  static readonly cached = <Args extends ReadonlyArray<unknown>, A, E, R>(
    fn: (...args: Args) => Effect.Effect<A, E, R>,
    options: CachedOptions<Args>
  ) =>
  (...args: Args): Effect.Effect<A, E | CacheError, R | Cache> =>
    Effect.flatMap(Cache, (cache) => cache.cached(fn, options)(...args))
  /** @since 1.0.0 @category accessors */
  static readonly namespace = (name: string, options?: NamespaceOptions) =>
    Effect.map(Cache, (cache) => cache.namespace(name, options))
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
