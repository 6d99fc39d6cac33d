/**
 * Namespaces over a `MemcachedView` (`Memcached`, or another namespace): every key of namespace `name` lives under
 * `<name>:<version>:`, and `clear` moves the namespace to a new version with one atomic increment of
 * `<name>:_version`, so the old keys are never read again (memcached evicts them as they age) and nothing else is
 * touched. No `flush_all`.
 *
 * The version is read with `increment(versionKey, 0, { initial })`, which creates a missing version key and reads an
 * existing one in one atomic round trip. A process trusts its copy for `versionTtl` (1 s by default), so a `clear`
 * in another process is seen within that time; a `clear` here updates the local copy at once. A missing version key
 * (never created, or evicted) starts at the current time in milliseconds, so a version that came back after an
 * eviction is newer than every version before it, and old keys cannot resurface.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import type { Item } from "../../../../src/engine/item.js"
import type { InvalidKey } from "../../errors/InvalidKey.js"
import type { MemcachedError } from "../../errors/MemcachedError.js"
import type { MemcachedView } from "../memcachedService.js"
import type { DurationWithUnits } from "../ttl.js"
import { decodeWithUnits } from "../ttl.js"
import type { SingleFlight } from "./singleFlight.js"
import { makeSingleFlight } from "./singleFlight.js"

/** @internal A namespace of a `MemcachedView`: a view itself, so namespaces nest. */
export interface NamespacedMemcached extends MemcachedView {
  readonly name: string
  /** Moves the namespace to a new version: every key written before is gone for every process (within `versionTtl`). */
  readonly clear: Effect.Effect<void, InvalidKey | MemcachedError>
}

interface VersionState {
  value: bigint | undefined
  readAt: number
}

interface Registry {
  /** One version state per namespace name, shared by views with different `versionTtl`s. */
  readonly states: Map<string, VersionState>
  /** One version read at a time per namespace name. */
  readonly reads: SingleFlight<string>
  /** One namespace per name and `versionTtl`, so views (and their single-flight maps) are reused. */
  readonly namespaces: Map<string, NamespacedMemcached>
}

const registries = new WeakMap<MemcachedView, Registry>()

const DEFAULT_VERSION_TTL = "1 second"

/**
 * @internal The namespace `name` over `parent`, the same object for the same parent, name and `versionTtl`. Throws a
 * `TypeError` on an empty name or a `versionTtl` that is not a duration with its unit (programming errors).
 */
export const namespaced = (
  parent: MemcachedView,
  name: string,
  versionTtl: DurationWithUnits = DEFAULT_VERSION_TTL
): NamespacedMemcached => {
  if (typeof name !== "string" || name.length === 0) {
    throw new TypeError(`a namespace name must be a non-empty string, got ${JSON.stringify(name)}`)
  }
  const decoded = decodeWithUnits(versionTtl)
  if (Result.isFailure(decoded)) throw new TypeError(`versionTtl ${decoded.failure}`)
  const ttlMillis = Duration.toMillis(decoded.success)
  let registry = registries.get(parent)
  if (!registry) {
    registry = { states: new Map(), reads: makeSingleFlight(), namespaces: new Map() }
    registries.set(parent, registry)
  }
  const id = `${ttlMillis}|${name}`
  const found = registry.namespaces.get(id)
  if (found) return found
  let state = registry.states.get(name)
  if (!state) {
    state = { value: undefined, readAt: 0 }
    registry.states.set(name, state)
  }
  const namespace = makeNamespace(parent, name, ttlMillis, state, registry.reads)
  registry.namespaces.set(id, namespace)
  return namespace
}

const maxBig = (a: bigint, b: bigint) => a > b ? a : b

const makeNamespace = (
  parent: MemcachedView,
  name: string,
  ttlMillis: number,
  state: VersionState,
  reads: SingleFlight<string>
): NamespacedMemcached => {
  const versionKey = `${name}:_version`
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
    Effect.suspend(() => {
      const now = clock.currentTimeMillisUnsafe()
      if (state.value !== undefined && now - state.readAt < ttlMillis) return Effect.succeed(state.value)
      return ttlMillis === 0 ? read(now) : reads(name, read(now))
    })
  )

  const prefix = Effect.map(current, (version) => `${name}:${version}:`)

  /** A key that is not a non-empty string goes through unchanged, so the key rules report it as it was given. */
  const full = (prefix: string, key: string) => typeof key === "string" && key.length > 0 ? prefix + key : key

  const clear = Effect.clockWith((clock) =>
    Effect.suspend(() => {
      const now = clock.currentTimeMillisUnsafe()
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
