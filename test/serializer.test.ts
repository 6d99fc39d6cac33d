/**
 * The serializers, through the public API: the services in `Serializer.formats`, the `Cache` built over each of
 * them (in memory and against a real memcached), the flags that keep them apart, and what a plain ASCII-protocol
 * client (another language's client) sees of what we write.
 */
import { assert, describe, it, layer, type Vitest } from "@effect/vitest"
import { assertNone, assertSome } from "@effect/vitest/utils"
import { Effect, Exit, Layer, Option } from "effect"
import memjs from "memjs"
import * as v8 from "node:v8"
import type { Item, SerializerName } from "../src/index.js"
import { Cache, Flags, Memcached, SerializationError, Serializer } from "../src/index.js"
import { asciiGet, asciiLine, asciiSet } from "./support/asciiClient.js"
import { MemcachedServer } from "./support/MemcachedServer.js"

const PREFIX = "ser:"
const { bytes, json, raw, structured } = Serializer.formats

/** A `Cache` with the named serializer over the `Memcached` in context (all caches of a test share one store). */
const cacheWith = (name: SerializerName) =>
  Effect.flatMap(Memcached, (memcached) => Cache.make(memcached, Serializer.formats[name]))

const flipSerialization = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.map(Effect.flip(effect), (error) => {
    assert.instanceOf(error, SerializationError)
    return error as SerializationError
  })

const causeText = (error: SerializationError) =>
  error.cause instanceof Error ? error.cause.message : String(error.cause)

const cyclic = () => {
  const node: { name: string; self?: unknown; list?: Array<unknown> } = { name: "node" }
  node.self = node
  node.list = [node, { back: node }]
  return node
}

/** Values structured serialization must bring back equal (deepStrictEqual: types, -0, NaN and all). */
const structuredValues: ReadonlyArray<readonly [string, unknown]> = [
  ["date", new Date(1_700_000_000_123)],
  ["map", new Map<unknown, unknown>([["a", 1], [2, { b: [3, "c"] }], [null, new Date(0)]])],
  ["set", new Set<unknown>([1, "two", 3n, null])],
  ["bigint", 2n ** 100n + 7n],
  ["negative bigint", -123_456_789_012_345_678_901_234_567_890n],
  ["Int16Array", new Int16Array([-32768, -1, 0, 32767])],
  ["Float64Array", new Float64Array([1.5, Number.NaN, -0, Infinity])],
  ["BigInt64Array", new BigInt64Array([-1n, 2n ** 62n])],
  ["Uint8ClampedArray", new Uint8ClampedArray([0, 128, 255])],
  ["regexp", /a+(b|c)\d*$/giu],
  ["nested", { a: { b: { c: [1, { d: "e", f: [null, true, false] }] } }, list: [[1, [2, [3]]]] }],
  ["undefined", undefined],
  ["object with undefined", { present: 1, missing: undefined }],
  ["array with holes and undefined", [1, undefined, "x"]],
  ["null", null],
  ["numbers", [0, -0, Number.NaN, Infinity, -Infinity, Number.MAX_SAFE_INTEGER, 5e-324]],
  ["strings", ["", "héllo", "😀€中", "line\nbreak", "\u0000nul"]],
  ["string", "héllo 😀"],
  ["integer", -42],
  ["unsafe integer", 2 ** 53],
  ["float", 0.1],
  ["-0", -0],
  ["NaN", Number.NaN],
  ["string with a lone surrogate", "lone \ud800 surrogate"]
]

/** What `structured` stores as it is: the value, its flags, and its bytes as another client sees them. */
const nativeValues: ReadonlyArray<readonly [unknown, number, string]> = [
  ["héllo wörld 😀", Flags.text, "héllo wörld 😀"],
  ["", Flags.text, ""],
  ["line\r\nEND\r\n", Flags.text, "line\r\nEND\r\n"],
  [0, Flags.integer, "0"],
  [42, Flags.integer, "42"],
  [-7, Flags.integer, "-7"],
  [Number.MAX_SAFE_INTEGER, Flags.integer, "9007199254740991"],
  [Number.MIN_SAFE_INTEGER, Flags.integer, "-9007199254740991"],
  [Buffer.from("bytes ✓"), 0, "bytes ✓"],
  [new Uint8Array([0x62, 0x69, 0x6e]), 0, "bin"]
]

