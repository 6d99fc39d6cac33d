/**
 * Spans and metrics of the Effect 4 line, named as the 1.x line's (OpenTelemetry's database conventions): span names,
 * kinds, attributes, parents, `error.type`, no values and by default no keys in spans, none at all with
 * `tracing: false`; `db.client.operation.duration` in seconds and hits and misses by operation and server, read back
 * with `Metric.value`. On the in-memory fake and on real memcached.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Clock, Effect, Exit, Layer, Metric, Option, Tracer } from "effect"
import { inspect } from "node:util"
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
import { closedPort, startMemcached } from "./support/MemcachedServer.js"

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
  const memcachedSpans = () => spans.filter((span) => span.attributes.get("db.system.name") === "memcached")
  /** Everything a span holds that an exporter could send, as text. */
  const dump = () =>
    spans.map((span) => {
      const exit = span.status._tag === "Ended" ? span.status.exit : undefined
      const cause = exit && Exit.isFailure(exit)
        ? `${Cause.pretty(exit.cause)} ${inspect(exit.cause, { depth: 8 })}`
        : ""
      return `${span.name} ${inspect(span.attributes, { depth: 8 })} ${cause}`
    }).join("\n")
  const clear = () => {
    spans.length = 0
  }
  return { tracer, spans, memcachedSpans, dump, clear }
}

const traced = (record: ReturnType<typeof recording>) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.provideService(effect, Tracer.Tracer, record.tracer)

const memory = (options: LayerOptions = {}) =>
  Cache.layerMemory(options).pipe(Layer.provideMerge(Serializer.structured))

const bytes = (text: string) => new TextEncoder().encode(text)

const VALUE_MARKER = "VALUE-4f1d9c-never-in-a-span"
const KEY_MARKER = "KEYMARK-82ab1e"

const failureOf = (span: Tracer.NativeSpan): unknown => {
  assert.strictEqual(span.status._tag, "Ended")
  const exit = (span.status as { readonly exit: Exit.Exit<unknown, unknown> }).exit
  assert.isTrue(Exit.isFailure(exit), `${span.name} should have failed`)
  return Option.getOrUndefined(Cause.findErrorOption((exit as Exit.Failure<unknown, unknown>).cause))
}

const counter = (metric: Metric.Counter<number>) => Effect.map(Metric.value(metric), (state) => state.count)

const durationCount = (operation: string, series?: Parameters<typeof CacheMetrics.durationOf>[1]) =>
  Effect.map(Metric.value(CacheMetrics.durationOf(operation, series)), (state) => state.count)

