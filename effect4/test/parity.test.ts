/**
 * The Effect 4 line against the Effect 3 line, side by side in one process: the same error for the same fields (tag,
 * name, message, enumerable fields), the same flags, and values that either line's serializers wrote read back by the
 * other's. The v3 modules come from the repository root (`../../src`), over the root's effect 3.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as V3 from "../../src/errors/index.js"
import { Flags as FlagsV3, Serializer as SerializerV3 } from "../../src/Serializer.js"
import type { Item, SerializerName } from "../src/index.js"
import * as V4 from "../src/index.js"
import { Effect as Effect3 } from "./support/effect3.js"

/** What a v3 serializer answers: its value, or (`failure`) its error. */
const v3Value = <A>(effect: unknown): A => Effect3.runSync(effect as Effect3Of<A>)
const v3Failure = (effect: unknown): unknown => Effect3.runSync(Effect3.flip(effect as Effect3Of<unknown>))
type Effect3Of<A> = Parameters<typeof Effect3.runSync<A, unknown>>[0]

/** What a v4 serializer answers: its value, or (`failure`) its error. */
const v4Value = <A>(effect: Effect.Effect<A, unknown>): A => Effect.runSync(effect)
const v4Failure = (effect: Effect.Effect<unknown, unknown>): unknown => Effect.runSync(Effect.flip(effect))

const sameError = (v3: Error & { readonly _tag: string }, v4: Error & { readonly _tag: string }) => {
  assert.strictEqual(v4._tag, v3._tag)
  assert.strictEqual(v4.name, v3.name)
  assert.strictEqual(v4.message, v3.message)
  assert.strictEqual(String(v4), String(v3))
  assert.deepStrictEqual(Object.keys(v4).sort(), Object.keys(v3).sort())
}

describe("Effect 4 line vs Effect 3 line", () => {
  it("errors: same tag, name, message and fields for the same input", () => {
    const key = "ключ:" + "x".repeat(70)
    sameError(new V3.CacheNotFound({ key }), new V4.CacheNotFound({ key }))
    for (const reason of ["empty", "contains whitespace or a control character"]) {
      sameError(new V3.InvalidKey({ key, reason }), new V4.InvalidKey({ key, reason }))
      sameError(new V3.InvalidKey({ key: "k", reason }), new V4.InvalidKey({ key: "k", reason }))
    }
    sameError(
      new V3.ValueTooLarge({ key, size: 1_048_577, limit: 1_048_000 }),
      new V4.ValueTooLarge({ key, size: 1_048_577, limit: 1_048_000 })
    )
    for (const cause of [undefined, "flags 0x7", new TypeError("BigInt has no JSON form"), 42]) {
      for (const direction of ["encode", "decode"] as const) {
        const fields = cause === undefined ? { key, direction } : { key, direction, cause }
        sameError(new V3.SerializationError(fields), new V4.SerializationError(fields))
      }
    }
    for (const reason of ["Unavailable", "Timeout", "Auth", "Protocol"] as const) {
      sameError(new V3.MemcachedError({ reason }), new V4.MemcachedError({ reason }))
      const full = {
        reason,
        server: "127.0.0.1:11211",
        detail: "connection reset",
        outcomeUnknown: true,
        cause: new Error("ECONNRESET")
      }
      sameError(new V3.MemcachedError(full), new V4.MemcachedError(full))
      sameError(
        new V3.MemcachedError({ reason, server: "h:1", outcomeUnknown: false }),
        new V4.MemcachedError({ reason, server: "h:1", outcomeUnknown: false })
      )
    }
  })

  it("serializers: same flags, and each line reads what the other wrote", () => {
    assert.deepStrictEqual(V4.Flags, FlagsV3)
    const values: ReadonlyArray<readonly [SerializerName, unknown]> = [
      ["structured", { when: new Date(5), tags: new Set(["a"]), big: 2n ** 70n, map: new Map([[1, [2, 3]]]) }],
      ["structured", undefined],
      ["structured", "héllo 😀"],
      ["structured", 2 ** 40],
      ["structured", Buffer.from([0xff, 0x00])],
      ["json", { list: [1, "two", null, true], nested: { x: -0.5 } }],
      ["raw", "héllo 😀"],
      ["raw", new Uint8Array([0xff, 0x00, 0x80])],
      ["bytes", new Uint8Array([1, 2, 3])]
    ]
    for (const [name, value] of values) {
      const v3 = SerializerV3.formats[name]
      const v4 = V4.Serializer.formats[name]
      const fromV3 = v3Value<Item>(v3.encode("k", value))
      const fromV4 = v4Value<Item>(v4.encode("k", value))
      assert.strictEqual(fromV4.flags, fromV3.flags, name)
      assert.deepStrictEqual(Buffer.from(fromV4.value), Buffer.from(fromV3.value), name)
      assert.deepStrictEqual(v4Value(v4.decode("k", fromV3)), v3Value(v3.decode("k", fromV3)), name)
      assert.deepStrictEqual(v3Value(v3.decode("k", fromV4)), v4Value(v4.decode("k", fromV4)), name)
    }
  })

  it("serializers: a mismatch is the same error on both lines", () => {
    const written = v3Value<Item>(SerializerV3.formats.structured.encode("k", { a: 1 }))
    const foreign = { value: Buffer.from("x"), flags: 7 }
    const cases = [
      ...(["json", "raw", "bytes"] as const).map((name) => [name, written] as const),
      ...(["structured", "json"] as const).map((name) => [name, foreign] as const)
    ]
    for (const [name, encoded] of cases) {
      const v3 = v3Failure(SerializerV3.formats[name].decode("mix", encoded))
      const v4 = v4Failure(V4.Serializer.formats[name].decode("mix", encoded))
      assert.instanceOf(v3, V3.SerializationError)
      assert.instanceOf(v4, V4.SerializationError)
      sameError(v3 as V3.SerializationError, v4 as V4.SerializationError)
    }
  })
})
