/**
 * Spans and metrics of the Effect 4 line: one client span per `Memcached` operation with the OpenTelemetry attributes
 * (the server's address from the real backend), no key or value in spans unless asked, none at all with
 * `tracing: false`; hits, misses, errors and latency by operation.
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { Cause, Effect, Exit, Layer, Metric, Tracer } from "effect"
import { TestClock } from "effect/testing"
import { inspect } from "node:util"
import { Cache, CacheMetrics, Memcached, Serializer, SpanAttributes } from "../src/index.js"
import { MemcachedServer } from "./support/MemcachedServer.js"

/** A tracer that keeps every span it makes. */
const recording = () => {
  const spans: Array<Tracer.NativeSpan> = []
  const tracer = Tracer.make({
    span: (options) => {
      const span = new Tracer.NativeSpan(options)
      spans.push(span)
      return span
    }
  })
  const memcachedSpans = () => spans.filter((span) => span.name.startsWith("memcached."))
  const dump = () =>
    spans.map((span) => {
      const exit = span.status._tag === "Ended" ? span.status.exit : undefined
      const cause = exit && Exit.isFailure(exit)
        ? `${Cause.pretty(exit.cause)} ${inspect(exit.cause, { depth: 8 })}`
        : ""
      return `${span.name} ${inspect(span.attributes, { depth: 8 })} ${cause}`
    }).join("\n")
  return { tracer, spans, memcachedSpans, dump }
}

const traced = (tracer: Tracer.Tracer) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.provideService(effect, Tracer.Tracer, tracer)

const secret = "s3cr3t-value"

describe("spans (Effect 4)", () => {
  layer(MemcachedServer.layer, { excludeTestServices: true })((it) => {
    it.effect("one client span per operation, memcached.<op>, with the server; no key or value by default", () =>
      Effect.gen(function*() {
        const server = yield* MemcachedServer
        const record = recording()
        yield* Effect.gen(function*() {
          const cache = yield* Cache
          yield* cache.set("secret-key", secret)
          yield* cache.get("secret-key")
          yield* Effect.flip(cache.get("bad key"))
        }).pipe(
          traced(record.tracer),
          Effect.provide(Cache.layerMemcached({ servers: server.address }).pipe(Layer.provide(Serializer.structured)))
        )
        const spans = record.memcachedSpans()
        assert.deepStrictEqual(spans.map((span) => span.name), ["memcached.set", "memcached.get", "memcached.get"])
        const [set, get] = spans
        assert.strictEqual(get!.kind, "client")
        assert.strictEqual(get!.attributes.get(SpanAttributes.system), "memcached")
        assert.strictEqual(get!.attributes.get(SpanAttributes.operation), "get")
        assert.strictEqual(get!.attributes.get(SpanAttributes.serverAddress), server.host)
        assert.strictEqual(get!.attributes.get(SpanAttributes.serverPort), server.port)
        assert.strictEqual(set!.status._tag, "Ended")
        const text = record.dump()
        assert.notInclude(text, secret)
        assert.notInclude(text, "secret-key")
        assert.notInclude(text, "bad key")
        assert.include(text, "InvalidKey")
      }))
  })

  it.effect("spanKeys: true puts the key in the span; tracing: false makes none", () =>
    Effect.gen(function*() {
      const withKeys = recording()
      yield* Effect.flatMap(Memcached, (memcached) => memcached.get("visible")).pipe(
        traced(withKeys.tracer),
        Effect.provide(Memcached.layerMemory({ spanKeys: true }))
      )
      assert.strictEqual(withKeys.memcachedSpans()[0]?.attributes.get(SpanAttributes.key), "visible")
      const off = recording()
      yield* Effect.flatMap(Memcached, (memcached) => memcached.get("k")).pipe(
        traced(off.tracer),
        Effect.provide(Memcached.layerMemory({ tracing: false }))
      )
      assert.strictEqual(off.memcachedSpans().length, 0)
    }))
})

describe("metrics (Effect 4)", () => {
  it.effect("hits, misses, errors by reason, and latency by operation", () =>
    Effect.gen(function*() {
      const before = {
        hits: (yield* Metric.value(CacheMetrics.hitsOf("getMany"))).count,
        misses: (yield* Metric.value(CacheMetrics.missesOf("getMany"))).count,
        errors: (yield* Metric.value(CacheMetrics.errorsOf("get", "InvalidKey"))).count,
        latency: (yield* Metric.value(CacheMetrics.latencyOf("set"))).count
      }
      yield* Effect.gen(function*() {
        const memcached = yield* Memcached
        const one = new TextEncoder().encode("1")
        yield* memcached.set("a", one)
        yield* memcached.set("b", one)
        yield* memcached.getMany(["a", "b", "c"])
        yield* Effect.flip(memcached.get(""))
        yield* TestClock.adjust("1 second")
      }).pipe(Effect.provide(Memcached.layerMemory()))
      assert.strictEqual((yield* Metric.value(CacheMetrics.hitsOf("getMany"))).count - before.hits, 2)
      assert.strictEqual((yield* Metric.value(CacheMetrics.missesOf("getMany"))).count - before.misses, 1)
      assert.strictEqual((yield* Metric.value(CacheMetrics.errorsOf("get", "InvalidKey"))).count - before.errors, 1)
      assert.strictEqual((yield* Metric.value(CacheMetrics.latencyOf("set"))).count - before.latency, 2)
    }))

  it.effect("metrics: false leaves them alone", () =>
    Effect.gen(function*() {
      const before = (yield* Metric.value(CacheMetrics.missesOf("get"))).count
      yield* Effect.flatMap(Memcached, (memcached) => memcached.get("nothing")).pipe(
        Effect.provide(Memcached.layerMemory({ metrics: false }))
      )
      assert.strictEqual((yield* Metric.value(CacheMetrics.missesOf("get"))).count, before)
    }))
})