describe("spans (Effect 4)", () => {
  it.effect("one client span per Memcached operation, named by it, with the conventions' attributes", () => {
    const record = recording()
    return Effect.gen(function*() {
      const memcached = yield* Memcached
      yield* Effect.gen(function*() {
        yield* memcached.set("a", bytes("1"))
        yield* memcached.get("a")
        yield* memcached.getMany(new Set(["a", "b", "c"]))
        yield* memcached.setMany([["b", { value: bytes("2"), flags: 0 }], ["c", { value: bytes("3"), flags: 0 }]])
        yield* memcached.add("d", bytes("4"))
        yield* memcached.touch("d", "1 minute")
        yield* memcached.getAndTouch("d", "1 minute")
        yield* memcached.increment("n", 1, { initial: 10 })
        yield* memcached.delete("d")
        yield* memcached.deleteMany(["a", "b"])
        yield* memcached.version
      }).pipe(Effect.withSpan("caller"))

      const caller = record.spans.find((span) => span.name === "caller")!
      const spans = record.memcachedSpans()
      assert.deepStrictEqual(spans.map((span) => span.name), [
        "set",
        "get",
        "getMany",
        "setMany",
        "add",
        "touch",
        "getAndTouch",
        "increment",
        "delete",
        "deleteMany",
        "version"
      ])
      for (const span of spans) {
        assert.strictEqual(span.kind, "client")
        assert.strictEqual(span.attributes.get(SpanAttributes.system), "memcached")
        assert.strictEqual(span.attributes.get("db.operation.name"), span.name)
        assert.strictEqual(span.attributes.get("peer.service"), "sessions")
        assert.isFalse(span.attributes.has(SpanAttributes.key), `${span.name} has no key`)
        assert.isFalse(span.attributes.has(SpanAttributes.keys), `${span.name} has no keys`)
        assert.isFalse(span.attributes.has("error.type"), `${span.name} did not fail`)
        assert.isFalse(span.attributes.has("server.address"), "the in-memory store has no server")
        assert.strictEqual(Option.getOrUndefined(span.parent)?.spanId, caller.spanId)
        assert.strictEqual(span.status._tag, "Ended")
      }
      const named = (name: string) => spans.find((span) => span.name === name)!
      assert.strictEqual(named("getMany").attributes.get("db.operation.batch.size"), 3)
      assert.strictEqual(named("setMany").attributes.get("db.operation.batch.size"), 2)
      assert.strictEqual(named("deleteMany").attributes.get("db.operation.batch.size"), 2)
      assert.isFalse(named("get").attributes.has("db.operation.batch.size"))
      assert.strictEqual(named("get").attributes.get(SpanAttributes.hit), true)
      assert.strictEqual(named("get").attributes.get("db.response.returned_rows"), 1)
      assert.strictEqual(named("getMany").attributes.get("db.response.returned_rows"), 1)
      assert.strictEqual(named("getAndTouch").attributes.get("memcached.hit"), true)
      assert.isFalse(named("set").attributes.has("memcached.hit"))
    }).pipe(Effect.provide(memory({ spanAttributes: { "peer.service": "sessions" } })), traced(record))
  })

  it.effect("Cache operations show the Memcached operations they make; a batch of one key is not a batch", () => {
    const record = recording()
    return Effect.gen(function*() {
      const cache = yield* Cache
      yield* cache.getOrSet("k", Effect.succeed(1))
      assert.deepStrictEqual(record.memcachedSpans().map((span) => span.name), ["get", "set"])
      assert.strictEqual(record.memcachedSpans()[0]!.attributes.get("memcached.hit"), false)
      record.clear()
      yield* cache.getOrSet("k", Effect.succeed(1))
      yield* cache.remove("k", "other")
      yield* cache.remove("k")
      const spans = record.memcachedSpans()
      assert.deepStrictEqual(spans.map((span) => span.name), ["get", "deleteMany", "deleteMany"])
      assert.strictEqual(spans[0]!.attributes.get("memcached.hit"), true)
      assert.strictEqual(spans[1]!.attributes.get("db.operation.batch.size"), 2)
      assert.isFalse(spans[2]!.attributes.has("db.operation.batch.size"))
    }).pipe(Effect.provide(memory()), traced(record))
  })

  it.effect("no value and, by default, no key in any span; failures carry error.type", () => {
    const record = recording()
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

      const dump = record.dump()
      assert.include(dump, "db.operation.name", "the dump holds the attributes")
      assert.include(dump, "InvalidKey", "and the failures")
      assert.notInclude(dump, VALUE_MARKER)
      assert.notInclude(dump, KEY_MARKER)
      const failed = (name: string) =>
        record.memcachedSpans().find((span) =>
          span.name === name && span.status._tag === "Ended" && Exit.isFailure(span.status.exit)
        )!
      assert.strictEqual((failureOf(failed("get")) as { readonly _tag: string })._tag, "InvalidKey")
      assert.strictEqual(failed("get").attributes.get(SpanAttributes.errorType), "InvalidKey")
      assert.strictEqual((failureOf(failed("set")) as { readonly _tag: string })._tag, "ValueTooLarge")
      assert.strictEqual(failed("set").attributes.get("error.type"), "ValueTooLarge")
    }).pipe(Effect.provide(memory()), traced(record))
  })

  it.effect("spanKeys: true adds memcached.key and memcached.keys (a plain string), never values", () => {
    const record = recording()
    return Effect.gen(function*() {
      const cache = yield* Cache
      yield* cache.set("user:1", VALUE_MARKER)
      yield* cache.getMany(["user:1", "user:2"])
      assert.instanceOf(yield* Effect.flip(cache.get("bad key")), InvalidKey)
      const [set, getMany, get] = record.memcachedSpans()
      assert.strictEqual(set!.attributes.get(SpanAttributes.key), "user:1")
      assert.strictEqual(getMany!.attributes.get("memcached.keys"), "user:1 user:2")
      assert.strictEqual(getMany!.attributes.get("db.operation.batch.size"), 2)
      assert.strictEqual(get!.attributes.get("memcached.key"), "bad key")
      assert.instanceOf(failureOf(get!), InvalidKey)
      assert.notInclude(record.dump(), VALUE_MARKER)
    }).pipe(Effect.provide(memory({ spanKeys: true })), traced(record))
  })

  it.effect("tracing: false makes no spans, and puts nothing on the caller's", () => {
    const record = recording()
    return Effect.gen(function*() {
      const cache = yield* Cache
      yield* Effect.gen(function*() {
        yield* cache.set("k", 1)
        yield* cache.get("k")
      }).pipe(Effect.withSpan("caller"))
      assert.deepStrictEqual(record.spans.map((span) => span.name), ["caller"])
      assert.deepStrictEqual([...record.spans[0]!.attributes.keys()], [])
    }).pipe(Effect.provide(memory({ tracing: false })), traced(record))
  })

  it.live("real memcached: every operation names its server, batches too; a dead server is error.type Unavailable", () => {
    const record = recording()
    return Effect.gen(function*() {
      const server = yield* startMemcached()
      yield* Effect.gen(function*() {
        const memcached = yield* Memcached
        yield* memcached.set("srv-a", bytes("1"))
        yield* memcached.get("srv-a")
        yield* memcached.get("srv-missing")
        yield* memcached.getMany(["srv-a", "srv-b"])
        yield* memcached.setMany([["srv-b", { value: bytes("2"), flags: 0 }], ["srv-c", {
          value: bytes("3"),
          flags: 0
        }]])
        yield* memcached.deleteMany(["srv-b", "srv-c"])
        yield* memcached.version
        assert.instanceOf(yield* Effect.flip(memcached.get("bad key")), InvalidKey)
      }).pipe(Effect.provide(Memcached.layer({ servers: server.address })))
      const spans = record.memcachedSpans()
      assert.deepStrictEqual(spans.map((span) => span.name), [
        "set",
        "get",
        "get",
        "getMany",
        "setMany",
        "deleteMany",
        "version",
        "get"
      ])
      for (const span of spans.slice(0, -1)) {
        assert.strictEqual(span.attributes.get(SpanAttributes.serverAddress), server.host, `${span.name}'s server`)
        assert.strictEqual(span.attributes.get(SpanAttributes.serverPort), server.port)
        assert.isFalse(span.attributes.has("error.type"))
      }
      assert.deepStrictEqual(spans.slice(1, 3).map((span) => span.attributes.get("memcached.hit")), [true, false])
      const invalid = spans.at(-1)!
      assert.strictEqual(invalid.attributes.get("error.type"), "InvalidKey")
      assert.isFalse(invalid.attributes.has("server.address"), "nothing was sent")

      record.clear()
      const refused = yield* Effect.flip(
        Effect.flatMap(Memcached, (memcached) => memcached.get("k")).pipe(
          Effect.provide(Memcached.layer({ servers: `127.0.0.1:${yield* closedPort}` }))
        )
      )
      assert.instanceOf(refused, MemcachedError)
      assert.strictEqual(record.memcachedSpans()[0]!.attributes.get("error.type"), "Unavailable")
      assert.strictEqual(record.memcachedSpans()[0]!.attributes.get("server.address"), "127.0.0.1")
    }).pipe(Effect.scoped, traced(record))
  })
})

