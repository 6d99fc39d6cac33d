/**
 * memcached as a backing for Effect's Persistence (`effect/persistence`), so `PersistedCache` and persisted request
 * resolvers keep their results in memcached, shared by every process that uses the same servers:
 *
 * ```ts
 * const PersistenceLive = MemcachedPersistence.layer.pipe(Layer.provide(Memcached.layer({ servers: "cache:11211" })))
 * ```
 *
 * - Each store (`storeId`) is a namespace: its keys live under `persistence/<storeId>:<version>:`, and `clear` moves
 *   the store to a new version with one atomic increment (no `flush_all`; other stores and keys stay). Another
 *   process sees a `clear` within 1 second.
 * - A result's `timeToLive` is memcached's own expiry, under the TTL rules of every write: rounded up to whole seconds,
 *   longer than 30 days sent as an absolute time; an infinite one never expires (memcached may still evict the item
 *   when it runs out of memory).
 * - A key memcached cannot take (not printable ASCII, over 100 characters, or starting with `#`) is stored under `#`
 *   and its SHA-256; a store id over 40 characters, or with `:`, likewise. With a long `keyPrefix` (over about 79
 *   bytes) some keys need the layer's `hashLongKeys`.
 * - Values are the encoded results as JSON, with the flags of `Serializer.json`.
 * - `getMany` reads all keys in one pipelined batch per server and answers in the order of the keys.
 * - Every failure is a `PersistenceError` whose `message` names the operation and the cause (`cause` is the
 *   original): a `MemcachedError` (`Unavailable`, `Timeout` within the layer's `timeout`, `Auth`, `Protocol`), an
 *   `InvalidKey` (a key too long for the `keyPrefix`), a `ValueTooLarge` (over memcached's item size), or an `Error`
 *   for a value without a JSON form or a stored value that is not this store's JSON.
 *
 * @since 2.0.0
 */
import * as Arr from "effect/Array"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Persistence from "effect/persistence/Persistence"
import type { Item } from "../../src/engine/item.js"
import {
  decodeValue,
  encodeValue,
  groupByTtl,
  persistenceKey,
  storeNamespace,
  ValueProblem
} from "../../src/engine/persistence.js"
import { namespaced } from "../../src/internal/cache/namespace.js"
import type { MemcachedFailure } from "./errors/index.js"
import { Memcached } from "./Memcached.js"

const failure = (method: string) => (cause: MemcachedFailure | Error) =>
  new Persistence.PersistenceError({ message: `memcached persistence ${method} failed: ${cause.message}`, cause })

const decode = (method: string, item: Item) => {
  const value = decodeValue(item)
  return value instanceof ValueProblem ? Effect.fail(failure(method)(value.error)) : Effect.succeed(value as object)
}

const encode = (method: string, value: object) => {
  const item = encodeValue(value)
  return item instanceof ValueProblem ? Effect.fail(failure(method)(item.error)) : Effect.succeed(item)
}

const ttlOf = (ttl: Duration.Duration | undefined): Duration.Duration | null => ttl ?? null

const ttlMillis = (ttl: Duration.Duration | undefined): number | null =>
  ttl === undefined ? null : Duration.toMillis(ttl)

/**
 * The `BackingPersistence` over the `Memcached` in context (see the module's notes for keys, TTLs, `clear` and errors).
 *
 * @since 2.0.0
 * @category constructors
 */
export const make: Effect.Effect<Persistence.BackingPersistence["Service"], never, Memcached> = Effect.map(
  Memcached,
  (memcached) =>
    Persistence.BackingPersistence.of({
      make: (storeId) =>
        Effect.sync((): Persistence.BackingPersistenceStore => {
          const store = namespaced(memcached, storeNamespace(storeId))
          return {
            get: (key) =>
              Effect.flatMap(
                Effect.mapError(store.get(persistenceKey(key)), failure("get")),
                Option.match({ onNone: () => Effect.undefined, onSome: (item) => decode("get", item) })
              ),
            getMany: (keys) => {
              const memcachedKeys = Arr.map(keys, persistenceKey)
              return Effect.flatMap(
                Effect.mapError(store.getMany(memcachedKeys), failure("getMany")),
                (found) => {
                  const values = Arr.map(memcachedKeys, (key) => {
                    const item = found.get(key)
                    return item === undefined ? undefined : decodeValue(item) as object | ValueProblem
                  })
                  const problem = values.find((value) => value instanceof ValueProblem)
                  return problem
                    ? Effect.fail(failure("getMany")(problem.error))
                    : Effect.succeed(values as Arr.NonEmptyArray<object | undefined>)
                }
              )
            },
            set: (key, value, ttl) =>
              Effect.flatMap(
                encode("set", value),
                (item) =>
                  Effect.mapError(
                    store.set(persistenceKey(key), item.value, { ttl: ttlOf(ttl), flags: item.flags }),
                    failure("set")
                  )
              ),
            setMany: (entries) =>
              Effect.forEach(
                groupByTtl(entries, ([, , ttl]) => ttlMillis(ttl)).values(),
                (group) =>
                  Effect.flatMap(
                    Effect.forEach(
                      group,
                      ([key, value]) =>
                        Effect.map(encode("setMany", value), (item) => [persistenceKey(key), item] as const)
                    ),
                    (items) => Effect.mapError(store.setMany(items, { ttl: ttlOf(group[0][2]) }), failure("setMany"))
                  ),
                { concurrency: "unbounded", discard: true }
              ),
            remove: (key) => Effect.mapError(Effect.asVoid(store.delete(persistenceKey(key))), failure("remove")),
            clear: Effect.mapError(store.clear, failure("clear"))
          }
        })
    })
)

/**
 * memcached as the `BackingPersistence` of Effect's `Persistence`, over the `Memcached` in context.
 *
 * @since 2.0.0
 * @category layers
 */
export const layerBacking: Layer.Layer<Persistence.BackingPersistence, never, Memcached> = Layer.effect(
  Persistence.BackingPersistence,
  make
)

/**
 * `Persistence.layer` over `layerBacking`: the `Persistence` that `PersistedCache` and persisted request resolvers
 * need, kept in memcached.
 *
 * @since 2.0.0
 * @category layers
 */
export const layer: Layer.Layer<Persistence.Persistence, never, Memcached> = Persistence.layer.pipe(
  Layer.provide(layerBacking)
)
