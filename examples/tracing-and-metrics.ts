/**
 * Spans and metrics: every `Memcached` operation is one client span, named by the operation (`get`, `set`, …), with
 * OpenTelemetry's database attributes, and updates `CacheMetrics` (`db.client.operation.duration`, hits, misses). Here a small tracer prints each span as it ends; in production you would
 * provide `@effect/opentelemetry`'s `NodeSdk.layer` instead and export both.
 *
 *   npx tsx examples/tracing-and-metrics.ts                                # in-memory store
 *   MEMCACHED_SERVERS=127.0.0.1:11211 npx tsx examples/tracing-and-metrics.ts
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, Metric, Tracer } from "effect"
import { Cache, CacheMetrics, type LayerOptions, Serializer } from "../src/index.js"

const servers = process.env.MEMCACHED_SERVERS
const observability: LayerOptions = {
  spanAttributes: { "peer.service": "example" }, // added to every span
  spanKeys: true // keys in spans (off by default: keys can carry personal data); values never are
}
const layer = (servers ? Cache.layerMemcached({ servers, ...observability }) : Cache.layerMemory(observability)).pipe(
  Layer.provideMerge(Serializer.structured)
)

/** Wraps the current tracer so that every span is printed when it ends. */
const printingTracer = Effect.map(Effect.tracer, (inner) =>
  Tracer.make({
    context: inner.context,
    span(name, parent, context, links, startTime, kind, options) {
      const span = inner.span(name, parent, context, links, startTime, kind, options)
      const end = span.end.bind(span)
      span.end = (endTime, exit) => {
        end(endTime, exit)
        const millis = (Number(endTime - startTime) / 1e6).toFixed(2)
        const attributes = JSON.stringify(Object.fromEntries(span.attributes))
        process.stdout.write(`  span ${name} (${kind}, ${exit._tag}, ${millis} ms) ${attributes}\n`)
      }
      return span
    }
  }))

const program = Effect.gen(function*() {
  const cache = yield* Cache
  yield* Console.log("getOrSet on a miss: a get, then a set")
  yield* cache.getOrSet("example:answer", Effect.succeed(42), { ttl: "1 minute" })
  yield* Console.log("getMany of three keys, one found: one batch span")
  yield* cache.getMany(["example:answer", "example:nope", "example:nada"])
  yield* Console.log("a bad key fails before anything is sent; the span records the failure")
  yield* Effect.ignore(cache.get("has a space"))
}).pipe(Effect.withSpan("example.request"))

const report = Effect.gen(function*() {
  const count = (metric: Metric.Metric.Counter<number>) => Effect.map(Metric.value(metric), (state) => state.count)
  yield* Console.log("\nCacheMetrics (read with Metric.value):")
  yield* Console.log(
    "  get:     hits",
    yield* count(CacheMetrics.hitsOf("get")),
    "misses",
    yield* count(CacheMetrics.missesOf("get"))
  )
  yield* Console.log(
    "  getMany: hits",
    yield* count(CacheMetrics.hitsOf("getMany")),
    "misses",
    yield* count(CacheMetrics.missesOf("getMany"))
  )
  const invalid = yield* Metric.value(CacheMetrics.durationOf("get", { errorType: "InvalidKey" }))
  yield* Console.log("  get failed with error.type InvalidKey:", invalid.count)
  const duration = yield* Metric.value(CacheMetrics.durationOf("set"))
  yield* Console.log(`  set duration: ${duration.count} operation(s), max ${(duration.max * 1000).toFixed(3)} ms`)
})

Effect.gen(function*() {
  yield* Console.log(
    servers
      ? `Using memcached at ${servers}.\n`
      : "Running on the in-memory store (set MEMCACHED_SERVERS for real memcached).\n"
  )
  const tracer = yield* printingTracer
  yield* program.pipe(Effect.provide(layer), Effect.withTracer(tracer))
  yield* report
}).pipe(NodeRuntime.runMain)
