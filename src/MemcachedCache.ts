/**
 * The Promise facade, for code that does not use Effect. Method names follow privex-helpers' `MemcachedCache`.
 *
 * @since 1.0.0
 */
import * as Cause from "effect/Cause"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type { CacheService, LeaseOptions, NamespaceOptions } from "./Cache.js"
import { Cache } from "./Cache.js"
import { checkConnectionOptions, checkServers } from "./internal/options.js"
import type { PromiseRunner } from "./internal/promiseRunner.js"
import { makePromiseRunner } from "./internal/promiseRunner.js"
import { decodeWithUnits } from "./internal/ttl.js"
import type { DurationWithUnits, MemcachedOptions, MemjsClientLike, Ttl } from "./Memcached.js"
import { Memcached } from "./Memcached.js"
import { memcachedEnvConfig } from "./MemcachedLive.js"
import type { SerializerName, SerializerService } from "./Serializer.js"
import { Serializer } from "./Serializer.js"

/**
 * A duration in the facade: a number of **seconds** (as in privex and memcached), or a duration with its unit
 * (`"500 millis"`, `Duration.millis(500)`).
 *
 * @since 1.0.0
 * @category models
 */
export type SecondsOrDuration = number | DurationWithUnits

/**
 * Options of `new MemcachedCache(…)`: everything `Memcached.layer` takes — with every duration in seconds or with
 * its unit — plus the serializer, a client of your own or a whole layer. Without `servers`, `client` or `layer`, the
 * connection is configured from the same environment as `MemcachedLive` (`MEMCACHED_SERVERS`, …), and the options
 * given here override it. A bad option (or environment variable) throws a `TypeError` naming it.
 *
 * @since 1.0.0
 * @category models
 */
export interface MemcachedCacheOptions
  extends Omit<MemcachedOptions, "password" | "timeout" | "defaultTtl" | "ejectFor">
{
  /** SASL password, plain or `Redacted`. */
  readonly password?: string | Redacted.Redacted | undefined
  /** Deadline of each operation, in seconds or with a unit. @default 1 */
  readonly timeout?: SecondsOrDuration | undefined
  /** TTL of writes that give none, in seconds or with a unit; `null`: never expires. @default 300 */
  readonly defaultTtl?: SecondsOrDuration | null | undefined
  /** How long an ejected server is skipped, in seconds or with a unit. @default 1 */
  readonly ejectFor?: SecondsOrDuration | undefined
  /** @default MemcachedCache.defaultSerializer ("structured") */
  readonly serializer?: SerializerName | SerializerService | undefined
  /** A `memjs.Client` of your own (privex `mcache_instance`); its servers and credentials are used. */
  readonly client?: MemjsClientLike | undefined
  /** With `client`: close its sockets on `close()`. @default false */
  readonly closeOnRelease?: boolean | undefined
  /** Run over any layer that provides `Cache` (e.g. `MemcachedTest`); the connection options are then unused. */
  readonly layer?: Layer.Layer<Cache, unknown> | undefined
  /**
   * A layer built into the facade's runtime for its spans, metrics or logs: a tracer layer such as
   * `@effect/opentelemetry`'s `Tracer.layerGlobal` (over the global tracer provider) or `NodeSdk.layer(…)`. Without
   * one, the facade's operations run under Effect's built-in tracer, which records no spans. With one, each
   * operation's span has the OpenTelemetry span active where the method was called for its parent, so it joins the
   * caller's trace.
   *
   * @since 1.1.0
   */
  readonly telemetry?: Layer.Layer<never, unknown> | undefined
}

/**
 * The facade's units rule: a bare number is seconds, anything else goes to the Effect API as it is (which checks it).
 * `NaN` has no meaning in any unit: a `TypeError` naming `name`.
 */
function seconds(name: string, value: SecondsOrDuration): DurationWithUnits
function seconds(name: string, value: SecondsOrDuration | undefined): DurationWithUnits | undefined
function seconds(name: string, value: SecondsOrDuration | null | undefined): Ttl | undefined
function seconds(name: string, value: SecondsOrDuration | null | undefined): Ttl | undefined {
  if (typeof value !== "number") return value
  if (Number.isNaN(value)) throw new TypeError(`${name} is NaN: give a number of seconds, or a duration with its unit`)
  return Duration.seconds(value)
}