describe("Serializer.formats (the services)", () => {
  it("every built-in serializer answers at once, as an Exit (a cache skips a fiber step); a failure is SerializationError", () => {
    for (const serializer of [structured, json, raw, bytes]) {
      const encoded: unknown = serializer.encode("k", "text")
      assert.isTrue(Exit.isExit(encoded) && Exit.isSuccess(encoded), serializer.name)
      if (!Exit.isExit(encoded) || !Exit.isSuccess(encoded)) continue
      const decoded: unknown = serializer.decode("k", encoded.value as Item)
      assert.isTrue(Exit.isExit(decoded) && Exit.isSuccess(decoded), serializer.name)
    }
    for (const [serializer, bad] of [[structured, () => 1], [json, 1n], [raw, 1], [bytes, {}]] as const) {
      const failed = Effect.runSyncExit(Effect.flip(serializer.encode("k", bad)))
      assert.isTrue(Exit.isSuccess(failed) && failed.value instanceof SerializationError, serializer.name)
    }
  })

  it.effect("structured round-trips Date, Map, Set, BigInt, typed arrays, RegExp, nested values and undefined", () =>
    Effect.gen(function*() {
      for (const [name, value] of structuredValues) {
        const encoded = yield* structured.encode("k", value)
        assert.include([Flags.text, Flags.integer, Flags.structured], encoded.flags, name)
        const decoded = yield* structured.decode("k", encoded)
        assert.deepStrictEqual(decoded, value, name)
      }
      const date = yield* structured.decode("k", yield* structured.encode("k", new Date(5)))
      assert.instanceOf(date, Date)
      const regexp = (yield* structured.decode("k", yield* structured.encode("k", /x/gm))) as RegExp
      assert.instanceOf(regexp, RegExp)
      assert.strictEqual(regexp.flags, "gm")
      assert.strictEqual(regexp.source, "x")
      const floats = yield* structured.decode("k", yield* structured.encode("k", new Float32Array([0.5])))
      assert.instanceOf(floats, Float32Array)
    }))

  it.effect("structured round-trips cyclic objects, keeping the cycles", () =>
    Effect.gen(function*() {
      const decoded = (yield* structured.decode("k", yield* structured.encode("k", cyclic()))) as ReturnType<
        typeof cyclic
      >
      assert.strictEqual(decoded.name, "node")
      assert.strictEqual(decoded.self, decoded)
      assert.strictEqual(decoded.list?.[0], decoded)
      assert.strictEqual((decoded.list?.[1] as { back: unknown }).back, decoded)
    }))

  it.effect("structured refuses functions and symbols with SerializationError(encode)", () =>
    Effect.gen(function*() {
      for (const value of [() => 1, Symbol("s"), { f: () => 1 }]) {
        const error = yield* flipSerialization(structured.encode("fn-key", value))
        assert.strictEqual(error.direction, "encode")
        assert.strictEqual(error.key, "fn-key")
      }
    }))

  it.effect("structured stores strings, safe integers and bytes as they are, under pymemcache's flags", () =>
    Effect.gen(function*() {
      for (const [value, flags, text] of nativeValues) {
        const encoded = yield* structured.encode("k", value)
        assert.strictEqual(encoded.flags, flags, text)
        assert.strictEqual(Buffer.from(encoded.value).toString("utf8"), text)
        const decoded = yield* structured.decode("k", encoded)
        if (value instanceof Uint8Array) {
          assert.isTrue(Buffer.isBuffer(decoded), text)
          assert.deepStrictEqual(Array.from(decoded as Buffer), Array.from(value), text)
        } else {
          assert.strictEqual(decoded, value, text)
        }
      }
      // Everything else keeps structured serialization, which keeps its type.
      for (const value of [0.5, -0, 2 ** 53, 1n, true, null, "lone \ud800", new Uint8ClampedArray(1), [1]]) {
        assert.strictEqual((yield* structured.encode("k", value)).flags, Flags.structured, String(value))
      }
    }))

  it.effect("structured reads what 1.0's structured serializer wrote, strings and bytes included", () =>
    Effect.gen(function*() {
      for (const value of ["text", 42, new Uint8Array([1, 2]), Buffer.from("b"), { a: [1, new Date(3)] }]) {
        const written = { value: v8.serialize(value), flags: Flags.structured }
        assert.deepStrictEqual(yield* structured.decode("k", written), value)
      }
    }))

  it.effect("structured reads integers as other clients and memcached's counters leave them", () =>
    Effect.gen(function*() {
      const integer = (text: string) => structured.decode("k", { value: Buffer.from(text), flags: Flags.integer })
      assert.strictEqual(yield* integer("9 "), 9) // a decr from 10 to 9, padded in place
      assert.strictEqual(yield* integer("007"), 7)
      assert.strictEqual(yield* integer("18446744073709551615"), 18446744073709551615n) // 2^64 - 1, not rounded
      assert.strictEqual(yield* integer("-9007199254740993"), -9007199254740993n)
      for (const bad of ["", "1.5", "12a", " 1", "0x10", "1e3", "--1"]) {
        const error = yield* flipSerialization(integer(bad))
        assert.strictEqual(error.direction, "decode", bad)
      }
      const text = yield* flipSerialization(structured.decode("k", { value: Buffer.from([0xc3, 0x28]), flags: 16 }))
      assert.strictEqual(text.direction, "decode")
      const pickle = yield* flipSerialization(structured.decode("k", { value: Buffer.from("x"), flags: 1 }))
      assert.include(causeText(pickle), "0x1")
    }))

  it.effect("json round-trips JSON values and is plain UTF-8 JSON text", () =>
    Effect.gen(function*() {
      const value = { a: [1, "x", null, true, { b: 2.5 }], s: "é😀", n: -0.125, empty: {} }
      const encoded = yield* json.encode("k", value)
      assert.strictEqual(encoded.flags, Flags.json)
      assert.strictEqual(Buffer.from(encoded.value).toString("utf8"), JSON.stringify(value))
      assert.deepStrictEqual(yield* json.decode("k", encoded), value)
      for (const scalar of ["text", 42, null, true, [] as Array<unknown>]) {
        assert.deepStrictEqual(yield* json.decode("k", yield* json.encode("k", scalar)), scalar)
      }
      // Dates come back as ISO strings (JSON has no date).
      const date = yield* json.decode("k", yield* json.encode("k", new Date(Date.UTC(2024, 1, 29, 12))))
      assert.strictEqual(date, "2024-02-29T12:00:00.000Z")
    }))

  it.effect("json refuses undefined, BigInt, functions and cycles with SerializationError(encode)", () =>
    Effect.gen(function*() {
      for (const value of [undefined, 10n, { big: 1n }, () => 1, cyclic()]) {
        const error = yield* flipSerialization(json.encode("json-key", value))
        assert.strictEqual(error.direction, "encode")
        assert.strictEqual(error.key, "json-key")
        assert.strictEqual(error._tag, "SerializationError")
      }
    }))

  it.effect("json reports bytes that are not JSON as SerializationError(decode)", () =>
    Effect.gen(function*() {
      const error = yield* flipSerialization(
        json.decode("bad-json", { value: Buffer.from("{not json", "utf8"), flags: Flags.json })
      )
      assert.strictEqual(error.direction, "decode")
      assert.strictEqual(error.key, "bad-json")
    }))

  it.effect("raw stores strings as UTF-8 and bytes as they are, with flags 0", () =>
    Effect.gen(function*() {
      const text = "héllo wörld 😀 €"
      const encoded = yield* raw.encode("k", text)
      assert.strictEqual(encoded.flags, 0)
      assert.deepStrictEqual(Array.from(encoded.value), Array.from(Buffer.from(text, "utf8")))
      assert.strictEqual(yield* raw.decode("k", encoded), text)
      assert.strictEqual(yield* raw.decode("k", yield* raw.encode("k", "")), "")

      const binary = new Uint8Array([0xff, 0x00, 0xfe, 0x80])
      const encodedBinary = yield* raw.encode("k", binary)
      assert.strictEqual(encodedBinary.flags, 0)
      assert.deepStrictEqual(Array.from(encodedBinary.value), [0xff, 0x00, 0xfe, 0x80])
      // Not valid UTF-8: raw gives the bytes back.
      const decodedBinary = yield* raw.decode("k", encodedBinary)
      assert.instanceOf(decodedBinary, Uint8Array)
      assert.deepStrictEqual(Array.from(decodedBinary as Uint8Array), [0xff, 0x00, 0xfe, 0x80])
      // Bytes that are valid UTF-8 read back as a string.
      assert.strictEqual(yield* raw.decode("k", { value: Buffer.from("ok ✓"), flags: 0 }), "ok ✓")
    }))

  it.effect("raw refuses anything but strings and bytes with SerializationError(encode)", () =>
    Effect.gen(function*() {
      for (const value of [42, null, undefined, true, 1n, { a: 1 }, ["a"], new Date(0), "lone \ud800 surrogate"]) {
        const error = yield* flipSerialization(raw.encode("raw-key", value))
        assert.strictEqual(error.direction, "encode")
        assert.strictEqual(error.key, "raw-key")
      }
    }))

  it.effect("bytes always reads a Uint8Array, even for valid UTF-8", () =>
    Effect.gen(function*() {
      const encoded = yield* bytes.encode("k", "abc")
      assert.strictEqual(encoded.flags, 0)
      assert.deepStrictEqual(Array.from(encoded.value), [97, 98, 99])
      const decoded = yield* bytes.decode("k", encoded)
      assert.instanceOf(decoded, Uint8Array)
      assert.deepStrictEqual(Array.from(decoded as Uint8Array), [97, 98, 99])
      const empty = yield* bytes.decode("k", { value: new Uint8Array(0), flags: 0 })
      assert.instanceOf(empty, Uint8Array)
      assert.strictEqual((empty as Uint8Array).length, 0)
      assert.instanceOf(yield* flipSerialization(bytes.encode("k", 5)), SerializationError)
    }))

  it.effect("a serializer refuses what another one wrote, naming the writer", () =>
    Effect.gen(function*() {
      const fromStructured = yield* structured.encode("k", { a: 1 })
      const fromJson = yield* json.encode("k", { a: 1 })
      const fromRaw = yield* raw.encode("k", "{\"a\":1}")

      const s2j = yield* flipSerialization(json.decode("mix-1", fromStructured))
      assert.strictEqual(s2j.direction, "decode")
      assert.strictEqual(s2j.key, "mix-1")
      assert.include(s2j.message, "written by the structured serializer, not json")

      const j2s = yield* flipSerialization(structured.decode("mix-2", fromJson))
      assert.strictEqual(j2s.direction, "decode")
      assert.include(j2s.message, "written by the json serializer, not structured")

      for (const reader of [raw, bytes]) {
        const error = yield* flipSerialization(reader.decode("mix-3", fromStructured))
        assert.strictEqual(error.direction, "decode")
        assert.include(error.message, `written by the structured serializer, not ${reader.name}`)
        assert.include((yield* flipSerialization(reader.decode("mix-3", fromJson))).message, "json serializer")
      }

      const error = yield* flipSerialization(json.decode("mix-4", fromRaw))
      assert.strictEqual(error.direction, "decode")
      assert.include(causeText(error), "0x0")
      // Flags 0 are bytes to structured, as to pymemcache.
      assert.isTrue(Buffer.from("{\"a\":1}").equals((yield* structured.decode("mix-4", fromRaw)) as Buffer))
    }))
})

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
