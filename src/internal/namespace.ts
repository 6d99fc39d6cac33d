/**
 * Namespaces over a store: every key of namespace `name` lives under `<name>:<version>:`, and `clear` moves the
 * namespace to a new version with one atomic increment of `<name>:_version`, so the old keys are never read again
 * (memcached evicts them as they age) and nothing else is touched. No `flush_all`.
 *
 * The version is read with `increment(versionKey, 0, { initial })`, which creates a missing version key and reads an
 * existing one in one atomic round trip. A process trusts its copy for `versionTtl` (1 s by default), so a `clear`
 * in another process is seen within that time; a `clear` here updates the local copy at once. A missing version key
 * (never created, or evicted) starts at the current time in milliseconds, so a version that came back after an
 * eviction is newer than every version before it, and old keys cannot resurface.
 *
 * @internal
 */
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as Option from "effect/Option"
import type { InvalidKey } from "../errors/InvalidKey.js"
import type { MemcachedError } from "../errors/MemcachedError.js"
import type { DurationWithUnits, Item, MemcachedService } from "../Memcached.js"
import { decodeWithUnits } from "./ttl.js"

/**
 * @internal The part of `MemcachedService` that a cache, a namespace and the `KeyValueStore` need. Namespaces
 * implement exactly this, so they nest.
 */
export type CacheStore = Pick<
  MemcachedService,
  "get" | "getMany" | "set" | "setMany" | "add" | "delete" | "deleteMany" | "getAndTouch" | "increment"
>

/** @internal */
export interface NamespaceStore extends CacheStore {
  readonly name: string
  /** Moves the namespace to a new version: every key written before is gone for every process (within `versionTtl`). */
  readonly clear: Effect.Effect<void, InvalidKey | MemcachedError>
  /** The current `<name>:<version>:`. */
  readonly prefix: Effect.Effect<string, InvalidKey | MemcachedError>
}

interface VersionState {
  value: bigint | undefined
  readAt: number
  inflight: Deferred.Deferred<bigint, InvalidKey | MemcachedError> | undefined
}

interface Registry {
  /** One version state per namespace name, shared by views with different `versionTtl`s. */
  readonly states: Map<string, VersionState>
  /** One store per name and `versionTtl`, so views (and their single-flight maps) are reused. */
  readonly stores: Map<string, NamespaceStore>
}

const registries = new WeakMap<CacheStore, Registry>()

/** @internal The version key of a namespace. */
export const versionKeyOf = (name: string) => `${name}:_version`

const DEFAULT_VERSION_TTL = "1 second"

/**
 * @internal The namespace `name` over `parent`, the same object for the same parent, name and `versionTtl`. Throws a
 * `TypeError` on an empty name or a `versionTtl` that is not a duration with its unit (programming errors).
 */
export const namespaceStore = (
  parent: CacheStore,
  name: string,
  versionTtl: DurationWithUnits = DEFAULT_VERSION_TTL
): NamespaceStore => {
  if (typeof name !== "string" || name.length === 0) {
    throw new TypeError(`a namespace name must be a non-empty string, got ${JSON.stringify(name)}`)
  }
  const decoded = decodeWithUnits(versionTtl)
  if (Either.isLeft(decoded)) throw new TypeError(`versionTtl ${decoded.left}`)
  const ttlMillis = Duration.toMillis(decoded.right)
  let registry = registries.get(parent)
  if (!registry) {
    registry = { states: new Map(), stores: new Map() }
    registries.set(parent, registry)
  }
  const id = `${ttlMillis}|${name}`
  const found = registry.stores.get(id)
  if (found) return found
  let state = registry.states.get(name)
  if (!state) {
    state = { value: undefined, readAt: 0, inflight: undefined }
    registry.states.set(name, state)
  }
  const store = makeNamespaceStore(parent, name, ttlMillis, state)
  registry.stores.set(id, store)
  return store
}

const maxBig = (a: bigint, b: bigint) => a > b ? a : b

