/**
 * Spans over real memcached with SASL (the Effect 3 line's test server speaks SASL; the shared suite is
 * `observability.test.ts`): the same spans, and no password, value or key in any span, also when auth fails.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Layer, Option, Redacted } from "effect"
import { Cache, MemcachedError, Serializer, SpanAttributes } from "../src/index.js"
import { startMemcached } from "./support/MemcachedServer.js"
import { makeRecording, traced } from "./support/recordingTracer.js"

const VALUE_MARKER = "VALUE-4f1d9c-never-in-a-span"
const PASSWORD = "pw-5e0c7a-never-in-a-span"

describe("tracing with SASL", () => {
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
      assert.deepStrictEqual(spans.map((span) => span.name), ["set", "get", "getMany", "get"])
      for (const span of spans) {
        assert.strictEqual(span.kind, "client")
        assert.strictEqual(span.attributes.get("db.system.name"), "memcached")
        assert.strictEqual(span.attributes.get("peer.service"), "sessions")
        // Operations name the server they went to, batches too (a store's hook, see `instrument`).
        assert.strictEqual(span.attributes.get(SpanAttributes.serverAddress), server.host, `${span.name}'s server`)
        assert.strictEqual(span.attributes.get(SpanAttributes.serverPort), server.port, `${span.name}'s port`)
      }
      const authFailure = spans[3]!
      assert.strictEqual(authFailure.attributes.get("error.type"), "Auth")
      assert.strictEqual(authFailure.status._tag, "Ended")
      const exit = (authFailure.status as { readonly exit: Exit.Exit<unknown, unknown> }).exit
      assert.isTrue(Exit.isFailure(exit))
      const auth = Option.getOrUndefined(Cause.failureOption((exit as Exit.Failure<unknown, unknown>).cause)) as {
        readonly _tag: string
        readonly message: string
      }
      assert.strictEqual(auth._tag, "MemcachedError")
      assert.include(auth.message, "Auth")
      const dump = recording.dump()
      assert.notInclude(dump, PASSWORD)
      assert.notInclude(dump, VALUE_MARKER)
      assert.notInclude(dump, "sasl-k")
    }).pipe(Effect.scoped, traced(recording))
  })
})
