/**
 * The serializers of the Effect 4 line, through the public API: the services in `Serializer.formats` (the same
 * assertions as the Effect 3 line's test/serializer.test.ts makes of its own), and the layers that provide them.
 * The `Cache`-level half of that file waits for the v4 `Cache`.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import * as v8 from "node:v8"
import type { Item, SerializerName } from "../src/index.js"
import { Flags, SerializationError, Serializer } from "../src/index.js"

const { bytes, json, raw, structured } = Serializer.formats

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
  ["strings", ["", "héllo", "😀€中", "line\nbreak", "\u0000nul"]]
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
      const failed: unknown = serializer.encode("k", bad)
      assert.isTrue(Exit.isExit(failed) && Exit.isFailure(failed), serializer.name)
      const error = Effect.runSyncExit(Effect.flip(serializer.encode("k", bad)))
      assert.isTrue(Exit.isSuccess(error) && error.value instanceof SerializationError, serializer.name)
    }
    const mismatched: unknown = json.decode("k", { value: new Uint8Array(1), flags: Flags.structured })
    assert.isTrue(Exit.isExit(mismatched) && Exit.isFailure(mismatched))
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

  it.effect("structured stores strings, safe integers and bytes as they are; reads 1.0's values and counters", () =>
    Effect.gen(function*() {
      const native: ReadonlyArray<readonly [unknown, number, string]> = [
        ["héllo 😀", Flags.text, "héllo 😀"],
        [-42, Flags.integer, "-42"],
        [Buffer.from("b ✓"), 0, "b ✓"]
      ]
      for (const [value, flags, text] of native) {
        const encoded = yield* structured.encode("k", value)
        assert.deepStrictEqual([encoded.flags, Buffer.from(encoded.value).toString()], [flags, text])
        assert.deepStrictEqual(yield* structured.decode("k", encoded), value)
      }
      for (const value of [0.5, -0, 2 ** 53, "lone \ud800", new Uint8ClampedArray(1)]) {
        assert.strictEqual((yield* structured.encode("k", value)).flags, Flags.structured)
      }
      for (const value of ["text", 42, new Uint8Array([1, 2])]) {
        assert.deepStrictEqual(
          yield* structured.decode("k", { value: v8.serialize(value), flags: Flags.structured }),
          value
        )
      }
      const integer = (text: string) => structured.decode("k", { value: Buffer.from(text), flags: Flags.integer })
      assert.strictEqual(yield* integer("9 "), 9)
      assert.strictEqual(yield* integer("18446744073709551615"), 18446744073709551615n)
      assert.strictEqual((yield* flipSerialization(integer("1.5"))).direction, "decode")
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
      const encoded = yield* Serializer.use((serializer) => serializer.encode("k", "abc")).pipe(
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
