/**
 * Values and helpers of the serializer tests: the shared `serializer.test.ts` (both lines, through `#line`) and the
 * Effect 3 line's `serializer.cache.test.ts`.
 */
import { assert, Effect, Flags, SerializationError } from "#line"

/** The `SerializationError` an effect fails with. */
export const flipSerialization = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.map(Effect.flip(effect), (error) => {
    assert.instanceOf(error, SerializationError)
    return error as SerializationError
  })

/** The message of a `SerializationError`'s cause. */
export const causeText = (error: SerializationError) =>
  error.cause instanceof Error ? error.cause.message : String(error.cause)

/** An object that holds itself, directly and deeper. */
export const cyclic = () => {
  const node: { name: string; self?: unknown; list?: Array<unknown> } = { name: "node" }
  node.self = node
  node.list = [node, { back: node }]
  return node
}

/** Values structured serialization must bring back equal (deepStrictEqual: types, -0, NaN and all). */
export const structuredValues: ReadonlyArray<readonly [string, unknown]> = [
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
export const nativeValues: ReadonlyArray<readonly [unknown, number, string]> = [
  ["héllo wörld 😀", Flags.text, "héllo wörld 😀"],
  ["héllo 😀", Flags.text, "héllo 😀"],
  ["", Flags.text, ""],
  ["line\r\nEND\r\n", Flags.text, "line\r\nEND\r\n"],
  [0, Flags.integer, "0"],
  [42, Flags.integer, "42"],
  [-7, Flags.integer, "-7"],
  [-42, Flags.integer, "-42"],
  [Number.MAX_SAFE_INTEGER, Flags.integer, "9007199254740991"],
  [Number.MIN_SAFE_INTEGER, Flags.integer, "-9007199254740991"],
  [Buffer.from("bytes ✓"), 0, "bytes ✓"],
  [Buffer.from("b ✓"), 0, "b ✓"],
  [new Uint8Array([0x62, 0x69, 0x6e]), 0, "bin"]
]
