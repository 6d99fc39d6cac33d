/**
 * Spans and metrics of the `Memcached` service, on the in-memory fake and on real memcached: span names, kinds,
 * OpenTelemetry attributes, parents, `error.type`, no values and by default no keys in spans, none at all with
 * `tracing: false`; `db.client.operation.duration` in seconds and hits and misses by operation and server, read back
 * with `Metric.value`. Shared by both Effect lines through `#line`; `effect4/test/observability.test.ts` runs it on
 * Effect 4 (and `observability.sasl.test.ts` adds SASL on this line).
 */
import {
  assert,
  Cache,
  CacheMetrics,
  closedPort,
  countOf,
  describe,
  Effect,
  Exit,
  firstFailure,
  InvalidKey,
  it,
  labelsOf,
  Layer,
  makeRecording,
  Memcached,
  MemcachedError,
  Metric,
  Option,
  type RecordedSpan,
  Serializer,
  SpanAttributes,
  startMemcached,
  traced,
  ValueTooLarge,
  withSteppingClock
} from "#line"

const memory = (options: Parameters<typeof Cache.layerMemory>[0] = {}) =>
  Cache.layerMemory(options).pipe(Layer.provideMerge(Serializer.structured))

const bytes = (text: string) => new TextEncoder().encode(text)

const VALUE_MARKER = "VALUE-4f1d9c-never-in-a-span"
const KEY_MARKER = "KEYMARK-82ab1e"

const attr = (span: RecordedSpan | undefined, name: string) => span!.attributes.get(name)

const failureOf = (span: RecordedSpan | undefined): unknown => {
  assert.strictEqual(span!.status._tag, "Ended")
  const exit = (span!.status as { readonly exit: Exit.Exit<unknown, unknown> }).exit
  assert.isTrue(Exit.isFailure(exit), `${span!.name} should have failed`)
  return firstFailure((exit as Exit.Failure<unknown, unknown>).cause)
}