/** A privex-style timeout: seconds (or a duration with its unit), `null` for never, left out for the default TTL. */
const ttlOf = (timeout: SecondsOrDuration | null | undefined): Ttl | undefined => seconds("timeout", timeout)

const leaseOf = (lease: boolean | LeaseFacadeOptions | undefined): boolean | LeaseOptions | undefined =>
  typeof lease === "object" && lease !== null
    ? definedOnly({
      ttl: seconds("lease.ttl", lease.ttl),
      wait: seconds("lease.wait", lease.wait),
      poll: seconds("lease.poll", lease.poll)
    })
    : lease

/** `options` without the fields set to `undefined`, so they do not hide what the environment says. */
const definedOnly = <A extends object>(options: A): A =>
  Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as A

/** What a `ConfigError` from the environment says, with the variable's name. */
const configMessage = (error: ConfigError.ConfigError): string => {
  const name = error._op === "InvalidData" ? error.path.join(".") : ""
  return error.message.startsWith(name) ? error.message : `${name}: ${error.message}`
}

/** The options `MemcachedLive` reads from the environment; a bad variable is a `TypeError` naming it. */
const environmentOptions = (): MemcachedOptions => {
  const read = Effect.runSync(Effect.either(memcachedEnvConfig))
  if (Either.isLeft(read)) throw new TypeError(`MemcachedCache: ${configMessage(read.left)}`)
  return read.right
}

const serializerOf = (serializer: SerializerName | SerializerService): SerializerService => {
  if (typeof serializer !== "string") return serializer
  const found = Serializer.formats[serializer]
  if (!found) throw new TypeError(`unknown serializer ${JSON.stringify(serializer)}`)
  return found
}

/**
 * Options of `MemcachedCache.cached`.
 *
 * @since 1.0.0
 * @category models
 */
export interface CachedFacadeOptions<Args extends ReadonlyArray<unknown>> {
  /** A function of the arguments, or a prefix: `<prefix>` without arguments, `<prefix>:<arguments as JSON>` with. */
  readonly key: string | ((...args: Args) => string)
  /** Seconds (or a duration with its unit); left out: the default TTL; `null`: never expires. */
  readonly ttl?: SecondsOrDuration | null | undefined
  /** Cross-process stampede protection (see `LeaseOptions`), its durations in seconds or with a unit. @default false */
  readonly lease?: boolean | LeaseFacadeOptions | undefined
}

/**
 * `LeaseOptions` of the facade: each duration a number of seconds, or with its unit.
 *
 * @since 1.0.0
 * @category models
 */
export interface LeaseFacadeOptions {
  /** How long a lease lives if its holder never releases it. @default 5 */
  readonly ttl?: SecondsOrDuration | undefined
  /** How long a caller that did not get the lease waits for the holder's value. @default 2 */
  readonly wait?: SecondsOrDuration | undefined
  /** How often a waiting caller looks for the value. @default 0.05 */
  readonly poll?: SecondsOrDuration | undefined
}

/**
 * `NamespaceOptions` of the facade: `versionTtl` in seconds, or with its unit.
 *
 * @since 1.0.0
 * @category models
 */
export interface NamespaceFacadeOptions {
  /** How long this process trusts its copy of the namespace's version (see `Cache.namespace`). @default 1 */
  readonly versionTtl?: SecondsOrDuration | undefined
}

/**
 * The Promise methods that `MemcachedCache` and its namespaces share.
 *
 * @since 1.0.0
 * @category models
 */
export abstract class CacheFacade {
  /** @internal */
  protected abstract withCache<A, E>(f: (cache: CacheService) => Effect.Effect<A, E>): Promise<A>

  /**
   * Reads a key: the value, or `fallback` on a miss; with `fail`, a miss rejects with `CacheNotFound`.
   *
   * @since 1.0.0
   */
  get<T = unknown, D = undefined>(key: string, fallback?: D, fail = false): Promise<T | D> {
    return this.withCache((cache) => fail ? cache.getOrFail(key) : cache.getOrElse(key, () => fallback)) as Promise<
      T | D
    >
  }

