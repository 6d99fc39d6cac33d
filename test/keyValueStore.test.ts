/**
 * The memcached-backed `@effect/platform` `KeyValueStore`, tested through `KeyValueStore`'s own API (including
 * `forSchema` and `prefix`) and through `@effect/experimental`'s `Persistence.layerResultKeyValueStore`, against the
 * in-memory fake and a real memcached.
 */
import { Persistence } from "@effect/experimental"
import { Error as PlatformError, KeyValueStore } from "@effect/platform"
import { assert, describe, it, layer as layerSuite } from "@effect/vitest"
import { assertNone, assertSome } from "@effect/vitest/utils"
import { Effect, Exit, Layer, Option, ParseResult, PrimaryKey, Schema } from "effect"
import { InvalidKey, Memcached, MemcachedError, MemcachedTest, ValueTooLarge } from "../src/index.js"
import { layerKeyValueStore } from "../src/KeyValueStore.js"
import { asciiGet } from "./support/asciiClient.js"
import { MemcachedServer } from "./support/MemcachedServer.js"

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** Two stores over one `Memcached`: `kv` in namespace "kv", `plain` without a namespace. */
class Plain extends Effect.Tag("test/PlainKeyValueStore")<Plain, KeyValueStore.KeyValueStore>() {}

const stores = <E, R>(memcached: Layer.Layer<Memcached, E, R>) =>
  Layer.mergeAll(
    layerKeyValueStore({ namespace: "kv" }),
    Layer.effect(Plain, Effect.provide(KeyValueStore.KeyValueStore, layerKeyValueStore()))
  ).pipe(Layer.provideMerge(memcached))

class User
  extends Schema.Class<User>("User")({ id: Schema.Number, name: Schema.String, joined: Schema.DateFromString })
{}

class GetUser extends Schema.TaggedRequest<GetUser>()("GetUser", {
  failure: Schema.String,
  success: User,
  payload: { id: Schema.Number }
}) {
  [PrimaryKey.symbol]() {
    return `user-${this.id}`
  }
}

