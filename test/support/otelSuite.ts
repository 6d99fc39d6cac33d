/**
 * Spans and metrics through the real OpenTelemetry SDK, as a user's pipeline sees them: `@effect/opentelemetry`'s
 * tracer over a `BasicTracerProvider` with an in-memory exporter, and the AsyncLocalStorage context manager that
 * `sdk-node` registers, against real memcached. Each request's spans stay in its own trace, in sequence, concurrently
 * and across reconnects; spans and metrics carry the database conventions' names, read back from the SDK's exporter
 * and reader; the Promise facade with `telemetry` joins the caller's trace. Written once for both Effect lines: each
 * line's `observability.otel.test.ts` runs it with its own `@effect/opentelemetry` layers, and `#line` is its line.
 */
import {
  assert,
  Cache,
  closedPort,
  describe,
  Effect,
  it,
  Layer,
  ManagedRuntime,
  Memcached,
  MemcachedCache,
  Serializer,
  startMemcached
} from "#line"
import * as OtelApi from "@opentelemetry/api"
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks"
import { type DataPoint, type Histogram, MetricReader } from "@opentelemetry/sdk-metrics"
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor
} from "@opentelemetry/sdk-trace-base"

/** A reader the test collects from when it wants. */
export class CollectingReader extends MetricReader {
  protected onForceFlush() {
    return Promise.resolve()
  }
  protected onShutdown() {
    return Promise.resolve()
  }
}

/** What the suite takes from its line's `@effect/opentelemetry`. */
export interface OtelLine {
  /** Its tracer over the global provider. */
  readonly TracingLive: Layer.Layer<never>
  /** Its metrics, read by `reader`. */
  readonly metricsLayer: (reader: MetricReader) => Layer.Layer<never>
  /**
   * The parent it gives a span with no Effect parent started after a wait inside an Effect span in the same fiber:
   * `previous` (0.x), that span, as an Effect resumed after waiting inside a span keeps that span's OpenTelemetry
   * context, so each request's parent is the one before it; `none` (4.x), no parent.
   */
  readonly afterWait: "previous" | "none"
  /** The status it gives a span that succeeded: `OK` (0.x) or `UNSET` (4.x). */
  readonly okStatus: OtelApi.SpanStatusCode
}

