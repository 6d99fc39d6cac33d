/**
 * The memcached-backed Effect 4 `KeyValueStore` (`effect/persistence/KeyValueStore`), through `KeyValueStore`'s own
 * API (`toSchemaStore`, `prefix`) and through `Persistence.layerKvs`, against the in-memory fake and a real memcached.
 */
import { assert, describe, it, layer as layerSuite } from "@effect/vitest"
import { Context, Effect, Exit, Layer, Option, Schema } from "effect"
import * as KeyValueStore from "effect/persistence/KeyValueStore"
import * as Persistable from "effect/persistence/Persistable"
import * as Persistence from "effect/persistence/Persistence"
import { InvalidKey, Memcached, MemcachedError, MemcachedTest, ValueTooLarge } from "../src/index.js"
import { layerKeyValueStore } from "../src/KeyValueStore.js"
import { MemcachedServer } from "./support/MemcachedServer.js"

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** A second store without a namespace, beside `KeyValueStore` (namespace "kv"). */
class Plain extends Context.Service<Plain, KeyValueStore.KeyValueStore>()("test/PlainKeyValueStore") {}

const stores = <E, R>(memcached: Layer.Layer<Memcached, E, R>) =>
  Layer.mergeAll(
    layerKeyValueStore({ namespace: "kv" }),
    Layer.effect(Plain, Effect.provide(KeyValueStore.KeyValueStore, layerKeyValueStore()))
  ).pipe(Layer.provideMerge(memcached))

class User extends Schema.Class<User>("User")({ id: Schema.Number, name: Schema.String }) {}

class GetUser extends Persistable.Class<{ payload: { readonly id: number } }>()("GetUser", {
  primaryKey: ({ id }) => `user-${id}`,
  success: User,
  error: Schema.String
}) {}

