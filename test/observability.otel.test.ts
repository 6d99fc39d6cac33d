/**
 * Spans through the real OpenTelemetry SDK, as a user's pipeline sees them: `@effect/opentelemetry`'s tracer over a
 * `BasicTracerProvider` with an in-memory exporter, and the AsyncLocalStorage context manager that `sdk-node`
 * registers, against real memcached. Each request's spans stay in its own trace, in sequence, concurrently and across
 * reconnects.
 */
import * as OtelResource from "@effect/opentelemetry/Resource"
import * as OtelTracer from "@effect/opentelemetry/Tracer"
import { assert, describe, it } from "@effect/vitest"
import * as OtelApi from "@opentelemetry/api"
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks"
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor
} from "@opentelemetry/sdk-trace-base"
import { Effect, Layer, ManagedRuntime } from "effect"
import { Cache, Serializer } from "../src/index.js"
import { startMemcached } from "./support/MemcachedServer.js"

const exporter = new InMemorySpanExporter()
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
OtelApi.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
OtelApi.trace.setGlobalTracerProvider(provider)
const otel = OtelApi.trace.getTracer("test")

/** `@effect/opentelemetry`'s tracer over the global provider. */
const TracingLive = OtelTracer.layerGlobal.pipe(Layer.provide(OtelResource.layer({ serviceName: "otel-test" })))

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId
const named = (name: string) => {
  const found = exporter.getFinishedSpans().filter((span) => span.name === name)
  assert.strictEqual(found.length, 1, `one span ${name}`)
  return found[0]!
}
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

describe("spans through the OpenTelemetry SDK and its AsyncLocalStorage context manager, on real memcached", () => {
  it.live("requests in sequence, each a fiber of one runtime: a span started after a memcached call is a root, also after a reconnect", () =>
    Effect.gen(function*() {
      exporter.reset()
      const server = yield* startMemcached()
      const runtime = ManagedRuntime.make(
        Layer.merge(
          Cache.layerMemcached({ servers: server.address }).pipe(Layer.provideMerge(Serializer.structured)),
          TracingLive
        )
      )
      yield* Effect.addFinalizer(() => runtime.disposeEffect)
      const job = (name: string) =>
        Effect.gen(function*() {
          // The first job's set opens the connection, inside the set's span.
          yield* Effect.ignore(Cache.set(name, 1))
          yield* Effect.ignore(Cache.get(name))
          yield* Effect.void.pipe(Effect.withSpan(name))
        })
      for (const name of ["job1", "job2", "job3", "job4"]) {
        yield* Effect.promise(() => runtime.runPromise(job(name)))
        // The connection dies, and the next job's request (or its retry) opens a new one.
        if (name === "job2") yield* server.restart()
      }
      for (const name of ["job1", "job2", "job3", "job4"]) {
        assert.isUndefined(parentOf(named(name)), `${name} is a root`)
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
          yield* Effect.ignore(call(`${prefix}1`)).pipe(Effect.withSpan(`${prefix}1`))
          yield* Effect.ignore(call(`${prefix}2`)).pipe(Effect.withSpan(`${prefix}2`))
          yield* server.restart()
          yield* Effect.ignore(call(`${prefix}3`)).pipe(Effect.withSpan(`${prefix}3`))
          yield* Effect.ignore(call(`${prefix}4`)).pipe(Effect.withSpan(`${prefix}4`))
        })
      yield* Effect.gen(function*() {
        yield* sequence((name) => Cache.set(name, 1), "mc")
        yield* sequence(() => Effect.sleep("1 millis"), "sleep")
      }).pipe(Effect.provide(Layer.merge(cache, TracingLive)))

      // @effect/opentelemetry gives a span with no Effect parent the active OpenTelemetry context's span, and an
      // Effect resumed after waiting inside a span keeps that span's context: each request's parent is the one
      // before it, with memcached as with Effect.sleep, never a memcached span.
      const name = (id: string | undefined) =>
        exporter.getFinishedSpans().find((span) => span.spanContext().spanId === id)?.name
      for (const i of [2, 3, 4]) {
        assert.strictEqual(name(parentOf(named(`mc${i}`))), `mc${i - 1}`)
        assert.strictEqual(name(parentOf(named(`sleep${i}`))), `sleep${i - 1}`)
      }
      for (const i of [1, 2, 3, 4]) {
        const request = named(`mc${i}`)
        const children = memcachedSpansIn(request.spanContext().traceId)
          .filter((span) => parentOf(span) === request.spanContext().spanId)
        assert.strictEqual(children.length, 1, `mc${i}'s set`)
      }
      assertMemcachedSpansAreLeaves()
    }).pipe(Effect.scoped))

  it.live("concurrent requests, each run inside its own OpenTelemetry span: spans after a response join their caller's", () =>
    Effect.gen(function*() {
      exporter.reset()
      const server = yield* startMemcached()
      const runtime = ManagedRuntime.make(
        Layer.merge(
          Cache.layerMemcached({ servers: server.address }).pipe(Layer.provideMerge(Serializer.structured)),
          TracingLive
        )
      )
      yield* Effect.addFinalizer(() => runtime.disposeEffect)
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
          assert.strictEqual(children.length, 2, `${name}'s set and get`)
          for (const child of children) assert.strictEqual(parentOf(child), http.spanContext().spanId)
        }
        assertMemcachedSpansAreLeaves()
        if (round === 1) yield* server.restart()
      }
    }).pipe(Effect.scoped))
})
