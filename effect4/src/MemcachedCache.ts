/**
 * The Promise facade, for code that does not use Effect. Method names follow privex-helpers' `MemcachedCache`.
 *
 * @since 2.0.0
 */
import * as Cause from "effect/Cause"
import type * as Config from "effect/Config"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Result from "effect/Result"
import type {
  CachedFacadeOptionsOf,
  FacadeCache,
  FacadeFastPath,
  FacadeLine,
  LeaseFacadeOptionsOf,
  NamespaceFacadeOptionsOf,
  WithCache
} from "../../src/engine/facade.js"
import { CacheFacadeCore, definedOnly, secondsOf } from "../../src/engine/facade.js"
import { BadOption } from "../../src/engine/options.js"
import { directServices } from "../../src/internal/checkedService.js"
import { FastPaths } from "../../src/internal/facadeFastPath.js"
import type { PromiseRunner } from "../../src/internal/promiseRunner.js"
import { makePromiseRunner } from "../../src/internal/promiseRunner.js"
import type { CacheService, NamespaceOptions } from "./Cache.js"
import { Cache } from "./Cache.js"
import { checkConnectionOptions, checkServers } from "./internal/options.js"
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
 * @since 2.0.0
 * @category models
 */
export type SecondsOrDuration = number | DurationWithUnits

/**
 * Options of `new MemcachedCache(…)`: everything `Memcached.layer` takes — with every duration in seconds or with
 * its unit — plus the serializer, a client of your own or a whole layer. Without `servers`, `client` or `layer`, the
 * connection is configured from the same environment as `MemcachedLive` (`MEMCACHED_SERVERS`, …), and the options
 * given here override it. A bad option (or environment variable) throws a `TypeError` naming it.
 *
 * @since 2.0.0
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
   * `@effect/opentelemetry`'s `OtelTracer.layerGlobal` (over the global tracer provider) or `NodeSdk.layer(…)`.
   * Without one, the facade's operations run under Effect's built-in tracer, which records no spans. With one, each
   * operation's span has the OpenTelemetry span active where the method was called for its parent, so it joins the
   * caller's trace.
   *
   * @since 2.0.0
   */
  readonly telemetry?: Layer.Layer<never, unknown> | undefined
}

/** What a `ConfigError` from the environment says, with the variable's name. */
const configMessage = (error: Config.ConfigError): string =>
  error.cause instanceof ConfigProvider.SourceError ? error.cause.message : error.message

