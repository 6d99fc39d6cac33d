// The optional Persistence backing, from its own subpath, once @effect/experimental is installed.
import * as PersistedCache from "@effect/experimental/PersistedCache"
import { Effect, Layer, PrimaryKey, Schema } from "effect"
import { Memcached } from "effect-memcached"
import * as MemcachedPersistence from "effect-memcached/MemcachedPersistence"

class GetSquare extends Schema.TaggedRequest<GetSquare>()("GetSquare", {
  failure: Schema.String,
  success: Schema.Number,
  payload: { n: Schema.Number }
}) {
  [PrimaryKey.symbol]() {
    return `square-${this.n}`
  }
}

let lookups = 0
const program = Effect.gen(function*() {
  const squares = yield* PersistedCache.make({
    storeId: "pack-check",
    lookup: (request: GetSquare) =>
      Effect.sync(() => {
        lookups++
        return request.n * request.n
      }),
    timeToLive: () => "1 minute"
  })
  return yield* squares.get(new GetSquare({ n: 12 }))
})

const memcached = Memcached.layer({ servers: process.env.MEMCACHED_SERVERS ?? "localhost:11211" })
const run = () =>
  Effect.runPromise(
    program.pipe(Effect.scoped, Effect.provide(MemcachedPersistence.layer.pipe(Layer.provide(memcached))))
  )
const first = await run()
const second = await run()
if (first !== 144 || second !== 144 || lookups !== 1) throw new Error(`unexpected: ${first} ${second} ${lookups}`)
console.log("MemcachedPersistence: ok (real memcached, one lookup for two runs)")
