/**
 * `npm start`: the cache end to end. With MEMCACHED_SERVERS set it talks to those servers (MemcachedLive reads the
 * rest of its configuration from the environment too); without it, it runs on the in-memory store and says so.
 */
import { NodeRuntime } from "@effect/platform-node"
import { type ConfigError, Console, Effect, Layer, Option, Schema } from "effect"
import { Cache, Memcached, MemcachedCache, type MemcachedError, MemcachedLive, MemcachedTest } from "../src/index.js"

const servers = process.env.MEMCACHED_SERVERS

const User = Schema.Struct({ id: Schema.Number, name: Schema.String, joined: Schema.Date })

const program = Effect.gen(function*() {
  const cache = yield* Cache

  yield* Console.log("1. set and get a structured value (Date, Map and BigInt survive the round trip)")
  yield* cache.set("example:profile", {
    joined: new Date("2024-02-29T12:00:00Z"),
    tags: new Map([["lang", "ts"]]),
    visits: 12n
  })
  yield* Console.log("   ->", Option.getOrUndefined(yield* cache.get("example:profile")))

  yield* Console.log("2. a miss: Option.none from get, the default from getOrElse, CacheNotFound from getOrFail")
  yield* Console.log(
    "   ->",
    Option.isNone(yield* cache.get("example:missing")),
    yield* cache.getOrElse("example:missing", () => "default")
  )
  const notFound = yield* cache.getOrFail("example:missing").pipe(
    Effect.as("unexpected hit"),
    Effect.catchTag("CacheNotFound", (error) => Effect.succeed(`${error._tag}: ${error.message}`))
  )
  yield* Console.log("   ->", notFound)

  yield* Console.log("3. getOrSet: three concurrent callers, one computation")
  let computed = 0
  const slowLookup = Effect.sync(() => ++computed).pipe(Effect.delay("50 millis"), Effect.as("expensive result"))
  const results = yield* Effect.all(
    Array.from({ length: 3 }, () => cache.getOrSet("example:lookup", slowLookup, { ttl: "1 minute" })),
    {
      concurrency: "unbounded"
    }
  )
  yield* Console.log("   ->", results, `computed ${computed} time(s)`)

  yield* Console.log("4. a typed view through Schema")
  const users = cache.typed(User)
  yield* users.set("example:user:1", { id: 1, name: "Ada", joined: new Date("2015-12-10T00:00:00Z") })
  yield* Console.log("   ->", yield* users.getOrFail("example:user:1"))

  yield* Console.log("5. getMany / setMany in one batch per server, updateTimeout in one round trip, remove")
  yield* cache.setMany([["example:a", 1], ["example:b", 2]], { ttl: "30 seconds" })
  yield* Console.log("   ->", yield* cache.getMany(["example:a", "example:b", "example:c"]))
  yield* Console.log("   -> updateTimeout returns", yield* cache.updateTimeout("example:a", "2 minutes"))
  yield* Console.log("   -> remove(a, c) =", yield* cache.remove("example:a", "example:c"), "(c did not exist)")

  yield* Console.log("6. bad input is a typed error, and nothing is sent")
  const invalid = yield* Effect.flip(cache.set("has a space", 1))
  yield* Console.log("   ->", invalid._tag, invalid.message)

  yield* Console.log("7. memcached's own counters, exact above 2^32")
  const memcached = yield* Memcached
  yield* memcached.delete("example:counter")
  const first = yield* memcached.increment("example:counter", 1, { initial: 4294967295n })
  const second = yield* memcached.increment("example:counter", 1)
  yield* Console.log("   ->", Option.getOrUndefined(first), "then", Option.getOrUndefined(second))
})

const facade = Effect.promise(async () => {
  await using rc = new MemcachedCache(servers ? { servers, serializer: "json" } : { layer: MemcachedTest })
  await rc.set("example:hello", "world", 60)
  const value = await rc.get("example:hello")
  const fallback = await rc.get("example:nothing", "fallback")
  return `8. the Promise facade: get("example:hello") = ${JSON.stringify(value)}, a miss with a default = ${
    JSON.stringify(fallback)
  }`
}).pipe(Effect.flatMap(Console.log))

const layer: Layer.Layer<Cache | Memcached, MemcachedError | ConfigError.ConfigError> = servers
  ? MemcachedLive
  : MemcachedTest
const banner = servers
  ? Console.log(`Using memcached at ${servers} (MEMCACHED_SERVERS).\n`)
  : Console.log(
    "MEMCACHED_SERVERS is not set: running on the embedded in-memory store (MemcachedTest).\n" +
      "Set MEMCACHED_SERVERS=host:11211 to run the same program against real memcached.\n"
  )

banner.pipe(
  Effect.zipRight(program.pipe(Effect.provide(Layer.fresh(layer)))),
  Effect.zipRight(facade),
  Effect.zipRight(Console.log("\nDone.")),
  Effect.catchTag(
    "MemcachedError",
    (error) =>
      Console.error(
        `\n${error.message}\nIs memcached running there? Unset MEMCACHED_SERVERS to try the in-memory store.`
      ).pipe(
        Effect.zipRight(Effect.sync(() => {
          process.exitCode = 1
        }))
      )
  ),
  NodeRuntime.runMain
)
