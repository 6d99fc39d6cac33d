/**
 * A `PersistedCache` (`@effect/experimental`) whose results live in memcached: every process that uses the same
 * servers shares them, for as long as `timeToLive` says.
 *
 *   npx tsx examples/persisted-cache.ts                                # in-memory store
 *   MEMCACHED_SERVERS=127.0.0.1:11211 npx tsx examples/persisted-cache.ts   # run it twice: the second run looks up nothing
 */
import { PersistedCache } from "@effect/experimental"
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, PrimaryKey, Schema } from "effect"
import { Memcached } from "../src/index.js"
import * as MemcachedPersistence from "../src/MemcachedPersistence.js"

const servers = process.env.MEMCACHED_SERVERS
const PersistenceLive = MemcachedPersistence.layer.pipe(
  Layer.provide(servers ? Memcached.layer({ servers }) : Memcached.layerMemory())
)

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
  const prices = yield* PersistedCache.make({
    storeId: "prices",
    lookup: (request: GetPrice) => Effect.as(Console.log(`looking up ${request.sku}`), request.sku.length * 1.25),
    timeToLive: () => "1 minute"
  })
  yield* Console.log("book:", yield* prices.get(new GetPrice({ sku: "book" })))
  yield* Console.log("book again (no lookup):", yield* prices.get(new GetPrice({ sku: "book" })))
})

program.pipe(Effect.scoped, Effect.provide(PersistenceLive), NodeRuntime.runMain)
