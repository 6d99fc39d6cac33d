/**
 * An `@effect/platform` `KeyValueStore` backed by memcached, so Effect's own `KeyValueStore`-based tools
 * (`KeyValueStore.forSchema`, `@effect/experimental`'s `Persistence.layerResultKeyValueStore`, …) can use it.
 *
 * @since 1.0.0
 */
import * as PlatformError from "@effect/platform/Error"
import * as KeyValueStore from "@effect/platform/KeyValueStore"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type { MemcachedFailure } from "./errors/index.js"
import { namespaced } from "./internal/cache/namespace.js"
import type { MemcachedView } from "./internal/memcachedService.js"
import type { DurationWithUnits, Ttl } from "./Memcached.js"
import { Memcached } from "./Memcached.js"

/**
 * Options of `layerKeyValueStore`.
 *
 * @since 1.0.0
 * @category models
 */
export interface KeyValueStoreOptions {
  /**
   * Keep the store's keys under `<namespace>:<version>:` (as `Cache.namespace` does), which makes `clear` work: it
   * moves the namespace to a new version with one atomic increment. Without a namespace, keys are stored as given
   * (after the layer's `keyPrefix`) and `clear` fails, because memcached cannot drop some keys without dropping all.
   * @default none
   */
  readonly namespace?: string | undefined
  /** How long a process trusts its copy of the namespace version (see `Cache.namespace`). @default "1 second" */
  readonly versionTtl?: DurationWithUnits | undefined
  /**
   * The TTL of every value written. A `KeyValueStore` has no expiry of its own, so values never expire by default;
   * memcached may still evict them when it runs out of memory. @default null
   */
  readonly ttl?: Ttl | undefined
}

const decoder = new TextDecoder()

/** A plain `Uint8Array` view of the bytes (a store may hand out a Node `Buffer`), without copying. */
const plainBytes = (bytes: Uint8Array): Uint8Array =>
  bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
const encoder = new TextEncoder()

/** A failure of the memcached side as the `PlatformError` a `KeyValueStore` fails with; `cause` is the original. */
const toPlatformError = (method: string, key: string | undefined) => (error: MemcachedFailure) => {
  const pathOrDescriptor = key ?? method
  switch (error._tag) {
    case "InvalidKey":
    case "InvalidArgument":
    case "ValueTooLarge":
      return new PlatformError.BadArgument({
        module: "KeyValueStore",
        method,
        description: error.message,
        cause: error
      })
    case "MemcachedError":
      return new PlatformError.SystemError({
        module: "KeyValueStore",
        method,
        reason: error.reason === "Timeout"
          ? "TimedOut"
          : error.reason === "Auth"
          ? "PermissionDenied"
          : error.reason === "Protocol"
          ? "InvalidData"
          : "Unknown",
        pathOrDescriptor,
        description: error.message,
        cause: error
      })
  }
}

const unknowable = (method: string, description: string) =>
  Effect.fail(
    new PlatformError.SystemError({
      module: "KeyValueStore",
      method,
      reason: "Unknown",
      pathOrDescriptor: method,
      description
    })
  )

/**
 * Builds the store over the `Memcached` in context. Values are stored raw, with flags 0, so other clients can read
 * them: a string as its UTF-8 bytes, a `Uint8Array` as it is. As with `KeyValueStore.layerFileSystem`, `get` reads
 * any value as UTF-8 text and `getUint8Array` as bytes.
 *
 * - `clear` moves the namespace to a new version (never `flush_all`); without `namespace` it fails with a
 *   `SystemError`.
 * - `size` (and so `isEmpty`) cannot be known: memcached has no way to count the keys of a prefix. It fails with a
 *   `SystemError` whose reason is `"Unknown"`.
 * - `modify` reads then writes: it is not atomic across processes.
 * - Failures are `PlatformError`s: `BadArgument` for `InvalidKey`, `InvalidArgument` and `ValueTooLarge`,
 *   `SystemError` for `MemcachedError` (`TimedOut`, `PermissionDenied`, `InvalidData`, `Unknown`), with the original
 *   as `cause`.
 *
 * @since 1.0.0
 * @category constructors
 */
export const makeKeyValueStore = (
  options: KeyValueStoreOptions = {}
): Effect.Effect<KeyValueStore.KeyValueStore, never, Memcached> =>
  Effect.map(Memcached, (memcached) => {
    const namespace = options.namespace === undefined
      ? undefined
      : namespaced(memcached, options.namespace, options.versionTtl)
    const view: MemcachedView = namespace ?? memcached
    const writeOptions = { ttl: options.ttl === undefined ? null : options.ttl, flags: 0 }
    const read = (method: string, key: string) =>
      Effect.mapError(
        Effect.map(view.get(key), Option.map((item) => item.value)),
        toPlatformError(method, key)
      )
    return KeyValueStore.make({
      get: (key) => Effect.map(read("get", key), Option.map((bytes) => decoder.decode(bytes))),
      getUint8Array: (key) => Effect.map(read("getUint8Array", key), Option.map(plainBytes)),
      set: (key, value) =>
        Effect.mapError(
          view.set(key, typeof value === "string" ? encoder.encode(value) : value, writeOptions),
          toPlatformError("set", key)
        ),
      remove: (key) => Effect.mapError(Effect.asVoid(view.delete(key)), toPlatformError("remove", key)),
      has: (key) => Effect.map(read("has", key), Option.isSome),
      clear: namespace
        ? Effect.mapError(namespace.clear, toPlatformError("clear", undefined))
        : unknowable("clear", "memcached cannot clear some keys without clearing all; give the store a namespace"),
      size: unknowable("size", "memcached cannot count the keys of a store")
    })
  })

/**
 * A `KeyValueStore` layer over the `Memcached` in context (see `makeKeyValueStore`):
 *
 * ```ts
 * const KeyValueStoreLive = layerKeyValueStore({ namespace: "sessions" }).pipe(Layer.provide(MemcachedLive))
 * ```
 *
 * @since 1.0.0
 * @category layers
 */
export const layerKeyValueStore = (
  options: KeyValueStoreOptions = {}
): Layer.Layer<KeyValueStore.KeyValueStore, never, Memcached> =>
  Layer.effect(KeyValueStore.KeyValueStore, makeKeyValueStore(options))
