/**
 * The `Cache` built over each serializer, in memory and against a real memcached, and what a plain ASCII-protocol
 * client (another language's client) and raw memjs see of what we write. The serializers themselves are
 * `serializer.test.ts` (both lines).
 */
import { assert, layer, type Vitest } from "@effect/vitest"
import { assertNone, assertSome } from "@effect/vitest/utils"
import { Effect, Layer, Option } from "effect"
import memjs from "memjs"
import type { SerializerName } from "../src/index.js"
import { Cache, Flags, Memcached, Serializer } from "../src/index.js"
import { asciiGet, asciiLine, asciiSet } from "./support/asciiClient.js"
import { MemcachedServer } from "./support/MemcachedServer.js"
import { causeText, cyclic, flipSerialization, nativeValues, structuredValues } from "./support/serializerCases.js"

const PREFIX = "ser:"

/** A `Cache` with the named serializer over the `Memcached` in context (all caches of a test share one store). */
const cacheWith = (name: SerializerName) =>
  Effect.flatMap(Memcached, (memcached) => Cache.make(memcached, Serializer.formats[name]))

/** Every Cache-level test, against any store that provides `Memcached`. */
const cacheSuite = <X extends boolean>(it: Vitest.MethodsNonLive<Memcached, X>, tag: string) => {
  const key = (name: string) => `${tag}-${name}`

  it.effect("structured values round-trip through the Cache", () =>
    Effect.gen(function*() {
      const cache = yield* cacheWith("structured")
      for (const [name, value] of structuredValues) {
        const k = key(`rt-${name.replace(/\s+/g, "-")}`)
        yield* cache.set(k, value)
        assertSome(yield* cache.get(k), value)
      }
      const k = key("rt-cyclic")
      yield* cache.set(k, cyclic())
      const back = Option.getOrThrow(yield* cache.get(k)) as ReturnType<typeof cyclic>
      assert.strictEqual(back.self, back)
      assert.strictEqual(back.list?.[0], back)
    }))

  it.effect("a stored undefined is a hit holding undefined, not a miss", () =>
    Effect.gen(function*() {
      const cache = yield* cacheWith("structured")
      const k = key("undefined-hit")
      yield* cache.set(k, undefined)
      const got = yield* cache.get(k)
      assert.isTrue(Option.isSome(got))
      assert.isUndefined(Option.getOrThrow(got))
      assert.isTrue(yield* cache.has(k))
      assertNone(yield* cache.get(key("undefined-never-set")))
    }))

  it.effect("an integer the default wrote counts with Memcached.increment and reads back as a number", () =>
    Effect.gen(function*() {
      const cache = yield* cacheWith("structured")
      const k = key("counter")
      yield* cache.set(k, 41)
      assertSome(yield* (yield* Memcached).increment(k, 1), 42n)
      assertSome(yield* cache.get(k), 42)
    }))

  it.effect("json through the Cache: round-trip, and undefined / BigInt fail to encode without storing", () =>
    Effect.gen(function*() {
      const cache = yield* cacheWith("json")
      const k = key("json-rt")
      yield* cache.set(k, { list: [1, 2, { x: "y" }], flag: false })
      assertSome(yield* cache.get(k), { list: [1, 2, { x: "y" }], flag: false })

      for (const [name, value] of [["undef", undefined], ["bigint", 9n]] as const) {
        const bad = key(`json-${name}`)
        const error = yield* flipSerialization(cache.set(bad, value))
        assert.strictEqual(error.direction, "encode")
        assert.strictEqual(error.key, bad)
        assertNone(yield* cache.get(bad))
      }
    }))

  it.effect("raw and bytes through the Cache", () =>
    Effect.gen(function*() {
      const rawCache = yield* cacheWith("raw")
      const bytesCache = yield* cacheWith("bytes")
      const text = key("raw-text")
      yield* rawCache.set(text, "plain ✓ text")
      assertSome(yield* rawCache.get(text), "plain ✓ text")
      const asBytes = Option.getOrThrow(yield* bytesCache.get(text))
      assert.instanceOf(asBytes, Uint8Array)
      assert.deepStrictEqual(Array.from(asBytes as Uint8Array), Array.from(Buffer.from("plain ✓ text", "utf8")))

      const bin = key("raw-bin")
      yield* bytesCache.set(bin, new Uint8Array([0xc3, 0x28, 0x00]))
      const back = Option.getOrThrow(yield* rawCache.get(bin))
      assert.instanceOf(back, Uint8Array)
      assert.deepStrictEqual(Array.from(back as Uint8Array), [0xc3, 0x28, 0x00])

      const bad = key("raw-number")
      const error = yield* flipSerialization(rawCache.set(bad, 12))
      assert.strictEqual(error.direction, "encode")
      assertNone(yield* rawCache.get(bad))
    }))

  it.effect("cross-serializer reads fail with SerializationError(decode) and a clear message", () =>
    Effect.gen(function*() {
      const structuredCache = yield* cacheWith("structured")
      const jsonCache = yield* cacheWith("json")
      const rawCache = yield* cacheWith("raw")

      const s = key("mix-s")
      yield* structuredCache.set(s, { a: 1 })
      const s2j = yield* flipSerialization(jsonCache.get(s))
      assert.strictEqual(s2j.direction, "decode")
      assert.strictEqual(s2j.key, s)
      assert.include(s2j.message, "written by the structured serializer, not json")
      const s2r = yield* flipSerialization(rawCache.get(s))
      assert.strictEqual(s2r.direction, "decode")
      assert.include(s2r.message, "structured serializer")
      assert.include((yield* flipSerialization(jsonCache.getMany([s]))).message, "structured serializer")
      assert.include((yield* flipSerialization(jsonCache.updateTimeout(s, "1 minute"))).message, "structured")

      const j = key("mix-j")
      yield* jsonCache.set(j, { a: 1 })
      const j2s = yield* flipSerialization(structuredCache.get(j))
      assert.strictEqual(j2s.direction, "decode")
      assert.include(j2s.message, "written by the json serializer, not structured")
      // A batch fails as its first item that does not decode, after ones that do.
      const batch = yield* flipSerialization(jsonCache.getMany([j, s, key("mix-absent")]))
      assert.deepStrictEqual([batch.key, batch.direction], [s, "decode"])
      assert.include(batch.message, "written by the structured serializer, not json")

      const r = key("mix-r")
      yield* rawCache.set(r, "{\"a\":1}")
      const r2j = yield* flipSerialization(jsonCache.get(r))
      assert.strictEqual(r2j.direction, "decode")
      assert.include(causeText(r2j), "0x0")
      // The value itself is untouched: its own serializer still reads it.
      assertSome(yield* structuredCache.get(s), { a: 1 })
    }))
}