  /**
   * Stores a value for `timeout` seconds, or a duration with its unit such as `"500 millis"` (left out: the default
   * TTL, 300 s unless configured; `null`: never expires; zero or negative: expires at once).
   *
   * @since 1.0.0
   */
  set(key: string, value: unknown, timeout?: SecondsOrDuration | null): Promise<void> {
    return this.withCache((cache) => cache.set(key, value, { ttl: ttlOf(timeout) }))
  }

  /**
   * Removes keys; `true` only if every one existed.
   *
   * @since 1.0.0
   */
  remove(...keys: ReadonlyArray<string>): Promise<boolean> {
    return this.withCache((cache) => cache.remove(...keys))
  }

  /**
   * Gives a key a new timeout from now (seconds, or a duration with its unit) and returns its value; rejects with
   * `CacheNotFound` on a miss.
   *
   * @since 1.0.0
   */
  updateTimeout<T = unknown>(key: string, timeout?: SecondsOrDuration | null): Promise<T> {
    return this.withCache((cache) => cache.updateTimeout(key, ttlOf(timeout))) as Promise<T>
  }

  /**
   * Reads a key; on a miss stores `value` — or the result of `value(key)`, awaited — and returns it. Concurrent calls
   * for one key on this instance share one call of `value`.
   *
   * @since 1.0.0
   */
  getOrSet<T>(
    key: string,
    value: T | ((key: string) => T | PromiseLike<T>),
    timeout?: SecondsOrDuration | null
  ): Promise<T> {
    const compute = typeof value === "function"
      ? Effect.tryPromise({
        try: async () => (value as (key: string) => T | PromiseLike<T>)(key),
        catch: (error) => error
      })
      : Effect.succeed(value)
    return this.withCache((cache) => cache.getOrSet(key, compute, { ttl: ttlOf(timeout) }))
  }

  /**
   * Whether a key holds a value.
   *
   * @since 1.0.0
   */
  has(key: string): Promise<boolean> {
    return this.withCache((cache) => cache.has(key))
  }

  /**
   * Reads many keys in one batch per server; the map holds hits only.
   *
   * @since 1.0.0
   */
  getMany<T = unknown>(keys: Iterable<string>): Promise<Map<string, T>> {
    return this.withCache((cache) => cache.getMany(keys)) as Promise<Map<string, T>>
  }

  /**
   * Stores many values in one batch per server.
   *
   * @since 1.0.0
   */
  setMany(
    entries: Iterable<readonly [string, unknown]> | Readonly<Record<string, unknown>>,
    timeout?: SecondsOrDuration | null
  ): Promise<void> {
    const pairs = Symbol.iterator in entries
      ? entries as Iterable<readonly [string, unknown]>
      : Object.entries(entries)
    return this.withCache((cache) => cache.setMany(pairs, { ttl: ttlOf(timeout) }))
  }

  /**
   * Memoizes an async (or plain) function through the cache (privex `r_cache`): each call reads its key and, on a
   * miss, calls `fn`, stores its result — whatever it is: `0`, `""`, `false` and `null` are cached too — and returns
   * it. Concurrent calls with one key on this instance share one call of `fn`. `key` is a function of the arguments,
   * or a prefix (see `Cache.cached`); `ttl` is in seconds (left out: the default TTL; `null`: never expires).
   *
   * @since 1.0.0
   */
  cached<Args extends ReadonlyArray<unknown>, T>(
    fn: (...args: Args) => T | PromiseLike<T>,
    options: CachedFacadeOptions<Args>
  ): (...args: Args) => Promise<T> {
    const cachedOptions = { key: options.key, ttl: seconds("ttl", options.ttl), lease: leaseOf(options.lease) }
    const compute = (...args: Args) =>
      Effect.tryPromise({
        try: async () => fn(...args),
        catch: (error) => error
      })
    return (...args) => this.withCache((cache) => cache.cached(compute, cachedOptions)(...args))
  }

  /**
   * A view of the keys under `<name>:<version>:` with the same Promise methods, and `clear()`, which invalidates only
   * that namespace (see `Cache.namespace`).
   *
   * @since 1.0.0
   */
  namespace(name: string, options?: NamespaceFacadeOptions): MemcachedCacheNamespace {
    const versionTtl = seconds("versionTtl", options?.versionTtl)
    if (versionTtl !== undefined) {
      const checked = decodeWithUnits(versionTtl)
      if (Either.isLeft(checked)) throw new TypeError(`versionTtl ${checked.left}`)
    }
    return new MemcachedCacheNamespace((f) => this.withCache(f), name, versionTtl === undefined ? {} : { versionTtl })
  }
}