const keyValueStoreContract = <E>(
  name: string,
  layer: Layer.Layer<KeyValueStore.KeyValueStore | Plain | Memcached, E>,
  live: boolean
) =>
  layerSuite(layer, { excludeTestServices: live })(name, (it) => {
    it.effect("get / set / remove / has for strings", () =>
      Effect.gen(function*() {
        const kv = yield* KeyValueStore.KeyValueStore
        assert.isUndefined(yield* kv.get("s"))
        assert.isFalse(yield* kv.has("s"))
        yield* kv.set("s", "héllo wörld")
        assert.strictEqual(yield* kv.get("s"), "héllo wörld")
        assert.isTrue(yield* kv.has("s"))
        yield* kv.set("s", "")
        assert.strictEqual(yield* kv.get("s"), "")
        yield* kv.remove("s")
        assert.isUndefined(yield* kv.get("s"))
        yield* kv.remove("s") // removing a missing key is fine
      }))

    it.effect("bytes: getUint8Array gives them back; get reads them as UTF-8, strings read as bytes too", () =>
      Effect.gen(function*() {
        const kv = yield* KeyValueStore.KeyValueStore
        const binary = new Uint8Array([0, 1, 2, 255, 254])
        yield* kv.set("b", binary)
        assert.deepStrictEqual(yield* kv.getUint8Array("b"), binary)
        yield* kv.set("b2", encoder.encode("text as bytes"))
        assert.strictEqual(yield* kv.get("b2"), "text as bytes")
        yield* kv.set("s2", "€")
        assert.deepStrictEqual(yield* kv.getUint8Array("s2"), new Uint8Array([0xe2, 0x82, 0xac]))
        assert.isUndefined(yield* kv.getUint8Array("missing"))
      }))

    it.effect("modify and modifyUint8Array: the new value, or undefined for a missing key", () =>
      Effect.gen(function*() {
        const kv = yield* KeyValueStore.KeyValueStore
        yield* kv.set("m", "a")
        assert.strictEqual(yield* kv.modify("m", (s) => s + "b"), "ab")
        assert.strictEqual(yield* kv.get("m"), "ab")
        assert.isUndefined(yield* kv.modify("m-missing", (s) => s + "b"))
        assert.isUndefined(yield* kv.get("m-missing"))
        yield* kv.set("mb", new Uint8Array([1]))
        assert.deepStrictEqual(
          yield* kv.modifyUint8Array("mb", (b) => new Uint8Array([...b, 2])),
          new Uint8Array([1, 2])
        )
      }))

    it.effect("clear moves the namespace to a new version: its keys go, plain keys and other stores stay", () =>
      Effect.gen(function*() {
        const kv = yield* KeyValueStore.KeyValueStore
        const plain = yield* Plain
        const memcached = yield* Memcached
        yield* kv.set("c1", "1")
        yield* kv.set("c2", "2")
        yield* plain.set("c1", "plain")
        yield* kv.clear
        assert.isUndefined(yield* kv.get("c1"))
        assert.isUndefined(yield* kv.get("c2"))
        assert.strictEqual(yield* plain.get("c1"), "plain")
        assert.isTrue(Option.isSome(yield* memcached.get("c1")), "no flush_all")
        yield* kv.set("c1", "again")
        assert.strictEqual(yield* kv.get("c1"), "again")
        yield* kv.clearPrefix("")
        assert.isUndefined(yield* kv.get("c1"), "clearPrefix of the empty prefix is clear")
      }))

    it.effect("keys, size, isEmpty, clearPrefix (so a prefix view's clear), clear without a namespace: a clear error", () =>
      Effect.gen(function*() {
        const kv = yield* KeyValueStore.KeyValueStore
        const plain = yield* Plain
        const cases = [
          [kv.keys, "keys", /cannot list/],
          [kv.size, "size", /cannot list/],
          [kv.isEmpty, "isEmpty", /cannot list/],
          [kv.clearPrefix("tenant-a:"), "clearPrefix", /cannot clear a prefix/],
          [KeyValueStore.prefix(kv, "tenant-a:").clear, "clearPrefix", /cannot clear a prefix/],
          [plain.clear, "clear", /give the store a namespace/]
        ] as const
        for (const [effect, method, message] of cases) {
          const error = yield* Effect.flip(effect as Effect.Effect<unknown, KeyValueStore.KeyValueStoreError>)
          assert.instanceOf(error, KeyValueStore.KeyValueStoreError)
          assert.strictEqual(error.method, method)
          assert.match(error.message, message)
        }
      }))

    it.effect("values are stored raw with flags 0; plain keys are stored as given", () =>
      Effect.gen(function*() {
        const plain = yield* Plain
        const memcached = yield* Memcached
        yield* plain.set("raw-s", "for other clients")
        yield* plain.set("raw-b", new Uint8Array([7, 8, 9]))
        const s = Option.getOrThrow(yield* memcached.get("raw-s"))
        assert.strictEqual(s.flags, 0)
        assert.strictEqual(decoder.decode(s.value), "for other clients")
        assert.deepStrictEqual(Option.getOrThrow(yield* memcached.get("raw-b")).value, new Uint8Array([7, 8, 9]))
        yield* memcached.set("from-elsewhere", encoder.encode("written by another client"))
        assert.strictEqual(yield* plain.get("from-elsewhere"), "written by another client")
      }))

    it.effect("memcached's failures are KeyValueStoreErrors that say so, with the original as cause", () =>
      Effect.gen(function*() {
        const kv = yield* KeyValueStore.KeyValueStore
        const invalid = yield* Effect.flip(kv.get("bad key"))
        assert.strictEqual(invalid.method, "get")
        assert.strictEqual(invalid.key, "bad key")
        assert.instanceOf(invalid.cause, InvalidKey)
        assert.match(invalid.message, /^memcached KeyValueStore get failed: /)
        const tooLarge = yield* Effect.flip(kv.set("big", new Uint8Array(2 * 1024 * 1024)))
        assert.instanceOf(tooLarge.cause, ValueTooLarge)
      }))

    it.effect("toSchemaStore: a schema store over it; a value that does not decode is a SchemaError", () =>
      Effect.gen(function*() {
        const kv = yield* KeyValueStore.KeyValueStore
        const users = KeyValueStore.toSchemaStore(kv, User)
        const ada = new User({ id: 1, name: "Ada" })
        yield* users.set("user:1", ada)
        assert.deepStrictEqual(yield* users.get("user:1"), Option.some(ada))
        assert.strictEqual(yield* kv.get("user:1"), JSON.stringify({ id: 1, name: "Ada" }))
        yield* kv.set("user:2", "{not json")
        assert.isTrue(Schema.isSchemaError(yield* Effect.flip(users.get("user:2"))))
        const scoped = KeyValueStore.prefix(kv, "tenant-a:")
        yield* scoped.set("x", "1")
        assert.strictEqual(yield* kv.get("tenant-a:x"), "1")
      }))

    it.effect("Persistence.layerKvs stores and reads exits through it (its clear fails: use MemcachedPersistence)", () =>
      Effect.gen(function*() {
        const persistence = yield* Persistence.Persistence
        const store = yield* persistence.make({ storeId: "results", timeToLive: () => "1 minute" })
        assert.isUndefined(yield* store.get(new GetUser({ id: 1 })))
        yield* store.set(new GetUser({ id: 1 }), Exit.succeed(new User({ id: 1, name: "Ada" })))
        yield* store.set(new GetUser({ id: 2 }), Exit.fail("no such user"))
        assert.deepStrictEqual(yield* store.get(new GetUser({ id: 1 })), Exit.succeed(new User({ id: 1, name: "Ada" })))
        assert.deepStrictEqual(yield* store.get(new GetUser({ id: 2 })), Exit.fail("no such user"))
        const error = yield* Effect.flip(store.clear)
        assert.instanceOf(error, Persistence.PersistenceError)
      }).pipe(Effect.provide(Persistence.layerKvs)))
  })

keyValueStoreContract("KeyValueStore over MemcachedTest", stores(MemcachedTest), false)

const liveLayer = stores(
  Layer.unwrap(
    Effect.map(
      MemcachedServer,
      (server) => Memcached.layer({ servers: server.address, keyPrefix: "kvs4:" }).pipe(Layer.orDie)
    )
  )
).pipe(Layer.provideMerge(MemcachedServer.layer))

keyValueStoreContract("KeyValueStore over real memcached", liveLayer, true)

describe("KeyValueStore errors from memcached", () => {
  it.live("a MemcachedError is the cause of a KeyValueStoreError naming the method", () =>
    Effect.gen(function*() {
      const down = Memcached.layer({ servers: "127.0.0.1:1", timeout: "200 millis" }).pipe(Layer.orDie)
      const error = yield* Effect.flip(
        Effect.flatMap(KeyValueStore.KeyValueStore, (kv) => kv.get("k")).pipe(
          Effect.provide(layerKeyValueStore().pipe(Layer.provide(down)))
        )
      )
      assert.strictEqual(error.method, "get")
      assert.instanceOf(error.cause, MemcachedError)
      assert.match(error.message, /^memcached KeyValueStore get failed: memcached Unavailable at 127\.0\.0\.1:1/)
    }))
})
