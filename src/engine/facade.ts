/**
 * The Promise methods of the `MemcachedCache` facade and its namespaces, shared by both Effect lines. A line's facade
 * extends `CacheFacadeCore` with its duration type `D`, its namespace class `N`, what only it can make (`FacadeLine`:
 * its `Duration`, its Effects from a value or a promise) and `withCache`, which runs an operation of its `Cache` on
 * its runtime. Here the cache's Effects are opaque values, handed from the cache back to `withCache`.
 *
 * @internal
 */

/** @internal A duration in the facade: a number of seconds, or `D`, a duration with its unit. */
export type SecondsOr<D> = number | D

/** @internal `LeaseOptions` of the facade: each duration a number of seconds, or with its unit. */
export interface LeaseFacadeOptionsOf<D> {
  /** How long a lease lives if its holder never releases it. @default 5 */
  readonly ttl?: SecondsOr<D> | undefined
  /** How long a caller that did not get the lease waits for the holder's value. @default 2 */
  readonly wait?: SecondsOr<D> | undefined
  /** How often a waiting caller looks for the value. @default 0.05 */
  readonly poll?: SecondsOr<D> | undefined
  /** Over meta, return a value marked stale by `invalidate` at once while one caller refreshes it. @default false */
  readonly staleWhileRevalidate?: boolean | undefined
}

/** @internal Options of `MemcachedCache.cached`. */
export interface CachedFacadeOptionsOf<Args extends ReadonlyArray<unknown>, D> {
  /** A function of the arguments, or a prefix: `<prefix>` without arguments, `<prefix>:<arguments as JSON>` with. */
  readonly key: string | ((...args: Args) => string)
  /** Seconds (or a duration with its unit); left out: the default TTL; `null`: never expires. */
  readonly ttl?: SecondsOr<D> | null | undefined
  /** Cross-process stampede protection (see `LeaseOptions`), its durations in seconds or with a unit. @default false */
  readonly lease?: boolean | LeaseFacadeOptionsOf<D> | undefined
}

/** @internal `NamespaceOptions` of the facade: `versionTtl` in seconds, or with its unit. */
export interface NamespaceFacadeOptionsOf<D> {
  /** How long this process trusts its copy of the namespace's version (see `Cache.namespace`). @default 1 */
  readonly versionTtl?: SecondsOr<D> | undefined
}

/** @internal A line's `CacheService` as the facade calls it; every Effect it returns is opaque here. */
export interface FacadeCache {
  getOrFail(key: string): unknown
  getOrElse(key: string, orElse: () => unknown): unknown
  set(key: string, value: unknown, options: { readonly ttl: unknown }): unknown
  remove(...keys: ReadonlyArray<string>): unknown
  invalidate(key: string): unknown
  updateTimeout(key: string, ttl: unknown): unknown
  getOrSet(key: string, compute: unknown, options: { readonly ttl: unknown }): unknown
  has(key: string): unknown
  getMany(keys: Iterable<string>): unknown
  setMany(entries: Iterable<readonly [string, unknown]>, options: { readonly ttl: unknown }): unknown
  cached(fn: (...args: Array<unknown>) => unknown, options: object): (...args: Array<unknown>) => unknown
  namespace(name: string, options?: object): FacadeCache & { readonly clear: unknown }
}

/** @internal What only an Effect line can make for the facade. */
export interface FacadeLine {
  /** `seconds` seconds as the line's `Duration`. */
  readonly seconds: (seconds: number) => unknown
  /** What is wrong with a duration given with its unit (a phrase to follow its name), or `undefined`. */
  readonly durationProblem: (input: unknown) => string | undefined
  /** An Effect that succeeds with `value`. */
  readonly succeed: (value: unknown) => unknown
  /** An Effect that awaits `f()`, failing with whatever it throws or rejects with. */
  readonly fromPromise: (f: () => Promise<unknown>) => unknown
}

/** @internal Runs an operation of the cache, as the facade that owns it does. */
export type WithCache = (f: (cache: FacadeCache) => unknown) => Promise<unknown>