/**
 * A namespace of a `MemcachedCache` (`rc.namespace("users")`): the same Promise methods over keys stored as
 * `<name>:<version>:<key>`, and `clear()`.
 *
 * @since 1.0.0
 * @category models
 */
export class MemcachedCacheNamespace extends CacheFacade {
  /** @internal */
  readonly #parent: <A, E>(f: (cache: CacheService) => Effect.Effect<A, E>) => Promise<A>
  /** @internal */
  readonly #options: NamespaceOptions | undefined

  /** @internal */
  constructor(
    parent: <A, E>(f: (cache: CacheService) => Effect.Effect<A, E>) => Promise<A>,
    readonly name: string,
    options?: NamespaceOptions
  ) {
    super()
    this.#parent = parent
    this.#options = options
  }

  /**
   * Invalidates every key of this namespace, without `flush_all`: at once for this instance, within `versionTtl`
   * (1 s by default) for other processes.
   *
   * @since 1.0.0
   */
  clear(): Promise<void> {
    return this.#parent((cache) => cache.namespace(this.name, this.#options).clear)
  }

  /** @internal */
  protected withCache<A, E>(f: (cache: CacheService) => Effect.Effect<A, E>): Promise<A> {
    return this.#parent((cache) => f(cache.namespace(this.name, this.#options)))
  }
}

/**
 * A memcached cache with Promise methods, running the `Cache` service on its own runtime. Errors reject as the same
 * tagged error classes (`err._tag === "CacheNotFound"`). The connection opens on first use (or `connect()`), and
 * `close()` — or `await using` — releases it; a closed instance opens again on its next call.
 *
 * @since 1.0.0
 * @category constructors
 */
export class MemcachedCache extends CacheFacade implements AsyncDisposable {
  /**
   * The serializer of instances created without one (privex `pickle_default`).
   *
   * @since 1.0.0
   */
  static defaultSerializer: SerializerName | SerializerService = "structured"

  /** @internal */
  readonly #layer: Layer.Layer<Cache | Memcached, unknown> | Layer.Layer<Cache, unknown>
  /** @internal */
  #serializer: SerializerName | SerializerService
  /** @internal */
  #runtime: ManagedRuntime.ManagedRuntime<Cache, unknown> | undefined
  /** @internal Runs calls on parked fibers once the runtime is built (see `promiseRunner`). */
  #runner: PromiseRunner<Cache> | undefined
  /** @internal */
  #starting = false
  /** @internal */
  readonly #caches = new Map<SerializerService, CacheService>()

