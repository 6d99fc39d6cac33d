/**
 * Namespaces: `cache.namespace("users")` is a cache whose keys live under `users:<version>:`, and `clear()`
 * invalidates only them, with one atomic increment of `users:_version` — no flush_all, nothing else touched.
 *
 *   npx tsx examples/namespaces.ts                                # in-memory store
 *   MEMCACHED_SERVERS=127.0.0.1:11211 npx tsx examples/namespaces.ts
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, Option } from "effect"
import { Cache, Memcached, MemcachedCache, MemcachedTest, Serializer } from "../src/index.js"

const servers = process.env.MEMCACHED_SERVERS
const layer = servers ? Cache.layerMemcached({ servers }).pipe(Layer.provide(Serializer.structured)) : MemcachedTest

const program = Effect.gen(function*() {
  const cache = yield* Cache
  const users = cache.namespace("example-users")
  const posts = cache.namespace("example-posts")

  yield* users.set("1", { name: "Ada" })
  yield* posts.set("1", { title: "Hello" })
  yield* cache.set("example-plain", "a plain key")
  yield* Console.log("before clear:", Option.getOrNull(yield* users.get("1")), Option.getOrNull(yield* posts.get("1")))

  yield* users.clear
  yield* Console.log("after users.clear:")
  yield* Console.log("  users 1 ->", Option.getOrNull(yield* users.get("1")))
  yield* Console.log("  posts 1 ->", Option.getOrNull(yield* posts.get("1")), "(other namespaces stay)")
  yield* Console.log("  plain   ->", Option.getOrNull(yield* cache.get("example-plain")), "(plain keys stay)")

  const memcached = yield* Memcached
  const version = yield* memcached.get("example-users:_version")
  yield* Console.log(
    "the namespace's version is now",
    Option.getOrNull(Option.map(version, (item) => new TextDecoder().decode(item.value)))
  )
  yield* Console.log(
    "other processes see a clear within versionTtl (1 s by default); cache.namespace(name, { versionTtl: 0 }) reads it every time"
  )
})

const facade = Effect.promise(async () => {
  await using rc = new MemcachedCache(servers ? { servers } : { layer: MemcachedTest })
  const sessions = rc.namespace("example-sessions")
  await sessions.set("abc", { user: 1 }, 60)
  const before = await sessions.get("abc")
  await sessions.clear()
  return `facade: ${JSON.stringify(before)} before clear(), ${JSON.stringify(await sessions.get("abc"))} after`
}).pipe(Effect.flatMap(Console.log))

program.pipe(Effect.provide(layer), Effect.zipRight(facade), NodeRuntime.runMain)