/**
 * @internal `get`, `getMany` and `set` of a facade run without the Effect runtime (see `internal/facadeFastPath.ts`),
 * with `ttl` already in the line's terms (`secondsOf`).
 */
export interface FacadeFastPath {
  readonly get: (key: string, fallback: unknown, fail: boolean) => Promise<unknown>
  readonly set: (key: string, value: unknown, ttl: unknown) => Promise<void>
  readonly getMany: (keys: Iterable<string>) => Promise<Map<string, unknown>>
}

/**
 * @internal The facade's units rule: a bare number is seconds, anything else goes to the Effect API as it is (which
 * checks it). `NaN` has no meaning in any unit: a `TypeError` naming `name`.
 */
export const secondsOf = (line: FacadeLine, name: string, value: unknown): unknown => {
  if (typeof value !== "number") return value
  if (Number.isNaN(value)) throw new TypeError(`${name} is NaN: give a number of seconds, or a duration with its unit`)
  return line.seconds(value)
}

/** @internal `options` without the fields set to `undefined`, so they do not hide what the environment says. */
export const definedOnly = <A extends object>(options: A): A =>
  Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as A

const leaseOf = (line: FacadeLine, lease: unknown): unknown =>
  typeof lease === "object" && lease !== null
    ? definedOnly({
      ttl: secondsOf(line, "lease.ttl", (lease as LeaseFacadeOptionsOf<unknown>).ttl),
      wait: secondsOf(line, "lease.wait", (lease as LeaseFacadeOptionsOf<unknown>).wait),
      poll: secondsOf(line, "lease.poll", (lease as LeaseFacadeOptionsOf<unknown>).poll),
      staleWhileRevalidate: (lease as LeaseFacadeOptionsOf<unknown>).staleWhileRevalidate
    })
    : lease

/** @internal The Promise methods of a facade over a cache whose durations are `D` and whose namespaces are `N`. */
export abstract class CacheFacadeCore<D, N> {
  /** @internal What only the line can make. */
  protected abstract readonly line: FacadeLine
  /** @internal Runs `f` over the cache; a throw in `f` rejects. */
  protected abstract withCache(f: (cache: FacadeCache) => unknown): Promise<unknown>
  /** @internal The line's namespace facade over `parent`. */
  protected abstract makeNamespace(parent: WithCache, name: string, options: object): N

  /** @internal The fast path `get`, `getMany` and `set` take when there is one; none by default. */
  protected fastPath(): FacadeFastPath | undefined {
    return undefined
  }

