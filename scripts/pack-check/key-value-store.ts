// The optional KeyValueStore adapter, from its own subpath, once @effect/platform is installed.
import * as KeyValueStore from "@effect/platform/KeyValueStore"
import { Effect, Layer } from "effect"
import { MemcachedLive } from "effect-memcached"
import { layerKeyValueStore } from "effect-memcached/KeyValueStore"

const program = Effect.gen(function*() {
  const kv = yield* KeyValueStore.KeyValueStore
  yield* kv.set("pack-check:kv", "payload")
  return yield* kv.get("pack-check:kv")
})

const value = await Effect.runPromise(
  program.pipe(Effect.provide(layerKeyValueStore({ namespace: "pack-check" }).pipe(Layer.provide(MemcachedLive))))
)
if (value._tag !== "Some" || value.value !== "payload") throw new Error(`unexpected: ${JSON.stringify(value)}`)
console.log("KeyValueStore: ok (real memcached)")
