/**
 * memcached's own operations on the bytes-level service, against the in-memory fake and a real server (over binary
 * and over meta) alike:
 * append and prepend (in the right order), CAS and `update`, stats; and the server of a request on its span.
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import { Memcached, MemcachedError, ValueTooLarge } from "../src/index.js"
import { MemcachedServer } from "./support/MemcachedServer.js"
import { makeRecording, traced } from "./support/recordingTracer.js"

const text = (item: Option.Option<{ readonly value: Uint8Array }>) =>
  Option.map(item, ({ value }) => Buffer.from(value).toString("utf8"))

const bytes = (value: string) => Buffer.from(value, "utf8")

const live = Layer.unwrapEffect(
  Effect.map(MemcachedServer, (server) => Memcached.layer({ servers: server.address, keyPrefix: "ops:" }))
).pipe(Layer.provide(MemcachedServer.layer))

const suite = (name: string, memcachedLayer: Layer.Layer<Memcached, unknown>) =>
  layer(memcachedLayer, { excludeTestServices: true })(name, (it) => {
    it.effect("append adds after, prepend before; both are false on a missing key", () =>
      Effect.gen(function*() {
        const memcached = yield* Memcached
        yield* memcached.set("concat", bytes("B"))
        assert.isTrue(yield* memcached.append("concat", bytes("C")))
        assert.isTrue(yield* memcached.prepend("concat", bytes("A")))
        assert.deepStrictEqual(text(yield* memcached.get("concat")), Option.some("ABC"))
        assert.isFalse(yield* memcached.append("concat-missing", bytes("x")))
        assert.isFalse(yield* memcached.prepend("concat-missing", bytes("x")))
        assert.isTrue(Option.isNone(yield* memcached.get("concat-missing")))
      }))

    it.effect("setMany writes large and small values in one batch, each read back whole", () =>
      Effect.gen(function*() {
        const memcached = yield* Memcached
        const entries = [100, 70_000, 10, 300_000, 150_000].map((size, i) =>
          [`many-${i}`, { value: Buffer.alloc(size, i + 1), flags: i }] as const
        )
        yield* memcached.setMany(entries)
        const found = yield* memcached.getMany(entries.map(([key]) => key))
        for (const [key, item] of entries) {
          const read = found.get(key)
          assert.isDefined(read, key)
          assert.isTrue(Buffer.from(read!.value).equals(item.value), key)
          assert.strictEqual(read!.flags, item.flags, key)
        }
      }))

    it.effect("an append whose result would not fit is not stored, and the value stays", () =>
      Effect.gen(function*() {
        const memcached = yield* Memcached
        yield* memcached.set("concat-big", Buffer.alloc(600_000, 1))
        assert.isFalse(yield* memcached.append("concat-big", Buffer.alloc(600_000, 2)))
        const after = yield* memcached.get("concat-big")
        assert.strictEqual(Option.getOrThrow(after).value.length, 600_000)
        const error = yield* Effect.flip(memcached.append("concat-big", Buffer.alloc(2_000_000, 2)))
        assert.instanceOf(error, ValueTooLarge)
      }))

    it.effect("compareAndSet stores only while the CAS token matches", () =>
      Effect.gen(function*() {
        const memcached = yield* Memcached
        yield* memcached.set("cas", bytes("one"))
        const first = Option.getOrThrow(yield* memcached.getWithCas("cas"))
        assert.strictEqual(Buffer.from(first.value).toString(), "one")
        assert.isTrue(yield* memcached.compareAndSet("cas", bytes("two"), first.cas))
        assert.isFalse(yield* memcached.compareAndSet("cas", bytes("three"), first.cas))
        assert.deepStrictEqual(text(yield* memcached.get("cas")), Option.some("two"))
        const second = Option.getOrThrow(yield* memcached.getWithCas("cas"))
        assert.notStrictEqual(second.cas, first.cas)
        assert.isTrue(Option.isNone(yield* memcached.getWithCas("cas-missing")))
        assert.isFalse(yield* memcached.compareAndSet("cas-missing", bytes("x"), first.cas))
      }))

    it.effect("update loses no write among 30 concurrent read-modify-writes", () =>
      Effect.gen(function*() {
        const memcached = yield* Memcached
        const increment = (current: Option.Option<{ readonly value: Uint8Array; readonly flags: number }>) => ({
          value: bytes(
            String(Option.match(current, { onNone: () => 0, onSome: (item) => Number(Buffer.from(item.value)) }) + 1)
          ),
          flags: 7
        })
        yield* Effect.all(Array.from({ length: 30 }, () => memcached.update("update", increment, { attempts: 100 })), {
          concurrency: "unbounded"
        })
        const stored = Option.getOrThrow(yield* memcached.get("update"))
        assert.strictEqual(Buffer.from(stored.value).toString(), "30")
        assert.strictEqual(stored.flags, 7)
      }))

    it.effect("update gives up with a MemcachedError after its attempts when every write conflicts", () =>
      Effect.gen(function*() {
        const memcached = yield* Memcached
        yield* memcached.set("update-busy", bytes("0"))
        let calls = 0
        const error = yield* Effect.flip(memcached.update("update-busy", () => {
          calls++
          // another writer changes the item between our read and our write, every time
          Effect.runFork(memcached.set("update-busy", bytes(`other-${calls}`)))
          return { value: bytes("mine"), flags: 0 }
        }, { attempts: 3 }))
        assert.instanceOf(error, MemcachedError)
        assert.include(error.message, "3 attempts")
        assert.strictEqual(calls, 3)
      }))

    it.effect("stats and version answer for every server", () =>
      Effect.gen(function*() {
        const memcached = yield* Memcached
        yield* memcached.set("stats", bytes("x"))
        const stats = yield* memcached.stats
        assert.strictEqual(stats.size, 1)
        const [only] = [...stats.values()]
        assert.isAtLeast(Number(only!.curr_items), 1)
        assert.strictEqual((yield* memcached.version).size, 1)
      }))
  })

const meta = Layer.unwrapEffect(
  Effect.map(
    MemcachedServer,
    (server) => Memcached.layer({ servers: server.address, keyPrefix: "ops:", protocol: "meta" })
  )
).pipe(Layer.provide(MemcachedServer.layerAscii))

suite("memjs operations on the in-memory fake", Memcached.layerMemory())
suite("memjs operations on real memcached", live)
suite("memcached's operations over meta (memcached -B ascii)", meta)

describe("spans", () => {
  it.scopedLive("a request's span carries the server it went to", () => {
    const recording = makeRecording()
    return Effect.gen(function*() {
      const memcached = yield* Memcached
      const server = yield* MemcachedServer
      yield* memcached.get("span-server")
      const span = recording.memcachedSpans().find((candidate) => candidate.name === "get")!
      assert.strictEqual(span.attributes.get("server.address"), server.host)
      assert.strictEqual(span.attributes.get("server.port"), server.port)
    }).pipe(
      Effect.provide(
        Layer.unwrapEffect(Effect.map(MemcachedServer, (server) => Memcached.layer({ servers: server.address }))).pipe(
          Layer.provideMerge(MemcachedServer.layer)
        )
      ),
      traced(recording)
    )
  })
})