/** The options `MemcachedLive` reads from the environment; a bad variable is a `TypeError` naming it. */
const environmentOptions = (): MemcachedOptions => {
  const read = Effect.runSync(Effect.result(memcachedEnvConfig))
  if (Result.isFailure(read)) throw new TypeError(`MemcachedCache: ${configMessage(read.failure)}`)
  return read.success
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
 * @since 2.0.0
 * @category models
 */
export type CachedFacadeOptions<Args extends ReadonlyArray<unknown>> = CachedFacadeOptionsOf<Args, DurationWithUnits>

/**
 * `LeaseOptions` of the facade: each duration a number of seconds, or with its unit.
 *
 * @since 2.0.0
 * @category models
 */
export type LeaseFacadeOptions = LeaseFacadeOptionsOf<DurationWithUnits>

/**
 * `NamespaceOptions` of the facade: `versionTtl` in seconds, or with its unit.
 *
 * @since 2.0.0
 * @category models
 */
export type NamespaceFacadeOptions = NamespaceFacadeOptionsOf<DurationWithUnits>

/** What only this line makes for the facade's shared methods (`engine/facade.ts`). */
const facadeLine: FacadeLine = {
  seconds: Duration.seconds,
  durationProblem: (input) => {
    const decoded = decodeWithUnits(input)
    return Result.isFailure(decoded) ? decoded.failure : undefined
  },
  succeed: Effect.succeed,
  fromPromise: (f) => Effect.tryPromise({ try: f, catch: (error) => error })
}

/** A duration option of the facade: seconds, or with its unit. */
const seconds = (name: string, value: SecondsOrDuration | undefined) =>
  secondsOf(facadeLine, name, value) as DurationWithUnits | undefined

/**
 * The Promise methods that `MemcachedCache` and its namespaces share: `get`, `set`, `remove`, `updateTimeout`,
 * `getOrSet`, `has`, `getMany`, `setMany`, `cached` and `namespace` (see `engine/facade.ts` for each).
 *
 * @since 2.0.0
 * @category models
 */
export abstract class CacheFacade extends CacheFacadeCore<DurationWithUnits, MemcachedCacheNamespace> {
  /** @internal */
  protected readonly line = facadeLine

  /** @internal */
  protected makeNamespace(parent: WithCache, name: string, options: NamespaceOptions): MemcachedCacheNamespace {
    return new MemcachedCacheNamespace(parent, name, options)
  }
}

/**
 * A namespace of a `MemcachedCache` (`rc.namespace("users")`): the same Promise methods over keys stored as
 * `<name>:<version>:<key>`, and `clear()`.
 *
 * @since 2.0.0
 * @category models
 */
export class MemcachedCacheNamespace extends CacheFacade {
  /** @internal */
  readonly #parent: WithCache
  /** @internal */
  readonly #options: NamespaceOptions

  /** @internal */
  constructor(parent: WithCache, readonly name: string, options: NamespaceOptions) {
    super()
    this.#parent = parent
    this.#options = options
  }

  /**
   * Invalidates every key of this namespace, without `flush_all`: at once for this instance, within `versionTtl`
   * (1 s by default) for other processes.
   *
   * @since 2.0.0
   */
  clear(): Promise<void> {
    return this.#parent((cache) => cache.namespace(this.name, this.#options).clear) as Promise<void>
  }

  /** @internal */
  protected withCache(f: (cache: FacadeCache) => unknown): Promise<unknown> {
    return this.#parent((cache) => f(cache.namespace(this.name, this.#options)))
  }
}

/**
 * A memcached cache with Promise methods, running the `Cache` service on its own runtime. Errors reject as the same
 * tagged error classes (`err._tag === "CacheNotFound"`). The connection opens on first use (or `connect()`), and
 * `close()` — or `await using` — releases it; a closed instance opens again on its next call.
 *
 * @since 2.0.0
 * @category constructors
 */
export class MemcachedCache extends CacheFacade implements AsyncDisposable {
  /**
   * The serializer of instances created without one (privex `pickle_default`).
   *
   * @since 2.0.0
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
  /**
   * @internal How many fibers the runner keeps parked: none with a `telemetry` layer, so that each call forks its own
   * fiber in its caller's async context. An Effect 4 fiber resumes in the async context it parked in, so a parked
   * fiber would run every later call in the context of the call it first served: their spans would join that
   * caller's OpenTelemetry trace.
   */
  readonly #maxParked: number | undefined
  /** @internal */
  #starting = false
  /** @internal Whether `get`, `getMany` and `set` may skip the runtime: no `layer` or `telemetry` (see `facadeFastPath`). */
  readonly #direct: boolean
  /** @internal Their fast paths, once the runtime is built. */
  readonly #fastPaths = new FastPaths()
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
    this.#maxParked = telemetry ? 0 : undefined
    serializerOf(this.#serializer)
    this.#direct = !layer && !telemetry
    if (layer) {
      this.#layer = telemetry ? Layer.merge(layer, telemetry) : layer
      return
    }
    const given: MemcachedOptions = definedOnly({
      ...rest,
      timeout: seconds("timeout", timeout),
      defaultTtl: secondsOf(facadeLine, "defaultTtl", defaultTtl) as Ttl | undefined,
      ejectFor: seconds("ejectFor", ejectFor),
      password: typeof password === "string" ? Redacted.make(password) : password
    })
    const memcachedOptions = client || given.servers !== undefined ? given : { ...environmentOptions(), ...given }
    const servers = client ? undefined : checkServers(memcachedOptions.servers)
    const checked = servers instanceof BadOption ? servers : checkConnectionOptions(memcachedOptions)
    if (checked instanceof BadOption) throw new TypeError(`MemcachedCache: ${checked.message}`)
    const cache = (client
      ? Layer.provideMerge(Cache.layer, Memcached.layerClient(client, { ...memcachedOptions, closeOnRelease }))
      : Cache.layerMemcached(memcachedOptions)).pipe(Layer.provide(Serializer.structured))
    this.#layer = telemetry ? Layer.merge(cache, telemetry) : cache
  }

  /**
   * The serializer of this instance (privex `use_pickle`): a name or a `SerializerService`. With a `layer` option
   * that provides only `Cache` (not `Memcached`), the layer's own serializer is used instead.
   *
   * @since 2.0.0
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
   * @since 2.0.0
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
   * @since 2.0.0
   */
  async close(): Promise<void> {
    const runtime = this.#runtime
    this.#runtime = undefined
    this.#runner?.close()
    this.#runner = undefined
    this.#starting = false
    this.#fastPaths.clear()
    this.#caches.clear()
    if (runtime) await runtime.dispose()
  }

  /**
   * `await using cache = new MemcachedCache(…)` closes it on scope exit.
   *
   * @since 2.0.0
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  /** @internal */
  protected withCache(f: (cache: FacadeCache) => unknown): Promise<unknown> {
    return this.#with(f as unknown as (cache: CacheService) => Effect.Effect<unknown, unknown>)
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
          onNone: () => Effect.map(Cache, (cache) => this.#remember(serializer, cache)),
          onSome: (memcached) => {
            const cached = this.#caches.get(serializer)
            if (cached) return Effect.succeed(cached)
            return Effect.map(Cache.make(memcached, serializer), (cache) => this.#remember(serializer, cache))
          }
        })
      )
    })
  }

  /** @internal The fast path with the current serializer, once the runtime is built, when there is one. */
  protected override fastPath(): FacadeFastPath | undefined {
    return this.#fastPaths.of(serializerOf(this.#serializer))
  }

  /** @internal */
  #remember(serializer: SerializerService, cache: CacheService): CacheService {
    this.#caches.set(serializer, cache)
    return cache
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
      runtime.context().then((built) => {
        if (this.#runtime !== runtime) return
        this.#runner = makePromiseRunner(Effect.runForkWith(built), this.#maxParked)
        const memcached = Context.getOption(built, Memcached)
        if (this.#direct && Option.isSome(memcached)) this.#fastPaths.use(directServices.get(memcached.value))
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