describe("metrics (Effect 4)", () => {
  it.effect("hits and misses of get, getMany and getAndTouch, by operation, with the conventions' attributes", () =>
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

      // The same series, listed by Metric.snapshot with the conventions' attributes.
      const hits = (yield* Metric.snapshot).find((snapshot) =>
        snapshot.id === "memcached.hits" && snapshot.attributes?.["db.operation.name"] === "getMany"
      )!
      assert.deepStrictEqual(hits.attributes, {
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
        currentTimeMillisUnsafe: () => Number(nanos / 1_000_000n),
        currentTimeMillis: Effect.sync(() => Number(nanos / 1_000_000n)),
        currentTimeNanosUnsafe: () => nanos,
        currentTimeNanos: Effect.sync(() => nanos),
        monotonicTimeNanosUnsafe: () => nanos += 7_000_000n,
        monotonicTimeNanos: Effect.sync(() => nanos += 7_000_000n),
        sleep: () => Effect.void
      }
      const before = (yield* Metric.value(CacheMetrics.durationOf("touch"))).sum
      yield* memcached.touch("stepping-clock", "1 minute").pipe(Effect.provideService(Clock.Clock, stepping))
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

      const dead = `127.0.0.1:${yield* closedPort}`
      const error = yield* Effect.flip(
        Effect.flatMap(Memcached, (memcached) => memcached.get("k")).pipe(
          Effect.provide(Memcached.layer({ servers: dead }))
        )
      )
      assert.instanceOf(error, MemcachedError)
      assert.strictEqual(error.reason, "Unavailable")
      assert.strictEqual(yield* durationCount("get", { server: dead, errorType: "Unavailable" }), 1)
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