const durationCount = (operation: string, series?: Parameters<typeof CacheMetrics.durationOf>[1]) =>
  Effect.map(Metric.value(CacheMetrics.durationOf(operation, series)), (state) => state.count)

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
        assert.isFalse(span.attributes.has("error.type"), `${span.name} did not fail`)
        assert.isFalse(span.attributes.has("server.address"), "the in-memory store has no server")
        assert.strictEqual(Option.getOrUndefined(span.parent)?.spanId, caller.spanId)
        assert.strictEqual(span.status._tag, "Ended")
      }
      const named = (name: string) => spans.find((span) => span.name === name)
      assert.strictEqual(attr(named("getMany"), "db.operation.batch.size"), 3)
      assert.strictEqual(attr(named("setMany"), "db.operation.batch.size"), 2)
      assert.strictEqual(attr(named("deleteMany"), "db.operation.batch.size"), 2)
      assert.isUndefined(attr(named("get"), "db.operation.batch.size"))
      assert.isFalse(named("get")!.attributes.has("db.operation.batch.size"))
      // Reads say what they found: a hit, and the rows of a batch.
      assert.strictEqual(attr(named("get"), SpanAttributes.hit), true)
      assert.strictEqual(attr(named("get"), "db.response.returned_rows"), 1)
      assert.strictEqual(attr(named("getMany"), "db.response.returned_rows"), 1)
      assert.strictEqual(attr(named("getAndTouch"), "memcached.hit"), true)
      assert.isFalse(named("set")!.attributes.has("memcached.hit"))
    }).pipe(Effect.provide(memory({ spanAttributes: { "peer.service": "sessions" } })), traced(recording))
  })

  it.effect("Cache operations show the Memcached operations they make; a batch of one key is not a batch", () => {
    const recording = makeRecording()
    return Effect.gen(function*() {
      const cache = yield* Cache
      yield* cache.getOrSet("k", Effect.succeed(1))
      assert.deepStrictEqual(recording.memcachedSpans().map((span) => span.name), ["get", "set"])
      assert.strictEqual(recording.memcachedSpans()[0]!.attributes.get("memcached.hit"), false)
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

  it.effect("no value and, by default, no key in any span, also when an operation fails; failures carry error.type", () => {
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
      const failed = (name: string) =>
        recording.memcachedSpans().find((span) =>
          span.name === name && span.status._tag === "Ended" && Exit.isFailure(span.status.exit)
        )
      const recorded = failureOf(failed("get")) as { readonly _tag: string; readonly message: string }
      assert.strictEqual(recorded._tag, "InvalidKey", "the span still says what failed")
      assert.strictEqual(attr(failed("get"), SpanAttributes.errorType), "InvalidKey")
      assert.strictEqual((failureOf(failed("set")) as { readonly _tag: string })._tag, "ValueTooLarge")
      assert.strictEqual(attr(failed("set"), "error.type"), "ValueTooLarge")
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

  it.effect("tracing: false makes no spans, and puts nothing on the caller's", () => {
    const recording = makeRecording()
    return Effect.gen(function*() {
      const cache = yield* Cache
      yield* Effect.gen(function*() {
        yield* cache.set("k", 1)
        yield* cache.get("k")
      }).pipe(Effect.withSpan("caller"))
      assert.deepStrictEqual(recording.memcachedSpans(), [])
      assert.deepStrictEqual(recording.spans.map((span) => span.name), ["caller"])
      assert.deepStrictEqual([...recording.spans[0]!.attributes.keys()], [])
    }).pipe(Effect.provide(memory({ tracing: false })), traced(recording))
  })

  it.live("real memcached: every operation names its server, batches too; a dead server is error.type Unavailable", () => {
    const recording = makeRecording()
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
      const spans = recording.memcachedSpans()
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
      for (const span of spans) {
        assert.strictEqual(span.kind, "client")
        assert.strictEqual(attr(span, "db.system.name"), "memcached")
      }
      // Operations name the server they went to, batches too (a store's hook, see `instrument`).
      for (const span of spans.slice(0, -1)) {
        assert.strictEqual(attr(span, SpanAttributes.serverAddress), server.host, `${span.name}'s server`)
        assert.strictEqual(attr(span, SpanAttributes.serverPort), server.port)
        assert.isFalse(span.attributes.has("error.type"))
      }
      assert.deepStrictEqual(spans.slice(1, 3).map((span) => attr(span, "memcached.hit")), [true, false])
      const invalid = spans.at(-1)
      assert.strictEqual(attr(invalid, "error.type"), "InvalidKey")
      assert.isFalse(invalid!.attributes.has("server.address"), "nothing was sent")

      recording.clear()
      const refused = yield* Effect.flip(
        Effect.flatMap(Memcached, (memcached) => memcached.get("k")).pipe(
          Effect.provide(Memcached.layer({ servers: `127.0.0.1:${yield* closedPort}` }))
        )
      )
      assert.instanceOf(refused, MemcachedError)
      assert.strictEqual(attr(recording.memcachedSpans()[0], "error.type"), "Unavailable")
      assert.strictEqual(attr(recording.memcachedSpans()[0], "server.address"), "127.0.0.1")
    }).pipe(Effect.scoped, traced(recording))
  })
})

describe("metrics", () => {
  it.effect("hits and misses of get, getMany and getAndTouch, by operation, with the conventions' labels", () =>
    Effect.gen(function*() {
      const memcached = yield* Memcached
      const before = {
        getHits: yield* countOf(CacheMetrics.hitsOf("get")),
        getMisses: yield* countOf(CacheMetrics.missesOf("get")),
        manyHits: yield* countOf(CacheMetrics.hitsOf("getMany")),
        manyMisses: yield* countOf(CacheMetrics.missesOf("getMany")),
        gatMisses: yield* countOf(CacheMetrics.missesOf("getAndTouch"))
      }
      yield* memcached.set("m-a", bytes("1"))
      yield* memcached.set("m-b", bytes("2"))
      yield* memcached.get("m-a")
      yield* memcached.get("m-a")
      yield* memcached.get("m-missing")
      yield* memcached.getMany(["m-a", "m-b", "m-c", "m-a"])
      yield* memcached.getAndTouch("m-missing", "1 minute")

      assert.strictEqual((yield* countOf(CacheMetrics.hitsOf("get"))) - before.getHits, 2)
      assert.strictEqual((yield* countOf(CacheMetrics.missesOf("get"))) - before.getMisses, 1)
      assert.strictEqual((yield* countOf(CacheMetrics.hitsOf("getMany"))) - before.manyHits, 2)
      assert.strictEqual((yield* countOf(CacheMetrics.missesOf("getMany"))) - before.manyMisses, 1)
      assert.strictEqual((yield* countOf(CacheMetrics.missesOf("getAndTouch"))) - before.gatMisses, 1)

      // The same series, listed by Metric.snapshot with the conventions' labels.
      assert.deepStrictEqual(yield* labelsOf("memcached.hits", "getMany"), {
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
      const before = (yield* Metric.value(CacheMetrics.durationOf("touch"))).sum
      yield* memcached.touch("stepping-clock", "1 minute").pipe(withSteppingClock(7_000_000n))
      // Two readings, one before and one after: 7 ms apart on this clock, whatever the real time took.
      assert.closeTo((yield* Metric.value(CacheMetrics.durationOf("touch"))).sum - before, 0.007, 1e-9)
    }).pipe(Effect.provide(memory())))

  it.live("real memcached: series by server; a refused connection counts as error.type Unavailable", () =>
    Effect.gen(function*() {
      const server = yield* startMemcached()
      yield* Effect.gen(function*() {
        const memcached = yield* Memcached
        const hitsBefore = yield* countOf(CacheMetrics.hitsOf("getMany", { server: server.address }))
        const setBefore = yield* durationCount("set", { server: server.address })
        yield* memcached.set("by-server", bytes("1"))
        yield* memcached.getMany(["by-server", "nope"])
        assert.strictEqual((yield* durationCount("set", { server: server.address })) - setBefore, 1)
        assert.strictEqual((yield* countOf(CacheMetrics.hitsOf("getMany", { server: server.address }))) - hitsBefore, 1)
      }).pipe(Effect.provide(Memcached.layer({ servers: server.address })))

      const dead = `127.0.0.1:${yield* closedPort}`
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
      const before = yield* countOf(CacheMetrics.missesOf("get"))
      const durationBefore = yield* durationCount("get")
      yield* memcached.get("nothing-here")
      assert.strictEqual(yield* countOf(CacheMetrics.missesOf("get")), before)
      assert.strictEqual(yield* durationCount("get"), durationBefore)
    }).pipe(Effect.provide(memory({ metrics: false }))))
})