const keyValueStoreContract = <E>(
  name: string,
  layer: Layer.Layer<KeyValueStore.KeyValueStore | Plain | Memcached, E>,
  live: boolean
) =>
  layerSuite(layer, { excludeTestServices: live })(name, (it) => {
    it.effect("get / set / remove / has for strings", () =>
      Effect.gen(function*() {
        const kv = yield* KeyValueStore.KeyValueStore
        assertNone(yield* kv.get("s"))
        assert.isFalse(yield* kv.has("s"))
        yield* kv.set("s", "héllo wörld")
        assertSome(yield* kv.get("s"), "héllo wörld")
        assert.isTrue(yield* kv.has("s"))
        yield* kv.set("s", "")
        assertSome(yield* kv.get("s"), "")
        yield* kv.remove("s")
        assertNone(yield* kv.get("s"))
        yield* kv.remove("s") // removing a missing key is fine
      }))

    it.effect("bytes: getUint8Array gives them back; get reads them as UTF-8, strings read as bytes too", () =>
      Effect.gen(function*() {
        const kv = yield* KeyValueStore.KeyValueStore
        const binary = new Uint8Array([0, 1, 2, 255, 254])
        yield* kv.set("b", binary)
        assertSome(yield* kv.getUint8Array("b"), binary)
        yield* kv.set("b2", encoder.encode("text as bytes"))
        assertSome(yield* kv.get("b2"), "text as bytes")
        yield* kv.set("s2", "€")
        assertSome(yield* kv.getUint8Array("s2"), new Uint8Array([0xe2, 0x82, 0xac]))
        assertNone(yield* kv.getUint8Array("missing"))
      }))

    it.effect("modify and modifyUint8Array: the new value, or none for a missing key", () =>
      Effect.gen(function*() {
        const kv = yield* KeyValueStore.KeyValueStore
        yield* kv.set("m", "a")
        assertSome(yield* kv.modify("m", (s) => s + "b"), "ab")
        assertSome(yield* kv.get("m"), "ab")
        assertNone(yield* kv.modify("m-missing", (s) => s + "b"))
        assertNone(yield* kv.get("m-missing"))
        yield* kv.set("mb", new Uint8Array([1]))
        assertSome(yield* kv.modifyUint8Array("mb", (b) => new Uint8Array([...b, 2])), new Uint8Array([1, 2]))
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
        assertNone(yield* kv.get("c1"))
        assertNone(yield* kv.get("c2"))
        assertSome(yield* plain.get("c1"), "plain")
        assert.isTrue(Option.isSome(yield* memcached.get("c1")), "no flush_all")
        yield* kv.set("c1", "again")
        assertSome(yield* kv.get("c1"), "again")
      }))

    it.effect("size and isEmpty cannot be known in memcached: SystemError Unknown; clear without a namespace too", () =>
      Effect.gen(function*() {
        const kv = yield* KeyValueStore.KeyValueStore
        const plain = yield* Plain
        for (const effect of [kv.size, kv.isEmpty, plain.size, plain.clear]) {
          const error = yield* Effect.flip(effect as Effect.Effect<unknown, PlatformError.PlatformError>)
          assert.isTrue(PlatformError.isPlatformError(error))
          assert.strictEqual(error._tag, "SystemError")
          assert.strictEqual((error as PlatformError.SystemError).reason, "Unknown")
          assert.strictEqual(error.module, "KeyValueStore")
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
        assertSome(yield* plain.get("from-elsewhere"), "written by another client")
        const server = yield* Effect.serviceOption(MemcachedServer)
        if (Option.isSome(server)) {
          // another client, over the ASCII protocol (the layer's keyPrefix is "kvs:")
          const ascii = Option.getOrThrow(yield* asciiGet(server.value.address, "kvs:raw-s"))
          assert.strictEqual(ascii.flags, 0)
          assert.strictEqual(ascii.bytes.toString("utf8"), "for other clients")
        }
      }))

    it.effect("failures are PlatformErrors with the original as cause", () =>
      Effect.gen(function*() {
        const kv = yield* KeyValueStore.KeyValueStore
        const invalid = yield* Effect.flip(kv.get("bad key"))
        assert.strictEqual(invalid._tag, "BadArgument")
        assert.instanceOf((invalid as PlatformError.BadArgument).cause, InvalidKey)
        const tooLarge = yield* Effect.flip(kv.set("big", new Uint8Array(2 * 1024 * 1024)))
        assert.strictEqual(tooLarge._tag, "BadArgument")
        assert.instanceOf((tooLarge as PlatformError.BadArgument).cause, ValueTooLarge)
      }))

    it.effect("forSchema: a SchemaStore over the store; a value that does not decode is a ParseError", () =>
      Effect.gen(function*() {
        const kv = yield* KeyValueStore.KeyValueStore
        const users = kv.forSchema(User)
        const ada = new User({ id: 1, name: "Ada", joined: new Date("2015-12-10T00:00:00Z") })
        yield* users.set("user:1", ada)
        assertSome(yield* users.get("user:1"), ada)
        assertSome(yield* kv.get("user:1"), JSON.stringify({ id: 1, name: "Ada", joined: "2015-12-10T00:00:00.000Z" }))
        assert.isTrue(yield* users.has("user:1"))
        const renamed = yield* users.modify("user:1", (u) => new User({ ...u, name: "Ada L." }))
        assert.strictEqual(Option.getOrThrow(renamed).name, "Ada L.")
        yield* kv.set("user:2", "{not json")
        assert.isTrue(ParseResult.isParseError(yield* Effect.flip(users.get("user:2"))))
        yield* users.remove("user:1")
        assertNone(yield* users.get("user:1"))

        const scoped = KeyValueStore.prefix(kv, "tenant-a:")
        yield* scoped.set("x", "1")
        assertSome(yield* kv.get("tenant-a:x"), "1")
      }))

    it.scoped("@effect/experimental Persistence.layerResultKeyValueStore stores and reads exits through it", () =>
      Effect.gen(function*() {
        const persistence = yield* Persistence.ResultPersistence
        const store = yield* persistence.make({ storeId: "results:", timeToLive: () => "1 minute" })
        const ada = new User({ id: 1, name: "Ada", joined: new Date("2015-12-10T00:00:00Z") })
        assertNone(yield* store.get(new GetUser({ id: 1 })))
        yield* store.set(new GetUser({ id: 1 }), Exit.succeed(ada))
        yield* store.set(new GetUser({ id: 2 }), Exit.fail("no such user"))
        const one = Option.getOrThrow(yield* store.get(new GetUser({ id: 1 })))
        assert.isTrue(Exit.isSuccess(one))
        assert.deepStrictEqual((one as Exit.Success<User, string>).value, ada)
        const two = Option.getOrThrow(yield* store.get(new GetUser({ id: 2 })))
        assert.deepStrictEqual(two, Exit.fail("no such user"))
        const kv = yield* KeyValueStore.KeyValueStore
        assert.isTrue(yield* kv.has("results:user-1"), "stored under <storeId><primary key>")
        yield* store.clear
        assertNone(yield* store.get(new GetUser({ id: 1 })))
      }).pipe(Effect.provide(Persistence.layerResultKeyValueStore)))
  })

keyValueStoreContract("KeyValueStore over MemcachedTest", stores(MemcachedTest), false)

const liveLayer = stores(
  Layer.unwrapEffect(
    Effect.map(MemcachedServer, (server) => Memcached.layer({ servers: server.address, keyPrefix: "kvs:" }))
  )
).pipe(Layer.provideMerge(MemcachedServer.layer))

keyValueStoreContract("KeyValueStore over real memcached", liveLayer, true)

describe("KeyValueStore errors from memcached", () => {
  it.live("a MemcachedError becomes a SystemError with the MemcachedError as cause", () =>
    Effect.gen(function*() {
      const down = Memcached.layer({ servers: "127.0.0.1:1", timeout: "200 millis" })
      const error = yield* Effect.flip(
        Effect.flatMap(KeyValueStore.KeyValueStore, (kv) => kv.get("k")).pipe(
          Effect.provide(layerKeyValueStore().pipe(Layer.provide(down)))
        )
      )
      assert.strictEqual(error._tag, "SystemError")
      assert.strictEqual((error as PlatformError.SystemError).method, "get")
      assert.instanceOf((error as PlatformError.SystemError).cause, MemcachedError)
    }))
})
