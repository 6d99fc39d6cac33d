/**
 * `Cache.cached`: memoize an Effect-returning function through the cache (privex's `r_cache` decorator), and the
 * facade's `rc.cached` for async functions. Falsy results (0, "", false, null) are cached like any other.
 *
 *   npx tsx examples/cached.ts                                # in-memory store
 *   MEMCACHED_SERVERS=127.0.0.1:11211 npx tsx examples/cached.ts
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, Option } from "effect"
import { Cache, MemcachedCache, MemcachedTest, Serializer } from "../src/index.js"

const servers = process.env.MEMCACHED_SERVERS
const layer = servers ? Cache.layerMemcached({ servers }).pipe(Layer.provide(Serializer.structured)) : MemcachedTest

let lookups = 0
/** A slow lookup that we would rather not repeat. */
const findUser = (id: number) =>
  Effect.sync(() => ++lookups).pipe(
    Effect.delay("100 millis"),
    Effect.as(id === 0 ? null : { id, name: `user ${id}` })
  )

// A prefix key: calls become "example:user:[42]", "example:user:[0]", …
const cachedUser = Cache.cached(findUser, { key: "example:user", ttl: "1 minute" })
// A key function, for readable keys (or arguments JSON cannot represent).
const cachedName = Cache.cached((id: number) => Effect.map(findUser(id), (user) => user?.name ?? ""), {
  key: (id) => `example:name:${id}`,
  ttl: "1 minute"
})

const program = Effect.gen(function*() {
  yield* Effect.ignore(Cache.remove("example:user:[42]", "example:user:[0]", "example:name:7"))
  yield* Console.log(
    "three concurrent calls for user 42:",
    yield* Effect.all([cachedUser(42), cachedUser(42), cachedUser(42)], { concurrency: "unbounded" })
  )
  yield* Console.log("again:", yield* cachedUser(42))
  yield* Console.log("user 0 is null, and null is cached too:", yield* cachedUser(0), yield* cachedUser(0))
  yield* Console.log(
    "with a key function:",
    yield* cachedName(7),
    "stored under example:name:7 ->",
    Option.getOrNull(yield* Cache.get("example:name:7"))
  )
  yield* Console.log(`lookups made: ${lookups} (one per distinct key)`)
})

const facade = Effect.promise(async () => {
  await using rc = new MemcachedCache(servers ? { servers } : { layer: MemcachedTest })
  let calls = 0
  const price = rc.cached(async (sku: string) => {
    calls++
    return sku === "free" ? 0 : 9.99
  }, { key: "example:price", ttl: 60 }) // ttl in seconds, as everywhere in the facade
  await rc.remove("example:price:[\"free\"]")
  const prices = [await price("free"), await price("free"), await price("book")]
  return `facade: prices ${JSON.stringify(prices)}, computed ${calls} time(s)`
}).pipe(Effect.flatMap(Console.log))

program.pipe(Effect.provide(layer), Effect.zipRight(facade), NodeRuntime.runMain)
