/**
 * Effect's `KeyValueStore` (`effect/persistence/KeyValueStore`) backed by memcached, so Effect's own
 * `KeyValueStore`-based tools (`KeyValueStore.toSchemaStore`, `Persistence.layerKvs`, …) can use it.
 *
 * @since 2.0.0
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as KeyValueStore from "effect/persistence/KeyValueStore"
import { namespaced } from "../../src/internal/cache/namespace.js"
import type { MemcachedView } from "../../src/internal/memcachedService.js"
import type { MemcachedFailure } from "./errors/index.js"
import type { DurationWithUnits, Ttl } from "./Memcached.js"
import { Memcached } from "./Memcached.js"

/**
 * Options of `layerKeyValueStore`.
 *
 * @since 2.0.0
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
const encoder = new TextEncoder()

/** A plain `Uint8Array` view of the bytes (a store may hand out a Node `Buffer`), without copying. */
const plainBytes = (bytes: Uint8Array): Uint8Array =>
  bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)

/** A `KeyValueStoreError`, with `key` and `cause` only when there are some (they are optional, not `| undefined`). */
const storeError = (method: string, message: string, key?: string, cause?: unknown) =>
  new KeyValueStore.KeyValueStoreError({
    method,
    message,
    ...(key === undefined ? {} : { key }),
    ...(cause === undefined ? {} : { cause })
  })

/** A failure of the memcached side, as a `KeyValueStoreError` that says what failed; `cause` is the original. */
const toStoreError = (method: string, key?: string) => (cause: MemcachedFailure) =>
  storeError(method, `memcached KeyValueStore ${method} failed: ${cause.message}`, key, cause)

const unknowable = (method: string, message: string) => Effect.fail(storeError(method, message))

const cannotList = "memcached cannot list or count the keys of a store"

/**
 * Builds the store over the `Memcached` in context. Values are stored raw, with flags 0, so other clients can read
 * them: a string as its UTF-8 bytes, a `Uint8Array` as it is. `get` reads any value as UTF-8 text and
 * `getUint8Array` as bytes.
 *
 * - `clear` moves the namespace to a new version (never `flush_all`); without `namespace` it fails.
 * - `keys`, `size` and `isEmpty` fail with a `KeyValueStoreError`: memcached cannot list the keys of a prefix. So does
 *   `clearPrefix` of a non-empty prefix (and so `clear` of a `KeyValueStore.prefix` view): give each group of keys a
 *   store with its own `namespace` instead.
 * - `modify` reads then writes: it is not atomic across processes.
 * - Every failure is a `KeyValueStoreError` whose `message` says what failed and why; a failure of memcached's side
 *   (`InvalidKey`, `InvalidArgument`, `ValueTooLarge`, `MemcachedError`) is its `cause`.
 *
 * @since 2.0.0
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
        Effect.map(view.get(key), (item) => Option.getOrUndefined(Option.map(item, (found) => found.value))),
        toStoreError(method, key)
      )
    const clear = namespace
      ? Effect.mapError(namespace.clear, toStoreError("clear"))
      : unknowable("clear", "memcached cannot clear some keys without clearing all; give the store a namespace")
    return KeyValueStore.make({
      get: (key) => Effect.map(read("get", key), (bytes) => bytes === undefined ? undefined : decoder.decode(bytes)),
      getUint8Array: (key) =>
        Effect.map(read("getUint8Array", key), (bytes) => bytes === undefined ? undefined : plainBytes(bytes)),
      set: (key, value) =>
        Effect.mapError(
          view.set(key, typeof value === "string" ? encoder.encode(value) : value, writeOptions),
          toStoreError("set", key)
        ),
      remove: (key) => Effect.mapError(Effect.asVoid(view.delete(key)), toStoreError("remove", key)),
      has: (key) => Effect.map(read("has", key), (bytes) => bytes !== undefined),
      clear,
      clearPrefix: (prefix) =>
        prefix.length === 0
          ? clear
          : unknowable("clearPrefix", `${cannotList}, so it cannot clear a prefix; give each group its own namespace`),
      size: unknowable("size", cannotList),
      isEmpty: unknowable("isEmpty", cannotList),
      keys: unknowable("keys", cannotList)
    })
  })

/**
 * A `KeyValueStore` layer over the `Memcached` in context (see `makeKeyValueStore`):
 *
 * ```ts
 * const KeyValueStoreLive = layerKeyValueStore({ namespace: "sessions" }).pipe(Layer.provide(MemcachedLive))
 * ```
 *
 * @since 2.0.0
 * @category layers
 */
export const layerKeyValueStore = (
  options: KeyValueStoreOptions = {}
): Layer.Layer<KeyValueStore.KeyValueStore, never, Memcached> =>
  Layer.effect(KeyValueStore.KeyValueStore, makeKeyValueStore(options))
