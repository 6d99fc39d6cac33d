/**
 * Spans and metrics of the `Memcached` service, on the in-memory fake and on real memcached (with SASL): span names,
 * kinds, OpenTelemetry attributes, parents, no values / keys / passwords in spans, and metrics read back with
 * `Metric.value`.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Clock, Effect, Exit, Layer, Metric, Option, Redacted } from "effect"
import * as net from "node:net"
import {
  Cache,
  CacheMetrics,
  InvalidKey,
  type LayerOptions,
  Memcached,
  MemcachedError,
  Serializer,
  SpanAttributes,
  ValueTooLarge
} from "../src/index.js"
import { startMemcached } from "./support/MemcachedServer.js"
import { makeRecording, type RecordedSpan, traced } from "./support/recordingTracer.js"

const memory = (options: LayerOptions = {}) =>
  Cache.layerMemory(options).pipe(Layer.provideMerge(Serializer.structured))

const bytes = (text: string) => new TextEncoder().encode(text)

const VALUE_MARKER = "VALUE-4f1d9c-never-in-a-span"
const KEY_MARKER = "KEYMARK-82ab1e"
const PASSWORD = "pw-5e0c7a-never-in-a-span"

const attr = (span: RecordedSpan, name: string) => span.attributes.get(name)

const failureOf = (span: RecordedSpan): unknown => {
  assert.strictEqual(span.status._tag, "Ended")
  const exit = (span.status as { readonly exit: Exit.Exit<unknown, unknown> }).exit
  assert.isTrue(Exit.isFailure(exit), `${span.name} should have failed`)
  return Option.getOrUndefined(Cause.failureOption((exit as Exit.Failure<unknown, unknown>).cause))
}

/** A loopback port with nothing listening. */
const deadPort = Effect.async<number>((resume) => {
  const server = net.createServer()
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

const counter = (metric: Metric.Metric.Counter<number>) => Effect.map(Metric.value(metric), (state) => state.count)

const pair = (tags: ReadonlyArray<{ readonly key: string; readonly value: string }>) =>
  Object.fromEntries(tags.map((tag) => [tag.key, tag.value]))

describe("tracing", () => {
  it.effect("one client span per Memcached operation, named by it, with OpenTelemetry attributes", () => {
    const recording = makeRecording()
    return Effect.gen(function*() {
      const memcached = yield* Memcached
      yield* Effect.gen(function*() {
        yield* memcached.set("a", bytes("1"))
        yield* memcached.get("a")
        yield* memcached.getMany(new Set(["a", "b", "c"]))
        yield* memcached.setMany([["b", { value: bytes("2"), flags: 0 }], ["c", { value: bytes("3"), flags: 0 }]])
        yield* memcached.add("d", bytes("4"))
        yield* memcached.replace("d", bytes("5"))
        yield* memcached.touch("d", "1 minute")
        yield* memcached.getAndTouch("d", "1 minute")
        yield* memcached.increment("n", 1, { initial: 10 })
        yield* memcached.decrement("n", 1)
        yield* memcached.delete("d")
        yield* memcached.deleteMany(["a", "b"])
        yield* memcached.version
        yield* memcached.flush
      }).pipe(Effect.withSpan("caller"))

      const caller = recording.spans.find((span) => span.name === "caller")!
      const spans = recording.memcachedSpans()
      assert.deepStrictEqual(spans.map((span) => span.name), [
        "set",
        "get",
        "getMany",
        "setMany",
        "add",
        "replace",
        "touch",
        "getAndTouch",
        "increment",
        "decrement",
        "delete",
        "deleteMany",
        "version",
        "flush"
      ])
      for (const span of spans) {
        assert.strictEqual(span.kind, "client")
        assert.strictEqual(attr(span, SpanAttributes.system), "memcached")
        assert.strictEqual(attr(span, "db.system.name"), "memcached")
        assert.strictEqual(attr(span, "db.operation.name"), span.name)
        assert.strictEqual(attr(span, "peer.service"), "sessions")
        assert.isFalse(span.attributes.has(SpanAttributes.key), `${span.name} has no key`)
        assert.isFalse(span.attributes.has(SpanAttributes.keys), `${span.name} has no keys`)
        assert.strictEqual(Option.getOrUndefined(span.parent)?.spanId, caller.spanId)
        assert.strictEqual(span.status._tag, "Ended")
      }
      const batch = (name: string) => attr(spans.find((span) => span.name === name)!, "db.operation.batch.size")
      assert.strictEqual(batch("getMany"), 3)
      assert.strictEqual(batch("setMany"), 2)
      assert.strictEqual(batch("deleteMany"), 2)
      assert.isUndefined(batch("get"))
      // Reads say what they found: a hit, and the rows of a batch.
      const get = spans.find((span) => span.name === "get")!
      assert.strictEqual(attr(get, SpanAttributes.hit), true)
      assert.strictEqual(attr(get, "db.response.returned_rows"), 1)
      assert.strictEqual(attr(spans.find((span) => span.name === "getMany")!, "db.response.returned_rows"), 1)
      assert.strictEqual(attr(spans.find((span) => span.name === "getAndTouch")!, "memcached.hit"), true)
      assert.isFalse(spans.find((span) => span.name === "set")!.attributes.has("memcached.hit"))
      for (const span of spans) assert.isFalse(span.attributes.has("error.type"), `${span.name} did not fail`)
    }).pipe(Effect.provide(memory({ spanAttributes: { "peer.service": "sessions" } })), traced(recording))
  })

  it.effect("Cache operations show the Memcached operations they make", () => {
    const recording = makeRecording()
    return Effect.gen(function*() {
      const cache = yield* Cache
      yield* cache.getOrSet("k", Effect.succeed(1))
      assert.deepStrictEqual(recording.memcachedSpans().map((span) => span.name), ["get", "set"])
      recording.clear()
      yield* cache.getOrSet("k", Effect.succeed(1))
      yield* cache.remove("k", "other")
      yield* cache.remove("k")
      const spans = recording.memcachedSpans()
      assert.deepStrictEqual(spans.map((span) => span.name), ["get", "deleteMany", "deleteMany"])
      assert.strictEqual(spans[0]!.attributes.get("memcached.hit"), true)
      assert.strictEqual(spans[1]!.attributes.get("db.operation.batch.size"), 2)
      assert.isFalse(spans[2]!.attributes.has("db.operation.batch.size"), "a batch of one key is not a batch")
    }).pipe(Effect.provide(memory()), traced(recording))
  })

  it.effect("no value and, by default, no key in any span, also when an operation fails", () => {
    const recording = makeRecording()
    return Effect.gen(function*() {
      const cache = yield* Cache
      yield* cache.set(`${KEY_MARKER}-ok`, { secret: VALUE_MARKER })
      yield* cache.get(`${KEY_MARKER}-ok`)
      yield* cache.setMany([[`${KEY_MARKER}-b`, VALUE_MARKER]])
      yield* cache.getMany([`${KEY_MARKER}-b`])

      const invalid = yield* Effect.flip(cache.get(`bad ${KEY_MARKER}`))
      assert.instanceOf(invalid, InvalidKey)
      assert.strictEqual(invalid.key, `bad ${KEY_MARKER}`, "the caller still gets the key")
      const tooLarge = yield* Effect.flip(cache.set(`${KEY_MARKER}-big`, VALUE_MARKER.repeat(100_000)))
      assert.instanceOf(tooLarge, ValueTooLarge)
      assert.strictEqual(tooLarge.key, `${KEY_MARKER}-big`)

      const dump = recording.dump()
      assert.include(dump, "db.operation.name", "the dump holds the attributes")
      assert.include(dump, "InvalidKey", "and the failures")
      assert.notInclude(dump, VALUE_MARKER)
      assert.notInclude(dump, KEY_MARKER)
      const spans = recording.memcachedSpans()
      const failedGet = spans.find((span) =>
        span.name === "get" && span.status._tag === "Ended" &&
        Exit.isFailure(span.status.exit)
      )!
      const recorded = failureOf(failedGet) as { readonly _tag: string; readonly message: string }
      assert.strictEqual(recorded._tag, "InvalidKey", "the span still says what failed")
      assert.strictEqual(attr(failedGet, SpanAttributes.errorType), "InvalidKey")
      const failedSet = spans.find((span) =>
        span.name === "set" && span.status._tag === "Ended" &&
        Exit.isFailure(span.status.exit)
      )!
      assert.strictEqual((failureOf(failedSet) as { readonly _tag: string })._tag, "ValueTooLarge")
      assert.strictEqual(attr(failedSet, "error.type"), "ValueTooLarge")
    }).pipe(Effect.provide(memory()), traced(recording))
  })

  it.effect("spanKeys: true adds memcached.key and memcached.keys (a plain string), never values", () => {
    const recording = makeRecording()
    return Effect.gen(function*() {
      const cache = yield* Cache
      yield* cache.set("user:1", VALUE_MARKER)
      yield* cache.getMany(["user:1", "user:2"])
      const failure = yield* Effect.flip(cache.get("bad key"))
      assert.instanceOf(failure, InvalidKey)

      const [set, getMany, get] = recording.memcachedSpans()
      assert.strictEqual(attr(set, SpanAttributes.key), "user:1")
      assert.strictEqual(attr(set, "memcached.key"), "user:1")
      assert.strictEqual(attr(getMany, "memcached.keys"), "user:1 user:2")
      assert.strictEqual(attr(getMany, "db.operation.batch.size"), 2)
      assert.strictEqual(attr(get, "memcached.key"), "bad key")
      assert.instanceOf(failureOf(get), InvalidKey)
      assert.include(recording.dump(), "bad key")
      assert.notInclude(recording.dump(), VALUE_MARKER)
    }).pipe(Effect.provide(memory({ spanKeys: true })), traced(recording))
  })

  it.effect("tracing: false makes no spans", () => {
    const recording = makeRecording()
    return Effect.gen(function*() {
      const cache = yield* Cache
      yield* cache.set("k", 1)
      yield* cache.get("k")
      assert.deepStrictEqual(recording.memcachedSpans(), [])
    }).pipe(Effect.provide(memory({ tracing: false })), traced(recording))
  })

  it.live("real memcached with SASL: the same spans, and no password or value in any span, also when auth fails", () => {
    const recording = makeRecording()
    return Effect.gen(function*() {
      const server = yield* startMemcached({ sasl: { username: "app", password: PASSWORD } })
      const layer = (password: string) =>
        Cache.layerMemcached({
          servers: server.address,
          username: "app",
          password: Redacted.make(password),
          spanAttributes: { "peer.service": "sessions" }
        }).pipe(Layer.provideMerge(Serializer.structured))

      yield* Effect.gen(function*() {
        const cache = yield* Cache
        yield* cache.set("sasl-k", { secret: VALUE_MARKER })
        assert.deepStrictEqual(Option.getOrUndefined(yield* cache.get("sasl-k")), { secret: VALUE_MARKER })
        yield* cache.getMany(["sasl-k", "sasl-missing"])
      }).pipe(Effect.provide(layer(PASSWORD)))

      const denied = yield* Effect.flip(Cache.get("sasl-k").pipe(Effect.provide(layer(`wrong-${PASSWORD}`))))
      assert.instanceOf(denied, MemcachedError)
      assert.strictEqual(denied.reason, "Auth")

      const spans = recording.memcachedSpans()
      assert.deepStrictEqual(spans.map((span) => span.name), [
        "set",
        "get",
        "getMany",
        "get"
      ])
      for (const span of spans) {
        assert.strictEqual(span.kind, "client")
        assert.strictEqual(attr(span, "db.system.name"), "memcached")
        assert.strictEqual(attr(span, "peer.service"), "sessions")
      }
      // Operations name the server they went to, batches too (a store's hook, see `instrument`).
      const [host, port] = server.address.split(":")
      for (const span of spans) {
        assert.strictEqual(attr(span, SpanAttributes.serverAddress), host, `${span.name} names its server`)
        assert.strictEqual(attr(span, SpanAttributes.serverPort), Number(port), `${span.name} names its port`)
      }
      assert.strictEqual(attr(spans[3]!, "error.type"), "Auth")
      const auth = failureOf(spans[3]) as { readonly _tag: string; readonly message: string }
      assert.strictEqual(auth._tag, "MemcachedError")
      assert.include(auth.message, "Auth")
      const dump = recording.dump()
      assert.notInclude(dump, PASSWORD)
      assert.notInclude(dump, VALUE_MARKER)
      assert.notInclude(dump, "sasl-k")
    }).pipe(Effect.scoped, traced(recording))
  })
})

const durationCount = (operation: string, series?: Parameters<typeof CacheMetrics.durationOf>[1]) =>
  Effect.map(Metric.value(CacheMetrics.durationOf(operation, series)), (state) => state.count)

describe("metrics", () => {
  it.effect("hits and misses of get, getMany and getAndTouch, by operation", () =>
    Effect.gen(function*() {
      const memcached = yield* Memcached
      const before = {
        getHits: yield* counter(CacheMetrics.hitsOf("get")),
        getMisses: yield* counter(CacheMetrics.missesOf("get")),
        manyHits: yield* counter(CacheMetrics.hitsOf("getMany")),
        manyMisses: yield* counter(CacheMetrics.missesOf("getMany")),
        gatMisses: yield* counter(CacheMetrics.missesOf("getAndTouch"))
      }
      yield* memcached.set("m-a", bytes("1"))
      yield* memcached.set("m-b", bytes("2"))
      yield* memcached.get("m-a")
      yield* memcached.get("m-a")
      yield* memcached.get("m-missing")
      yield* memcached.getMany(["m-a", "m-b", "m-c", "m-a"])
      yield* memcached.getAndTouch("m-missing", "1 minute")

      assert.strictEqual((yield* counter(CacheMetrics.hitsOf("get"))) - before.getHits, 2)
      assert.strictEqual((yield* counter(CacheMetrics.missesOf("get"))) - before.getMisses, 1)
      assert.strictEqual((yield* counter(CacheMetrics.hitsOf("getMany"))) - before.manyHits, 2)
      assert.strictEqual((yield* counter(CacheMetrics.missesOf("getMany"))) - before.manyMisses, 1)
      assert.strictEqual((yield* counter(CacheMetrics.missesOf("getAndTouch"))) - before.gatMisses, 1)

      // The same series, listed by Metric.snapshot with the conventions' labels.
      const snapshot = yield* Metric.snapshot
      const hits = snapshot.find((pair) =>
        pair.metricKey.name === "memcached.hits" &&
        pair.metricKey.tags.some((tag) => tag.key === "db.operation.name" && tag.value === "getMany")
      )!
      assert.deepStrictEqual(pair(hits.metricKey.tags), {
        "unit": "{key}",
        "db.system.name": "memcached",
        "db.operation.name": "getMany"
      })
    }).pipe(Effect.provide(memory())))

  it.effect("db.client.operation.duration, in seconds, counts every operation; failures by error.type", () =>
    Effect.gen(function*() {
      const memcached = yield* Memcached
      const before = {
        invalid: yield* durationCount("get", { errorType: "InvalidKey" }),
        tooLarge: yield* durationCount("set", { errorType: "ValueTooLarge" }),
        set: yield* durationCount("set")
      }
      yield* Effect.flip(memcached.get("bad key"))
      yield* Effect.flip(memcached.get(""))
      yield* Effect.flip(memcached.set("big", new Uint8Array(2 * 1024 * 1024)))
      yield* memcached.set("fine", bytes("x"))

      assert.strictEqual((yield* durationCount("get", { errorType: "InvalidKey" })) - before.invalid, 2)
      assert.strictEqual((yield* durationCount("set", { errorType: "ValueTooLarge" })) - before.tooLarge, 1)
      assert.strictEqual((yield* durationCount("set")) - before.set, 1)
      const duration = yield* Metric.value(CacheMetrics.durationOf("set"))
      assert.isAtLeast(duration.min, 0)
      assert.isBelow(duration.max, 1, "seconds, not milliseconds")
      assert.deepStrictEqual(
        duration.buckets.map(([boundary]) => boundary),
        [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, Number.POSITIVE_INFINITY]
      )
    }).pipe(Effect.provide(memory())))

  it.effect("duration is read from the Effect Clock in scope, so a custom clock measures it", () =>
    Effect.gen(function*() {
      const memcached = yield* Memcached
      let nanos = 0n
      const stepping: Clock.Clock = {
        [Clock.ClockTypeId]: Clock.ClockTypeId,
        unsafeCurrentTimeNanos: () => nanos += 7_000_000n,
        unsafeCurrentTimeMillis: () => Number(nanos / 1_000_000n),
        currentTimeNanos: Effect.sync(() => nanos),
        currentTimeMillis: Effect.sync(() => Number(nanos / 1_000_000n)),
        sleep: () => Effect.void
      }
      const before = (yield* Metric.value(CacheMetrics.durationOf("touch"))).sum
      yield* memcached.touch("stepping-clock", "1 minute").pipe(Effect.withClock(stepping))
      // Two readings, one before and one after: 7 ms apart on this clock, whatever the real time took.
      assert.closeTo((yield* Metric.value(CacheMetrics.durationOf("touch"))).sum - before, 0.007, 1e-9)
    }).pipe(Effect.provide(memory())))

  it.live("real memcached: series by server; a refused connection counts as error.type Unavailable", () =>
    Effect.gen(function*() {
      const server = yield* startMemcached()
      yield* Effect.gen(function*() {
        const memcached = yield* Memcached
        const hitsBefore = yield* counter(CacheMetrics.hitsOf("getMany", { server: server.address }))
        const setBefore = yield* durationCount("set", { server: server.address })
        yield* memcached.set("by-server", bytes("1"))
        yield* memcached.getMany(["by-server", "nope"])
        assert.strictEqual((yield* durationCount("set", { server: server.address })) - setBefore, 1)
        assert.strictEqual((yield* counter(CacheMetrics.hitsOf("getMany", { server: server.address }))) - hitsBefore, 1)
      }).pipe(Effect.provide(Memcached.layer({ servers: server.address })))

      const port = yield* deadPort
      const dead = `127.0.0.1:${port}`
      const error = yield* Effect.flip(
        Cache.get("k").pipe(
          Effect.provide(Cache.layerMemcached({ servers: dead }).pipe(Layer.provide(Serializer.structured)))
        )
      )
      assert.instanceOf(error, MemcachedError)
      assert.strictEqual(error.reason, "Unavailable")
      assert.strictEqual(yield* durationCount("get", { server: dead, errorType: "Unavailable" }), 1)
      assert.isAbove(
        (yield* Metric.value(CacheMetrics.durationOf("get", { server: dead, errorType: "Unavailable" }))).max,
        0
      )
    }).pipe(Effect.scoped))

  it.effect("metrics: false leaves them alone", () =>
    Effect.gen(function*() {
      const memcached = yield* Memcached
      const before = yield* counter(CacheMetrics.missesOf("get"))
      const durationBefore = yield* durationCount("get")
      yield* memcached.get("nothing-here")
      assert.strictEqual(yield* counter(CacheMetrics.missesOf("get")), before)
      assert.strictEqual(yield* durationCount("get"), durationBefore)
    }).pipe(Effect.provide(memory({ metrics: false }))))
})