/** The suite, with the line's tracer and metrics. */
export const otelSuite = ({ afterWait, metricsLayer, okStatus, TracingLive }: OtelLine) => {
  const exporter = new InMemorySpanExporter()
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
  OtelApi.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  OtelApi.trace.setGlobalTracerProvider(provider)
  const otel = OtelApi.trace.getTracer("test")

  const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId
  const named = (name: string) => {
    const found = exporter.getFinishedSpans().filter((span) => span.name === name)
    assert.strictEqual(found.length, 1, `one span ${name}`)
    return found[0]!
  }
  const nameOf = (spanId: string | undefined) =>
    exporter.getFinishedSpans().find((span) => span.spanContext().spanId === spanId)?.name
  const memcachedSpansIn = (traceId: string) =>
    exporter.getFinishedSpans().filter((span) =>
      span.attributes["db.system.name"] === "memcached" && span.spanContext().traceId === traceId
    )

  /** No span has a memcached span for a parent: a memcached span is a leaf, and never the context a caller resumes in. */
  const assertMemcachedSpansAreLeaves = () => {
    const memcachedIds = new Set(
      exporter.getFinishedSpans().filter((span) => span.attributes["db.system.name"] === "memcached").map((span) =>
        span.spanContext().spanId
      )
    )
    assert.isAbove(memcachedIds.size, 0)
    for (const span of exporter.getFinishedSpans()) {
      assert.isFalse(memcachedIds.has(parentOf(span) ?? ""), `${span.name} has a memcached span for a parent`)
    }
  }

  /** A fresh exporter, a real memcached, and a runtime with `Cache` over it and the OpenTelemetry tracer. */
  const tracedRuntime = Effect.gen(function*() {
    exporter.reset()
    const server = yield* startMemcached()
    const runtime = ManagedRuntime.make(
      Layer.merge(
        Cache.layerMemcached({ servers: server.address }).pipe(Layer.provideMerge(Serializer.structured)),
        TracingLive
      )
    )
    yield* Effect.addFinalizer(() => runtime.disposeEffect)
    return { runtime, server }
  })

  describe("spans through the OpenTelemetry SDK and its AsyncLocalStorage context manager, on real memcached", () => {
    it.live("requests in sequence, each a fiber of one runtime: a span started after a memcached call is a root, also after a reconnect", () =>
      Effect.gen(function*() {
        const { runtime, server } = yield* tracedRuntime
        const job = (name: string) =>
          Effect.gen(function*() {
            // The first job's set opens the connection.
            yield* Effect.ignore(Cache.set(name, 1))
            yield* Effect.ignore(Cache.get(name))
            yield* Effect.void.pipe(Effect.withSpan(name))
            // A span of code that knows nothing of Effect, started where the job resumed.
            yield* Effect.sync(() => otel.startSpan(`${name}.otel`).end())
          })
        for (const name of ["job1", "job2", "job3", "job4"]) {
          yield* Effect.promise(() => runtime.runPromise(job(name)))
          // The connection dies, and the next job's request (or its retry) opens a new one.
          if (name === "job2") yield* server.restart()
        }
        for (const name of ["job1", "job2", "job3", "job4"]) {
          assert.isUndefined(parentOf(named(name)), `${name} is a root`)
          assert.isUndefined(parentOf(named(`${name}.otel`)), `${name}.otel is a root`)
        }
        for (const span of exporter.getFinishedSpans()) {
          if (span.attributes["db.system.name"] === "memcached") assert.isUndefined(parentOf(span), `${span.name} root`)
        }
        assertMemcachedSpansAreLeaves()
      }).pipe(Effect.scoped))

    it.live("requests in sequence in one fiber: the caller's context after a memcached call is the one it had, as after Effect.sleep", () =>
      Effect.gen(function*() {
        exporter.reset()
        const server = yield* startMemcached()
        const cache = Cache.layerMemcached({ servers: server.address }).pipe(Layer.provideMerge(Serializer.structured))
        const sequence = (call: (name: string) => Effect.Effect<unknown, unknown, Cache>, prefix: string) =>
          Effect.gen(function*() {
            const step = (i: number) =>
              Effect.ignore(call(`${prefix}${i}`)).pipe(
                Effect.withSpan(`${prefix}${i}`),
                Effect.andThen(Effect.sync(() => otel.startSpan(`${prefix}${i}.otel`).end()))
              )
            yield* step(1)
            yield* step(2)
            yield* server.restart()
            yield* step(3)
            yield* step(4)
          })
        yield* Effect.gen(function*() {
          yield* sequence((name) => Cache.set(name, 1), "mc")
          yield* sequence(() => Effect.sleep("1 millis"), "sleep")
        }).pipe(Effect.provide(Layer.merge(cache, TracingLive)))

        // Whatever parent a span gets after waiting inside a span, a memcached call gives the same as Effect.sleep:
        // never a memcached span. (With `previous`, sleep1's parent is mc4, the span its fiber waited in last.)
        for (const i of [1, 2, 3, 4]) {
          if (i > 1 || afterWait === "none") {
            const sleepParent = nameOf(parentOf(named(`sleep${i}`)))?.replace("sleep", "mc")
            assert.strictEqual(nameOf(parentOf(named(`mc${i}`))), sleepParent, `mc${i}`)
          }
          const sleepOtelParent = nameOf(parentOf(named(`sleep${i}.otel`)))?.replace("sleep", "mc")
          assert.strictEqual(nameOf(parentOf(named(`mc${i}.otel`))), sleepOtelParent, `mc${i}.otel`)
          if (afterWait === "previous" && i > 1) {
            assert.strictEqual(nameOf(parentOf(named(`mc${i}`))), `mc${i - 1}`)
            assert.strictEqual(nameOf(parentOf(named(`sleep${i}`))), `sleep${i - 1}`)
          }
          if (afterWait === "none") assert.isUndefined(parentOf(named(`mc${i}`)), `mc${i} is a root`)
          const request = named(`mc${i}`)
          const children = memcachedSpansIn(request.spanContext().traceId)
            .filter((span) => parentOf(span) === request.spanContext().spanId)
          assert.strictEqual(children.length, 1, `mc${i}'s set`)
        }
        assertMemcachedSpansAreLeaves()
      }).pipe(Effect.scoped))

    it.live("concurrent requests, each run inside its own OpenTelemetry span: spans after a response join their caller's", () =>
      Effect.gen(function*() {
        const { runtime, server } = yield* tracedRuntime
        /** A request that is not an Effect span: an HTTP handler's span, say, active in the OpenTelemetry context. */
        const request = (name: string) =>
          otel.startActiveSpan(name, (span) =>
            runtime.runPromise(
              Effect.gen(function*() {
                yield* Cache.set(`conc-${name}`, name)
                yield* Cache.get(`conc-${name}`)
                // A span with no Effect parent: its parent is what the OpenTelemetry context says is active.
                yield* Effect.void.pipe(Effect.withSpan(`${name}.after`))
              })
            ).finally(() => span.end()))
        const names = Array.from({ length: 8 }, (_, i) => `http${i}`)
        for (let round = 0; round < 3; round++) {
          exporter.reset()
          yield* Effect.promise(() => Promise.all(names.map(request)))
          for (const name of names) {
            const http = named(name)
            assert.isUndefined(parentOf(http), `${name} is a root span`)
            assert.strictEqual(parentOf(named(`${name}.after`)), http.spanContext().spanId, `${name}.after`)
            const children = memcachedSpansIn(http.spanContext().traceId)
            assert.deepStrictEqual(children.map((span) => span.name), ["set", "get"], `${name}'s set and get`)
            for (const child of children) assert.strictEqual(parentOf(child), http.spanContext().spanId)
          }
          assertMemcachedSpansAreLeaves()
          if (round === 1) yield* server.restart()
        }
      }).pipe(Effect.scoped))
  })

  describe("the database conventions, as the OpenTelemetry SDK exports them, on real memcached", () => {
    it.live("spans named by the operation, with server, batch size, hit and error.type", () =>
      Effect.gen(function*() {
        exporter.reset()
        const server = yield* startMemcached()
        yield* Effect.gen(function*() {
          const memcached = yield* Memcached
          yield* memcached.set("conv-a", new Uint8Array([1]))
          yield* memcached.get("conv-a")
          yield* memcached.get("conv-missing")
          yield* memcached.getMany(["conv-a", "conv-b"])
          yield* memcached.deleteMany(["conv-b"])
          yield* Effect.flip(memcached.get("bad key"))
        }).pipe(
          Effect.withSpan("request"),
          Effect.provide(Layer.merge(Memcached.layer({ servers: server.address }), TracingLive))
        )

        const request = named("request")
        const spans = exporter.getFinishedSpans().filter((span) => span.attributes["db.system.name"] === "memcached")
        assert.deepStrictEqual(spans.map((span) => span.name), ["set", "get", "get", "getMany", "deleteMany", "get"])
        const [set, hit, miss, getMany, deleteMany, invalid] = spans
        for (const span of spans) {
          assert.strictEqual(span.kind, OtelApi.SpanKind.CLIENT)
          assert.strictEqual(span.attributes["db.operation.name"], span.name)
          assert.strictEqual(parentOf(span), request.spanContext().spanId)
        }
        for (const span of [set, hit, miss, getMany, deleteMany]) {
          assert.strictEqual(span!.attributes["server.address"], server.host, `${span!.name} names its server`)
          assert.strictEqual(span!.attributes["server.port"], server.port)
          assert.isUndefined(span!.attributes["error.type"])
          assert.strictEqual(span!.status.code, okStatus)
        }
        assert.strictEqual(hit!.attributes["memcached.hit"], true)
        assert.strictEqual(miss!.attributes["memcached.hit"], false)
        assert.strictEqual(getMany!.attributes["db.operation.batch.size"], 2)
        assert.strictEqual(getMany!.attributes["db.response.returned_rows"], 1)
        assert.isUndefined(deleteMany!.attributes["db.operation.batch.size"], "one key is not a batch")
        assert.strictEqual(invalid!.attributes["error.type"], "InvalidKey")
        assert.strictEqual(invalid!.status.code, OtelApi.SpanStatusCode.ERROR)
        assert.notInclude(JSON.stringify(invalid!.events), "bad key", "no key in the recorded exception")
        assert.isUndefined(invalid!.attributes["server.address"], "nothing was sent")
      }).pipe(Effect.scoped))

    it.live("db.client.operation.duration in seconds, and hits and misses, labelled as the conventions say", () =>
      Effect.gen(function*() {
        const server = yield* startMemcached()
        const reader = new CollectingReader()
        const dead = yield* closedPort
        const { resourceMetrics } = yield* Effect.gen(function*() {
          yield* Effect.gen(function*() {
            const memcached = yield* Memcached
            yield* memcached.set("metric-a", new Uint8Array([1]))
            yield* memcached.get("metric-a")
            yield* memcached.get("metric-missing")
          }).pipe(Effect.provide(Memcached.layer({ servers: server.address })))
          yield* Effect.flip(
            Effect.flatMap(Memcached, (memcached) => memcached.get("metric-a")).pipe(
              Effect.provide(Memcached.layer({ servers: `127.0.0.1:${dead}` }))
            )
          )
          return yield* Effect.promise(() => reader.collect())
        }).pipe(Effect.provide(metricsLayer(reader)))
        const metrics = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics)
        const metric = (name: string) => metrics.find((candidate) => candidate.descriptor.name === name)!
        const point = (name: string, attributes: Record<string, string>) =>
          metric(name).dataPoints.find((candidate) =>
            Object.entries(attributes).every(([key, value]) => candidate.attributes[key] === value) &&
            Object.keys(candidate.attributes).length === Object.keys(attributes).length + 1 // and `unit`
          )!

        const duration = metric("db.client.operation.duration")
        assert.strictEqual(duration.descriptor.unit, "s")
        const labels = {
          "db.system.name": "memcached",
          "server.address": server.host,
          "server.port": String(server.port)
        }
        const get = point("db.client.operation.duration", { ...labels, "db.operation.name": "get" }) as DataPoint<
          Histogram
        >
        assert.strictEqual(get.value.count, 2)
        assert.deepStrictEqual(get.value.buckets.boundaries, [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10])
        assert.isBelow(get.value.max!, 1, "seconds")
        const failed = point("db.client.operation.duration", {
          "db.system.name": "memcached",
          "db.operation.name": "get",
          "server.address": "127.0.0.1",
          "server.port": String(dead),
          "error.type": "Unavailable"
        }) as DataPoint<Histogram>
        assert.strictEqual(failed.value.count, 1)
        assert.strictEqual(metric("memcached.hits").descriptor.unit, "{key}")
        assert.strictEqual(point("memcached.hits", { ...labels, "db.operation.name": "get" }).value, 1)
        assert.strictEqual(point("memcached.misses", { ...labels, "db.operation.name": "get" }).value, 1)
      }).pipe(Effect.scoped))
  })

  describe("the Promise facade with the telemetry option", () => {
    it.live("each call's span joins the OpenTelemetry trace active where it was called, in sequence and concurrently", () =>
      Effect.gen(function*() {
        exporter.reset()
        const server = yield* startMemcached()
        const traced = new MemcachedCache({ servers: server.address, telemetry: TracingLive })
        const untraced = new MemcachedCache({ servers: server.address })
        yield* Effect.addFinalizer(() => Effect.promise(() => Promise.all([traced.close(), untraced.close()])))

        const handler = (name: string) =>
          otel.startActiveSpan(name, async (span) => {
            await traced.set(`facade-${name}`, name)
            const value = await traced.get(`facade-${name}`)
            await untraced.get(`facade-${name}`)
            otel.startActiveSpan(`${name}.after`, (after) => after.end())
            span.end()
            return value
          })
        yield* Effect.promise(async () => {
          assert.strictEqual(await handler("first"), "first")
          assert.strictEqual(await handler("second"), "second")
          const names = Array.from({ length: 8 }, (_, i) => `concurrent${i}`)
          assert.deepStrictEqual(await Promise.all(names.map(handler)), names)
        })

        const names = ["first", "second", ...Array.from({ length: 8 }, (_, i) => `concurrent${i}`)]
        for (const name of names) {
          const http = named(name)
          assert.isUndefined(parentOf(http), `${name} is a root`)
          assert.strictEqual(parentOf(named(`${name}.after`)), http.spanContext().spanId)
          const children = memcachedSpansIn(http.spanContext().traceId)
          // The traced facade's set and get; the untraced one makes no span.
          assert.deepStrictEqual(children.map((span) => span.name), ["set", "get"], name)
          for (const child of children) assert.strictEqual(parentOf(child), http.spanContext().spanId)
        }
        assertMemcachedSpansAreLeaves()
      }).pipe(Effect.scoped))
  })
}
