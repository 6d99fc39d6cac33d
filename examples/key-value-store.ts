/**
 * memcached as an `@effect/platform` `KeyValueStore`, so Effect's own KeyValueStore-based tools run on it:
 * `KeyValueStore.forSchema`, and `@effect/experimental`'s `Persistence.layerResultKeyValueStore`.
 *
 *   npx tsx examples/key-value-store.ts                                # in-memory store
 *   MEMCACHED_SERVERS=127.0.0.1:11211 npx tsx examples/key-value-store.ts
 */
import { Persistence } from "@effect/experimental"
import { KeyValueStore } from "@effect/platform"
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Exit, Layer, Option, PrimaryKey, Schema } from "effect"
import { Memcached, MemcachedTest } from "../src/index.js"
import { layerKeyValueStore } from "../src/KeyValueStore.js"

const servers = process.env.MEMCACHED_SERVERS
const memcached = servers ? Memcached.layer({ servers }) : MemcachedTest

// A namespace makes `clear` work (a version bump); values are stored raw with flags 0 and never expire by default.
const KeyValueStoreLive = layerKeyValueStore({ namespace: "example-kv" }).pipe(Layer.provide(memcached))

class Settings
  extends Schema.Class<Settings>("Settings")({ theme: Schema.Literal("light", "dark"), fontSize: Schema.Number })
{}

class GetPrice extends Schema.TaggedRequest<GetPrice>()("GetPrice", {
  failure: Schema.String,
  success: Schema.Number,
  payload: { sku: Schema.String }
}) {
  [PrimaryKey.symbol]() {
    return this.sku
  }
}

const program = Effect.gen(function*() {
  const kv = yield* KeyValueStore.KeyValueStore
  yield* kv.set("greeting", "hello from memcached")
  yield* Console.log("get:", Option.getOrNull(yield* kv.get("greeting")))

  const settings = kv.forSchema(Settings)
  yield* settings.set("user-1", new Settings({ theme: "dark", fontSize: 14 }))
  yield* Console.log(
    "forSchema:",
    Option.getOrNull(yield* settings.get("user-1")),
    "stored as",
    Option.getOrNull(yield* kv.get("user-1"))
  )

  const size = yield* Effect.flip(kv.size)
  yield* Console.log(`size: ${size._tag} (${size.message})`)

  const results = yield* (yield* Persistence.ResultPersistence).make({
    storeId: "prices:",
    timeToLive: () => "1 minute"
  })
  yield* results.set(new GetPrice({ sku: "book" }), Exit.succeed(9.99))
  yield* Console.log("Persistence:", Option.getOrNull(yield* results.get(new GetPrice({ sku: "book" }))))

  yield* kv.clear
  yield* Console.log("after clear:", Option.getOrNull(yield* kv.get("greeting")))
})

program.pipe(
  Effect.scoped,
  Effect.provide(Persistence.layerResultKeyValueStore.pipe(Layer.provideMerge(KeyValueStoreLive))),
  NodeRuntime.runMain
)