const MemoryStore = Cache.layerMemory({ keyPrefix: PREFIX }).pipe(Layer.provide(Serializer.structured))

const RealStore = Layer.unwrapEffect(
  Effect.map(MemcachedServer, (server) => Cache.layerMemcached({ servers: server.address, keyPrefix: PREFIX }))
).pipe(Layer.provide(Serializer.structured), Layer.provideMerge(MemcachedServer.layer))

layer(MemoryStore)("Cache serializers over MemcachedTest's store", (it) => cacheSuite(it, "mem"))

layer(RealStore, { excludeTestServices: true })("Cache serializers over a real memcached", (it) => {
  cacheSuite(it, "real")

  it.effect("a raw string written by us is exactly its UTF-8 bytes with flags 0 for an ASCII client", () =>
    Effect.gen(function*() {
      const { address } = yield* MemcachedServer
      const cache = yield* cacheWith("raw")
      const text = "héllo wörld 😀 € — from effect-memcached"
      yield* cache.set("interop-raw-out", text)
      const seen = Option.getOrThrow(yield* asciiGet(address, `${PREFIX}interop-raw-out`))
      assert.strictEqual(seen.flags, 0)
      assert.isTrue(seen.bytes.equals(Buffer.from(text, "utf8")))
    }))

  it.effect("a value written by an ASCII client with flags 0 reads as the string through raw", () =>
    Effect.gen(function*() {
      const { address } = yield* MemcachedServer
      yield* asciiSet(address, `${PREFIX}interop-raw-in`, 0, "from another language ✓")
      assertSome(yield* (yield* cacheWith("raw")).get("interop-raw-in"), "from another language ✓")
      const asBytes = Option.getOrThrow(yield* (yield* cacheWith("bytes")).get("interop-raw-in"))
      assert.instanceOf(asBytes, Uint8Array)
      assert.deepStrictEqual(
        Array.from(asBytes as Uint8Array),
        Array.from(Buffer.from("from another language ✓", "utf8"))
      )
      // The default reads flags 0 as bytes, as pymemcache does.
      const asDefault = Option.getOrThrow(yield* (yield* cacheWith("structured")).get("interop-raw-in"))
      assert.isTrue(Buffer.from("from another language ✓", "utf8").equals(asDefault as Buffer))
    }))

  it.effect("the default's strings, integers and bytes are plain to an ASCII client, and incr/decr count on integers", () =>
    Effect.gen(function*() {
      const { address } = yield* MemcachedServer
      const cache = yield* cacheWith("structured")
      for (const [i, [value, flags, text]] of nativeValues.entries()) {
        yield* cache.set(`interop-native-${i}`, value)
        const seen = Option.getOrThrow(yield* asciiGet(address, `${PREFIX}interop-native-${i}`))
        assert.strictEqual(seen.flags, flags, text)
        assert.isTrue(seen.bytes.equals(Buffer.from(text, "utf8")), text)
      }
      yield* cache.set("interop-counter", 41)
      assert.strictEqual(yield* asciiLine(address, `incr ${PREFIX}interop-counter 1`), "42")
      assertSome(yield* cache.get("interop-counter"), 42)
      yield* cache.set("interop-down", 10)
      assert.strictEqual(yield* asciiLine(address, `decr ${PREFIX}interop-down 1`), "9")
      assertSome(yield* cache.get("interop-down"), 9) // memcached left "9 " in place
      const memcached = yield* Memcached
      assertSome(yield* memcached.increment("interop-counter", 2n ** 64n - 43n), 2n ** 64n - 1n)
      assertSome(yield* cache.get("interop-counter"), 2n ** 64n - 1n)
    }))

  it.effect("raw memjs reads the default's strings and integers, counts on them, and its own values read as bytes", () =>
    Effect.gen(function*() {
      const { address } = yield* MemcachedServer
      const client = yield* Effect.acquireRelease(
        Effect.sync(() => memjs.Client.create(address, { logger: { log() {} } })),
        (client) => Effect.sync(() => client.close())
      )
      const cache = yield* cacheWith("structured")
      yield* cache.set("memjs-text", "for memjs ✓")
      const text = yield* Effect.promise(() => client.get(`${PREFIX}memjs-text`))
      assert.strictEqual(text.value?.toString("utf8"), "for memjs ✓")
      assert.strictEqual(text.flags?.readUInt32BE(0), Flags.text)

      yield* cache.set("memjs-counter", 99)
      const counted = yield* Effect.promise(() => client.increment(`${PREFIX}memjs-counter`, 1))
      assert.strictEqual(counted.value, 100)
      assertSome(yield* cache.get("memjs-counter"), 100)

      yield* Effect.promise(() => client.set(`${PREFIX}memjs-own`, "memjs wrote this", {}))
      const own = Option.getOrThrow(yield* cache.get("memjs-own"))
      assert.isTrue(Buffer.from("memjs wrote this").equals(own as Buffer))
    }).pipe(Effect.scoped))

  it.effect("text (flags 16) and integers (flags 2) written by an ASCII client read back as a string and a number", () =>
    Effect.gen(function*() {
      const { address } = yield* MemcachedServer
      const cache = yield* cacheWith("structured")
      yield* asciiSet(address, `${PREFIX}interop-text-in`, Flags.text, "from pymemcache ✓")
      assertSome(yield* cache.get("interop-text-in"), "from pymemcache ✓")
      yield* asciiSet(address, `${PREFIX}interop-int-in`, Flags.integer, "-1234")
      assertSome(yield* cache.get("interop-int-in"), -1234)
      // raw reads them too: they are plain text.
      assertSome(yield* (yield* cacheWith("raw")).get("interop-int-in"), "-1234")
    }))

  it.effect("json written by us is plain JSON text for an ASCII client", () =>
    Effect.gen(function*() {
      const { address } = yield* MemcachedServer
      const value = { user: "ada", tags: ["x", "ÿ"], n: 3, nested: { ok: true } }
      yield* (yield* cacheWith("json")).set("interop-json", value)
      const seen = Option.getOrThrow(yield* asciiGet(address, `${PREFIX}interop-json`))
      assert.strictEqual(seen.flags, Flags.json)
      assert.strictEqual(seen.bytes.toString("utf8"), JSON.stringify(value))
      assert.deepStrictEqual(JSON.parse(seen.bytes.toString("utf8")), value)
    }))

  it.effect("JSON written by an ASCII client under json's flags reads back through json", () =>
    Effect.gen(function*() {
      const { address } = yield* MemcachedServer
      yield* asciiSet(address, `${PREFIX}interop-json-in`, Flags.json, "{\"from\":\"python\",\"n\":[1,2]}")
      assertSome(yield* (yield* cacheWith("json")).get("interop-json-in"), { from: "python", n: [1, 2] })
    }))

  it.effect("a prefixed key appears under prefix + key to an ASCII client, and nowhere else", () =>
    Effect.gen(function*() {
      const { address } = yield* MemcachedServer
      yield* (yield* cacheWith("raw")).set("interop-prefixed", "p")
      assert.strictEqual(Option.getOrThrow(yield* asciiGet(address, `${PREFIX}interop-prefixed`)).bytes.toString(), "p")
      assertNone(yield* asciiGet(address, "interop-prefixed"))
    }))

  it.effect("foreign flags are reported by number", () =>
    Effect.gen(function*() {
      const { address } = yield* MemcachedServer
      yield* asciiSet(address, `${PREFIX}interop-flags`, 7, "x")
      for (const name of ["structured", "json"] as const) {
        const error = yield* flipSerialization((yield* cacheWith(name)).get("interop-flags"))
        assert.strictEqual(error.direction, "decode")
        assert.strictEqual(error.key, "interop-flags")
        assert.include(causeText(error), "0x7")
      }
    }))
})
