// An Effect program as a user writes it against the installed tarball: Cache, a typed view, a typed miss, and the
// layer picked by MEMCACHED_SERVERS (real memcached through MemcachedLive, else the in-memory MemcachedTest).
import { Effect, Option, Schema } from "effect"
import { Cache, CacheNotFound, MemcachedLive, MemcachedTest } from "effect-memcached"

const User = Schema.Struct({ id: Schema.Number, name: Schema.String })

const program = Effect.gen(function*() {
  const cache = yield* Cache
  yield* cache.set("pack-check:greeting", { text: "hello", at: new Date(0) }, { ttl: "10 minutes" })
  const hit = yield* cache.get("pack-check:greeting")
  const users = cache.typed(User)
  const ada = yield* users.getOrSet("pack-check:user", Effect.succeed({ id: 1, name: "Ada" }), { ttl: "1 hour" })
  const miss = yield* Effect.flip(cache.getOrFail("pack-check:missing"))
  yield* cache.remove("pack-check:greeting", "pack-check:user")
  return { hit: Option.isSome(hit), name: ada.name, miss: miss instanceof CacheNotFound }
})

const layer = process.env.MEMCACHED_SERVERS ? MemcachedLive : MemcachedTest
const result = await Effect.runPromise(Effect.provide(program, layer))
if (!result.hit || result.name !== "Ada" || !result.miss) throw new Error(`unexpected: ${JSON.stringify(result)}`)
console.log(`effect program: ok (${process.env.MEMCACHED_SERVERS ? "real memcached" : "in memory"})`)
