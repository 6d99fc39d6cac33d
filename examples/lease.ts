/**
 * Stampede protection across processes: `getOrSet(key, compute, { lease: true })`. On a miss, the caller takes a
 * short lease (`<key>:lease`, memcached `add`); the one that gets it computes, the others wait for its value.
 *
 * Each "process" here is its own `Cache` over one store: with MEMCACHED_SERVERS, its own layer and memjs client; on
 * the in-memory store, its own `Cache.make` over the shared fake (so no in-process single flight helps them).
 *
 *   npx tsx examples/lease.ts                                # in-memory store
 *   MEMCACHED_SERVERS=127.0.0.1:11211 npx tsx examples/lease.ts
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Context, Effect, Layer, type Scope } from "effect"
import { Cache, type CacheService, Memcached, MemcachedTest, Serializer } from "../src/index.js"

const servers = process.env.MEMCACHED_SERVERS
const PROCESSES = 6

/** `PROCESSES` caches over one store, each as independent as a separate process. */
const processes: Effect.Effect<ReadonlyArray<CacheService>, unknown, Scope.Scope> = servers
  ? Effect.forEach(Array.from({ length: PROCESSES }), () =>
    Effect.map(
      Layer.build(Cache.layerMemcached({ servers }).pipe(Layer.provide(Serializer.structured))),
      (context) => Context.get(context, Cache)
    ))
  : Effect.gen(function*() {
    const context = yield* Layer.build(MemcachedTest)
    const memcached = Context.get(context, Memcached)
    const serializer = Context.get(context, Serializer)
    return yield* Effect.forEach(Array.from({ length: PROCESSES }), () => Cache.make(memcached, serializer))
  })

const stampede = (caches: ReadonlyArray<CacheService>, key: string, lease: boolean) =>
  Effect.gen(function*() {
    let computations = 0
    const report = Effect.sync(() => ++computations).pipe(
      Effect.zipRight(Effect.sleep("200 millis")),
      Effect.as("report")
    )
    yield* caches[0].remove(key)
    yield* Effect.forEach(caches, (cache) => cache.getOrSet(key, report, { ttl: "1 minute", lease }), {
      concurrency: "unbounded"
    })
    return computations
  })

Effect.gen(function*() {
  const caches = yield* processes
  yield* Console.log(`${PROCESSES} processes miss one key at once:`)
  yield* Console.log("  without a lease, computations:", yield* stampede(caches, "example:report", false))
  yield* Console.log("  with lease: true, computations:", yield* stampede(caches, "example:report", true))
  yield* Console.log("  (a holder slower than `wait` — 2 s by default — lets the others compute themselves)")
}).pipe(Effect.scoped, NodeRuntime.runMain)