  /**
   * Checks every option now: a bad one throws a `TypeError` naming it. Without `servers`, `client` or `layer`, the
   * connection options come from the environment, as for `MemcachedLive`, and those given here override them.
   */
  constructor(options: MemcachedCacheOptions = {}) {
    super()
    const { client, closeOnRelease, defaultTtl, ejectFor, layer, password, serializer, telemetry, timeout, ...rest } =
      options
    this.#serializer = serializer ?? MemcachedCache.defaultSerializer
    serializerOf(this.#serializer)
    if (layer) {
      this.#layer = telemetry ? Layer.merge(layer, telemetry) : layer
      return
    }
    const given: MemcachedOptions = definedOnly({
      ...rest,
      timeout: seconds("timeout", timeout),
      defaultTtl: seconds("defaultTtl", defaultTtl),
      ejectFor: seconds("ejectFor", ejectFor),
      password: typeof password === "string" ? Redacted.make(password) : password
    })
    const memcachedOptions = client || given.servers !== undefined ? given : { ...environmentOptions(), ...given }
    const checked = client
      ? checkConnectionOptions(memcachedOptions)
      : Either.flatMap(checkServers(memcachedOptions.servers), () => checkConnectionOptions(memcachedOptions))
    if (Either.isLeft(checked)) throw new TypeError(`MemcachedCache: ${checked.left.message}`)
    const cache = (client
      ? Layer.provideMerge(Cache.layer, Memcached.layerClient(client, { ...memcachedOptions, closeOnRelease }))
      : Cache.layerMemcached(memcachedOptions)).pipe(Layer.provide(Serializer.structured))
    this.#layer = telemetry ? Layer.merge(cache, telemetry) : cache
  }

  /**
   * The serializer of this instance (privex `use_pickle`): a name or a `SerializerService`. With a `layer` option
   * that provides only `Cache` (not `Memcached`), the layer's own serializer is used instead.
   *
   * @since 1.0.0
   */
  get serializer(): SerializerName | SerializerService {
    return this.#serializer
  }
  set serializer(serializer: SerializerName | SerializerService) {
    serializerOf(serializer)
    this.#serializer = serializer
  }

  /**
   * Opens the connection now rather than on first use (privex `connect`): asks every server for its version, and
   * rejects with `MemcachedError` if one does not answer.
   *
   * @since 1.0.0
   */
  async connect(): Promise<void> {
    await this.#run(Effect.flatMap(
      Effect.serviceOption(Memcached),
      Option.match({
        onNone: () => Effect.void,
        onSome: (memcached) => Effect.asVoid(memcached.version)
      })
    ))
  }

  /**
   * Releases the connection; in-flight calls get a short grace period (privex `close`).
   *
   * @since 1.0.0
   */
  async close(): Promise<void> {
    const runtime = this.#runtime
    this.#runtime = undefined
    this.#runner?.close()
    this.#runner = undefined
    this.#starting = false
    this.#caches.clear()
    if (runtime) await runtime.dispose()
  }

  /**
   * `await using cache = new MemcachedCache(…)` closes it on scope exit.
   *
   * @since 1.0.0
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  /** @internal */
  protected withCache<A, E>(f: (cache: CacheService) => Effect.Effect<A, E>): Promise<A> {
    return this.#with(f)
  }

  /** @internal */
  #with<A, E>(f: (cache: CacheService) => Effect.Effect<A, E>): Promise<A> {
    // Once this runtime has resolved the cache for the current serializer, calls skip the lookup.
    const resolved = this.#runtime === undefined ? undefined : this.#caches.get(serializerOf(this.#serializer))
    if (!resolved) return this.#run(Effect.flatMap(this.#cache(), f))
    let effect: Effect.Effect<A, E>
    try {
      effect = f(resolved)
    } catch (error) {
      return Promise.reject(error) // a bad argument (a NaN timeout): rejects, as a defect of the Effect would
    }
    return this.#run(effect)
  }

  /** @internal The cache for this instance's serializer: built over the layer's `Memcached`, or the layer's own `Cache`. */
  #cache(): Effect.Effect<CacheService, never, Cache> {
    return Effect.suspend(() => {
      const serializer = serializerOf(this.#serializer)
      return Effect.flatMap(
        Effect.serviceOption(Memcached),
        Option.match({
          onNone: () => Effect.tap(Cache, (cache) => this.#caches.set(serializer, cache)),
          onSome: (memcached) => {
            const cached = this.#caches.get(serializer)
            if (cached) return Effect.succeed(cached)
            return Effect.tap(Cache.make(memcached, serializer), (cache) => this.#caches.set(serializer, cache))
          }
        })
      )
    })
  }

  /** @internal */
  #run<A, E>(effect: Effect.Effect<A, E, Cache>): Promise<A> {
    let runtime: ManagedRuntime.ManagedRuntime<Cache, unknown>
    try {
      runtime = this.#runtime ??= ManagedRuntime.make(this.#layer as Layer.Layer<Cache, unknown>)
    } catch (error) {
      return Promise.reject(error)
    }
    if (this.#runner) return this.#runner.run(effect)
    // Until the runtime is built, each call forks its own fiber (which waits for the build); then a runner takes over.
    if (!this.#starting) {
      this.#starting = true
      runtime.runtime().then((built) => {
        if (this.#runtime === runtime) this.#runner = makePromiseRunner(built)
      }, () => this.#starting = false)
    }
    return new Promise<A>((resolve, reject) => {
      runtime.runFork(effect).addObserver((exit) => {
        if (Exit.isSuccess(exit)) resolve(exit.value)
        else reject(Cause.squash(exit.cause))
      })
    })
  }
}
