/**
 * The serializers, through the public API: the services in `Serializer.formats`, the flags that keep them apart, and
 * the layers that provide them. Shared by both Effect lines through `#line`; `effect4/test/serializer.test.ts` runs it
 * on Effect 4. The `Cache` built over each of them (in memory and against a real memcached, and what other clients
 * see of what we write) is `serializer.cache.test.ts`, on this line.
 */
import {
  assert,
  describe,
  Effect,
  Exit,
  Flags,
  it,
  type Item,
  SerializationError,
  Serializer,
  serializerFailsAsExit,
  type SerializerName,
  useSerializer
} from "#line"
import * as v8 from "node:v8"
import { TextItem } from "../src/engine/item.js"
import { formats, longTextItem } from "../src/engine/serialization.js"
import { causeText, cyclic, flipSerialization, nativeValues, structuredValues } from "./support/serializerCases.js"

const { bytes, json, raw, structured } = Serializer.formats

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
      const failed: unknown = serializer.encode("k", bad)
      if (serializerFailsAsExit) assert.isTrue(Exit.isExit(failed) && Exit.isFailure(failed), serializer.name)
      const error = Effect.runSyncExit(Effect.flip(serializer.encode("k", bad)))
      assert.isTrue(Exit.isSuccess(error) && error.value instanceof SerializationError, serializer.name)
    }
    const mismatched: unknown = json.decode("k", { value: new Uint8Array(1), flags: Flags.structured })
    if (serializerFailsAsExit) assert.isTrue(Exit.isExit(mismatched) && Exit.isFailure(mismatched))
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

describe("Serializer (the service and its layers)", () => {
  const names: ReadonlyArray<SerializerName> = ["structured", "json", "raw", "bytes"]
  for (const name of names) {
    it.effect(`Serializer.${name} provides the ${name} service`, () =>
      Effect.gen(function*() {
        const serializer = yield* Serializer
        assert.strictEqual(serializer, Serializer.formats[name])
        assert.strictEqual(serializer.name, name)
      }).pipe(Effect.provide(Serializer[name])))
  }

  it.effect("a serializer of one's own is provided like the built-in ones", () =>
    Effect.gen(function*() {
      const upper = Serializer.of({
        name: "upper",
        encode: (_key, value) => Effect.succeed({ value: Buffer.from(String(value).toUpperCase()), flags: 7 }),
        decode: (_key, encoded) => Effect.succeed(Buffer.from(encoded.value).toString())
      })
      const encoded = yield* useSerializer((serializer) => serializer.encode("k", "abc")).pipe(
        Effect.provideService(Serializer, upper)
      )
      assert.deepStrictEqual([Buffer.from(encoded.value).toString(), encoded.flags], ["ABC", 7])
    }))

  it.effect("the service key is an Effect: a program that uses it needs a Serializer until a layer provides it", () =>
    Effect.gen(function*() {
      const program: Effect.Effect<Item, SerializationError, Serializer> = Effect.flatMap(
        Serializer,
        (serializer) => serializer.encode("k", { n: 1 })
      )
      const encoded = yield* Effect.provide(program, Serializer.json)
      assert.strictEqual(encoded.flags, Flags.json)
      assert.strictEqual(Buffer.from(encoded.value).toString(), "{\"n\":1}")
    }))
})

describe("long strings on the write paths (longTextItem)", () => {
  it("structured leaves a long string as text with the bytes and flags its encode gives; nothing else does", () => {
    const run = <A>(effect: Effect.Effect<A, unknown>) => Effect.runSync(effect)
    for (const text of ["x".repeat(4096), "é€😀".repeat(2000), "a".repeat(500_000)]) {
      const item = longTextItem(formats.structured, text)
      assert.instanceOf(item, TextItem)
      const encoded: Item = run(structured.encode("k", text))
      assert.strictEqual(item!.flags, encoded.flags)
      assert.strictEqual(item!.size, encoded.value.length)
      assert.isTrue(Buffer.from(item!.value).equals(Buffer.from(encoded.value)))
    }
    assert.isUndefined(longTextItem(formats.structured, "x".repeat(4095)), "short: from Node's pool")
    assert.isUndefined(longTextItem(formats.structured, "x".repeat(5000) + "\ud800"), "a lone surrogate: cloned")
    assert.isUndefined(longTextItem(formats.structured, new Uint8Array(5000)))
    for (const name of ["json", "raw", "bytes"] as const) {
      assert.isUndefined(longTextItem(formats[name], "x".repeat(5000)), name)
    }
  })
})