const makeNamespaceStore = (
  parent: CacheStore,
  name: string,
  ttlMillis: number,
  state: VersionState
): NamespaceStore => {
  const versionKey = versionKeyOf(name)
  /** Its arguments are always valid: an `InvalidArgument` here would be a bug. */
  const versionIncrement = (delta: bigint, initial: bigint) =>
    Effect.catchTag(parent.increment(versionKey, delta, { initial, ttl: null }), "InvalidArgument", Effect.die)

  const remember = (version: bigint, readAt: number) => {
    if (state.value === undefined || version >= state.value) {
      state.value = version
      state.readAt = readAt
    }
    return state.value
  }

  const read = (now: number) =>
    Effect.map(
      versionIncrement(0n, BigInt(Math.max(0, Math.floor(now)))),
      (version) => remember(Option.getOrElse(version, () => 0n), now)
    )

  const current: Effect.Effect<bigint, InvalidKey | MemcachedError> = Effect.clockWith((clock) =>
    Effect.suspend((): Effect.Effect<bigint, InvalidKey | MemcachedError> => {
      const now = clock.unsafeCurrentTimeMillis()
      if (state.value !== undefined && now - state.readAt < ttlMillis) return Effect.succeed(state.value)
      if (ttlMillis === 0) return read(now)
      const running = state.inflight
      if (running) {
        return Effect.flatMap(
          Effect.exit(Deferred.await(running)),
          (exit) => Exit.isInterrupted(exit) ? current : exit
        )
      }
      const deferred = Deferred.unsafeMake<bigint, InvalidKey | MemcachedError>(FiberId.none)
      state.inflight = deferred
      return Effect.onExit(read(now), (exit) => {
        if (state.inflight === deferred) state.inflight = undefined
        return Deferred.done(deferred, exit)
      })
    })
  )

  const prefix = Effect.map(current, (version) => `${name}:${version}:`)

  /** A key that is not a non-empty string goes through unchanged, so the key rules report it as it was given. */
  const full = (prefix: string, key: string) => typeof key === "string" && key.length > 0 ? prefix + key : key

  const clear = Effect.clockWith((clock) =>
    Effect.suspend(() => {
      const now = clock.unsafeCurrentTimeMillis()
      const atLeast = BigInt(Math.max(0, Math.floor(now)))
      const initial = state.value === undefined ? atLeast : maxBig(atLeast, state.value + 1n)
      return Effect.map(versionIncrement(1n, initial), (version) => {
        remember(Option.getOrElse(version, () => initial), now)
      })
    })
  )

  return {
    name,
    clear,
    prefix,
    get: (key) => Effect.flatMap(prefix, (p) => parent.get(full(p, key))),
    getAndTouch: (key, ttl) => Effect.flatMap(prefix, (p) => parent.getAndTouch(full(p, key), ttl)),
    getMany: (keys) =>
      Effect.flatMap(prefix, (p) => {
        const list = Array.from(keys)
        return Effect.map(parent.getMany(list.map((key) => full(p, key))), (found) => {
          const byKey = new Map<string, Item>()
          for (const key of list) {
            const item = found.get(full(p, key))
            if (item) byKey.set(key, item)
          }
          return byKey
        })
      }),
    set: (key, value, options) => Effect.flatMap(prefix, (p) => parent.set(full(p, key), value, options)),
    add: (key, value, options) => Effect.flatMap(prefix, (p) => parent.add(full(p, key), value, options)),
    setMany: (entries, options) =>
      Effect.flatMap(
        prefix,
        (p) => parent.setMany(Array.from(entries, ([key, item]) => [full(p, key), item] as const), options)
      ),
    delete: (key) => Effect.flatMap(prefix, (p) => parent.delete(full(p, key))),
    deleteMany: (keys) => Effect.flatMap(prefix, (p) => parent.deleteMany(Array.from(keys, (key) => full(p, key)))),
    increment: (key, delta, options) => Effect.flatMap(prefix, (p) => parent.increment(full(p, key), delta, options))
  }
}