  /** A privex-style timeout: seconds (or a duration with its unit), `null` for never, left out for the default TTL. */
  #ttl(timeout: SecondsOr<D> | null | undefined): unknown {
    return secondsOf(this.line, "timeout", timeout)
  }

  /** Reads a key: the value, or `fallback` on a miss; with `fail`, a miss rejects with `CacheNotFound`. */
  get<T = unknown, F = undefined>(key: string, fallback?: F, fail = false): Promise<T | F> {
    const fast = this.fastPath()
    if (fast) return fast.get(key, fallback, fail) as Promise<T | F>
    return this.withCache((cache) => fail ? cache.getOrFail(key) : cache.getOrElse(key, () => fallback)) as Promise<
      T | F
    >
  }

  /**
   * Stores a value for `timeout` seconds, or a duration with its unit such as `"500 millis"` (left out: the default
   * TTL, 300 s unless configured; `null`: never expires; zero or negative: expires at once).
   */
  set(key: string, value: unknown, timeout?: SecondsOr<D> | null): Promise<void> {
    const fast = this.fastPath()
    if (!fast) return this.withCache((cache) => cache.set(key, value, { ttl: this.#ttl(timeout) })) as Promise<void>
    let ttl: unknown
    try {
      ttl = this.#ttl(timeout)
    } catch (error) {
      return Promise.reject(error) // a NaN timeout, as the Effect path rejects it
    }
    return fast.set(key, value, ttl)
  }

  /** Removes keys; `true` only if every one existed. */
  remove(...keys: ReadonlyArray<string>): Promise<boolean> {
    return this.withCache((cache) => cache.remove(...keys)) as Promise<boolean>
  }

  /**
   * Marks a key stale instead of deleting it (over meta; elsewhere it deletes): see `Cache.invalidate`. `true` if it
   * existed.
   */
  invalidate(key: string): Promise<boolean> {
    return this.withCache((cache) => cache.invalidate(key)) as Promise<boolean>
  }

  /**
   * Gives a key a new timeout from now (seconds, or a duration with its unit) and returns its value; rejects with
   * `CacheNotFound` on a miss.
   */
  updateTimeout<T = unknown>(key: string, timeout?: SecondsOr<D> | null): Promise<T> {
    return this.withCache((cache) => cache.updateTimeout(key, this.#ttl(timeout))) as Promise<T>
  }

  /**
   * Reads a key; on a miss stores `value` — or the result of `value(key)`, awaited — and returns it. Concurrent calls
   * for one key on this instance share one call of `value`.
   */
  getOrSet<T>(
    key: string,
    value: T | ((key: string) => T | PromiseLike<T>),
    timeout?: SecondsOr<D> | null
  ): Promise<T> {
    const compute = typeof value === "function"
      ? this.line.fromPromise(async () => (value as (key: string) => T | PromiseLike<T>)(key))
      : this.line.succeed(value)
    return this.withCache((cache) => cache.getOrSet(key, compute, { ttl: this.#ttl(timeout) })) as Promise<T>
  }

  /** Whether a key holds a value. */
  has(key: string): Promise<boolean> {
    return this.withCache((cache) => cache.has(key)) as Promise<boolean>
  }

  /** Reads many keys in one batch per server; the map holds hits only. */
  getMany<T = unknown>(keys: Iterable<string>): Promise<Map<string, T>> {
    const fast = this.fastPath()
    if (fast) return fast.getMany(keys) as Promise<Map<string, T>>
    return this.withCache((cache) => cache.getMany(keys)) as Promise<Map<string, T>>
  }

  /** Stores many values in one batch per server. */
  setMany(
    entries: Iterable<readonly [string, unknown]> | Readonly<Record<string, unknown>>,
    timeout?: SecondsOr<D> | null
  ): Promise<void> {
    const pairs = Symbol.iterator in entries
      ? entries as Iterable<readonly [string, unknown]>
      : Object.entries(entries)
    return this.withCache((cache) => cache.setMany(pairs, { ttl: this.#ttl(timeout) })) as Promise<void>
  }

  /**
   * Memoizes an async (or plain) function through the cache (privex `r_cache`): each call reads its key and, on a
   * miss, calls `fn`, stores its result — whatever it is: `0`, `""`, `false` and `null` are cached too — and returns
   * it. Concurrent calls with one key on this instance share one call of `fn`. `key` is a function of the arguments,
   * or a prefix (see `Cache.cached`); `ttl` is in seconds (left out: the default TTL; `null`: never expires).
   */
  cached<Args extends ReadonlyArray<unknown>, T>(
    fn: (...args: Args) => T | PromiseLike<T>,
    options: CachedFacadeOptionsOf<Args, D>
  ): (...args: Args) => Promise<T> {
    const cachedOptions = {
      key: options.key,
      ttl: secondsOf(this.line, "ttl", options.ttl),
      lease: leaseOf(this.line, options.lease)
    }
    const compute = (...args: Array<unknown>) => this.line.fromPromise(async () => fn(...args as unknown as Args))
    return (...args) =>
      this.withCache((cache) => cache.cached(compute, cachedOptions)(...args as unknown as Array<unknown>)) as Promise<
        T
      >
  }

  /**
   * A view of the keys under `<name>:<version>:` with the same Promise methods, and `clear()`, which invalidates only
   * that namespace (see `Cache.namespace`).
   */
  namespace(name: string, options?: NamespaceFacadeOptionsOf<D>): N {
    const versionTtl = secondsOf(this.line, "versionTtl", options?.versionTtl)
    if (versionTtl !== undefined) {
      const problem = this.line.durationProblem(versionTtl)
      if (problem !== undefined) throw new TypeError(`versionTtl ${problem}`)
    }
    return this.makeNamespace((f) => this.withCache(f), name, versionTtl === undefined ? {} : { versionTtl })
  }
}
