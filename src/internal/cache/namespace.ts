/**
 * Namespaces over a `MemcachedView` (`Memcached`, or another namespace): every key of namespace `name` lives under
 * `<name>:<version>:`, and `clear` moves the namespace to a new version with one atomic increment of
 * `<name>:_version`, so the old keys are never read again (memcached evicts them as they age) and nothing else is
 * touched. No `flush_all`. The version rules are the engine's (`engine/namespace.ts`).
 *
 * The version is read with `increment(versionKey, 0, { initial })`, which creates a missing version key and reads an
 * existing one in one atomic round trip. A process trusts its copy for `versionTtl` (1 s by default), so a `clear`
 * in another process is seen within that time; a `clear` here updates the local copy at once.
 *
 * Shared by both Effect lines: what differs between them comes from `#effect-line`.
 *
 * @internal
 */
import type { DurationWithUnits, InvalidKey, MemcachedError } from "#effect-line"
import { currentTimeMillis, Duration, durationOrReason, Effect, Option } from "#effect-line"
import type { VersionState } from "../../engine/namespace.js"
import {
  byCallerKey,
  checkNamespaceName,
  fullKey as full,
  NamespaceRegistry,
  prefixOf,
  versionAt,
  versionKeyOf
} from "../../engine/namespace.js"
import type { MemcachedView } from "../memcachedService.js"
import { serverLeases } from "../memcachedService.js"
import type { SingleFlight } from "./singleFlight.js"
import { makeSingleFlight } from "./singleFlight.js"

/** @internal A namespace of a `MemcachedView`: a view itself, so namespaces nest. */
export interface NamespacedMemcached extends MemcachedView {
  readonly name: string
  /** Moves the namespace to a new version: every key written before is gone for every process (within `versionTtl`). */
  readonly clear: Effect.Effect<void, InvalidKey | MemcachedError>
}

const registries = new WeakMap<MemcachedView, NamespaceRegistry<NamespacedMemcached, SingleFlight<string>>>()

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
  checkNamespaceName(name)
  const decoded = durationOrReason(versionTtl)
  if (typeof decoded === "string") throw new TypeError(`versionTtl ${decoded}`)
  const ttlMillis = Duration.toMillis(decoded)
  let registry = registries.get(parent)
  if (!registry) {
    registry = new NamespaceRegistry(makeSingleFlight<string>())
    registries.set(parent, registry)
  }
  const reads = registry.reads
  return registry.view(name, ttlMillis, (state) => makeNamespace(parent, name, ttlMillis, state, reads))
}

const makeNamespace = (
  parent: MemcachedView,
  name: string,
  ttlMillis: number,
  state: VersionState,
  reads: SingleFlight<string>
): NamespacedMemcached => {
  const versionKey = versionKeyOf(name)
  /** Its arguments are always valid: an `InvalidArgument` here would be a bug. */
  const versionIncrement = (delta: bigint, initial: bigint) =>
    Effect.catchTag(parent.increment(versionKey, delta, { initial, ttl: null }), "InvalidArgument", Effect.die)

  const read = (now: number) =>
    Effect.map(
      versionIncrement(0n, versionAt(now)),
      (version) => state.remember(Option.getOrElse(version, () => 0n), now)
    )

  const current: Effect.Effect<bigint, InvalidKey | MemcachedError> = Effect.clockWith((clock) =>
    Effect.suspend(() => {
      const now = currentTimeMillis(clock)
      const fresh = state.fresh(now, ttlMillis)
      if (fresh !== undefined) return Effect.succeed(fresh)
      return ttlMillis === 0 ? read(now) : reads(name, read(now))
    })
  )

  const prefix = Effect.map(current, (version) => prefixOf(name, version))

  const clear = Effect.clockWith((clock) =>
    Effect.suspend(() => {
      const now = currentTimeMillis(clock)
      const initial = state.clearFrom(now)
      return Effect.map(versionIncrement(1n, initial), (version) => {
        state.remember(Option.getOrElse(version, () => initial), now)
      })
    })
  )

  const view: NamespacedMemcached = {
    name,
    clear,
    get: (key) => Effect.flatMap(prefix, (p) => parent.get(full(p, key))),
    getAndTouch: (key, ttl) => Effect.flatMap(prefix, (p) => parent.getAndTouch(full(p, key), ttl)),
    getMany: (keys) =>
      Effect.flatMap(prefix, (p) => {
        const list = Array.from(keys)
        return Effect.map(parent.getMany(list.map((key) => full(p, key))), (found) => byCallerKey(list, found, p))
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
  // Over meta, the namespace's keys lease and go stale with memcached's own flags, as the parent's do.
  const lease = serverLeases.get(parent)
  if (lease !== undefined) {
    serverLeases.set(view, {
      getWithLease: (key, ttl) => Effect.flatMap(prefix, (p) => lease.getWithLease(full(p, key), ttl)),
      invalidate: (key) => Effect.flatMap(prefix, (p) => lease.invalidate(full(p, key)))
    })
  }
  return view
}
