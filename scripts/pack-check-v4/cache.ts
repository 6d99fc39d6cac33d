// The Effect 4 line's product as a user writes it (issue 24's "done"): Cache over Memcached.layer on a real memcached,
// the same program on MemcachedTest in memory, and a typed miss (CacheNotFound). pack-check-v4.sh runs it once
// effect4/src/Cache.ts exists.
import { Effect, Layer, Option } from "effect"
import { Cache, CacheNotFound, Memcached, MemcachedTest, Serializer } from "effect-memcached"

const program = Effect.gen(function*() {
  const cache = yield* Cache
  yield* cache.set("pack-check-v4:greeting", { text: "hello", at: new Date(0) }, { ttl: "10 minutes" })
  const hit = yield* cache.get("pack-check-v4:greeting")
  const computed = yield* cache.getOrSet("pack-check-v4:computed", Effect.succeed(42), { ttl: "1 hour" })
  const miss = yield* Effect.flip(cache.getOrFail("pack-check-v4:missing"))
  yield* cache.remove("pack-check-v4:greeting", "pack-check-v4:computed")
  return { hit: Option.isSome(hit), computed, miss: miss instanceof CacheNotFound && miss._tag === "CacheNotFound" }
})

const servers = process.env.MEMCACHED_SERVERS
if (!servers) throw new Error("set MEMCACHED_SERVERS")
const live = Cache.layer.pipe(Layer.provideMerge(Memcached.layer({ servers })), Layer.provide(Serializer.structured))
for (const [name, layer] of [["real memcached", live], ["MemcachedTest", MemcachedTest]] as const) {
  const result = await Effect.runPromise(Effect.provide(program, layer))
  if (!result.hit || result.computed !== 42 || !result.miss) throw new Error(`${name}: ${JSON.stringify(result)}`)
  console.log(`cache program: ok (${name})`)
}
