/**
 * Request framing (`src/engine/protocol.ts`): the layout of a request and of a quiet batch, the recycling of large
 * frames' buffers, and reading a response's key in place.
 */
import { assert, describe, it } from "@effect/vitest"
import { TextItem } from "../src/engine/item.js"
import type { WireKey } from "../src/engine/keys.js"
import { KeyProblem, makeKeyEncoder } from "../src/engine/keys.js"
import {
  encodeKeyRequests,
  encodeRequest,
  isRecyclable,
  Opcode,
  recycleFrame,
  Response,
  writeExtras
} from "../src/engine/protocol.js"

const large = (length: number, fill: number) => Buffer.alloc(length, fill)

describe("encodeRequest", () => {
  it("lays out header, extras, key and value", () => {
    const frame = encodeRequest(Opcode.Set, 7, Buffer.from("key"), writeExtras(3, 60), Buffer.from("value"), 9n)
    assert.strictEqual(frame.length, 24 + 8 + 3 + 5)
    assert.deepStrictEqual([frame[0], frame[1], frame.readUInt16BE(2), frame[4]], [0x80, Opcode.Set, 3, 8])
    assert.strictEqual(frame.readUInt32BE(8), 8 + 3 + 5)
    assert.strictEqual(frame.readUInt32BE(12), 7)
    assert.strictEqual(frame.readBigUInt64BE(16), 9n)
    assert.deepStrictEqual(frame.subarray(24, 32), writeExtras(3, 60))
    assert.strictEqual(frame.subarray(32).toString(), "keyvalue")
  })

  it("writes a TextItem's text as the UTF-8 bytes its value would have been, short or long, ASCII or not", () => {
    for (const text of ["value", "é€😀".repeat(3000), "a".repeat(200_000), "ü".repeat(100_000)]) {
      const item = new TextItem(text, 16)
      assert.strictEqual(item.size, Buffer.byteLength(text))
      const fromText = encodeRequest(Opcode.Set, 5, Buffer.from("key"), writeExtras(16, 0), item)
      const fromBytes = encodeRequest(Opcode.Set, 5, Buffer.from("key"), writeExtras(16, 0), Buffer.from(text))
      assert.isTrue(fromText.equals(fromBytes), `${text.length} code units`)
      assert.isTrue(Buffer.from(item.value).equals(Buffer.from(text)))
      recycleFrame(fromText)
      recycleFrame(fromBytes)
    }
  })

  it("builds large frames only in recyclable buffers", () => {
    assert.isFalse(isRecyclable(encodeRequest(Opcode.Set, 1, Buffer.from("k"), undefined, large(1000, 1))))
    assert.isTrue(isRecyclable(encodeRequest(Opcode.Set, 1, Buffer.from("k"), undefined, large(100_000, 1))))
  })

  it("reuses a recycled buffer for a later large frame of a similar length, once", () => {
    const first = encodeRequest(Opcode.Set, 1, Buffer.from("a"), undefined, large(200_000, 1))
    recycleFrame(first)
    const second = encodeRequest(Opcode.Set, 2, Buffer.from("b"), undefined, large(150_000, 2))
    const third = encodeRequest(Opcode.Set, 3, Buffer.from("c"), undefined, large(150_000, 3))
    assert.strictEqual(second.buffer, first.buffer)
    assert.notStrictEqual(third.buffer, first.buffer)
    assert.strictEqual(second.length, 24 + 1 + 150_000)
    assert.strictEqual(second.readUInt32BE(12), 2)
    assert.isTrue(second.subarray(25).every((byte) => byte === 2))
  })

  it("takes a buffer back once however often it is handed back", () => {
    const first = encodeRequest(Opcode.Set, 1, Buffer.from("a"), undefined, large(200_000, 1))
    recycleFrame(first)
    recycleFrame(first)
    const second = encodeRequest(Opcode.Set, 2, Buffer.from("b"), undefined, large(200_000, 2))
    const third = encodeRequest(Opcode.Set, 3, Buffer.from("c"), undefined, large(200_000, 3))
    assert.strictEqual(second.buffer, first.buffer)
    assert.notStrictEqual(third.buffer, first.buffer)
  })

  it("reuses a recycled buffer for a frame a few bytes longer (a longer key over a value of the same size)", () => {
    const first = encodeRequest(Opcode.Set, 1, Buffer.from("key:1"), undefined, large(120_000, 1))
    recycleFrame(first)
    const longer = encodeRequest(Opcode.Set, 2, Buffer.from("key:12"), undefined, large(120_000, 2))
    assert.isTrue(longer.buffer === first.buffer) // (a failing strictEqual would print both buffers)
    assert.strictEqual(longer.length, 24 + 6 + 120_000)
  })

  it("keeps as many recycled buffers as frames held at once, beyond 8 MiB", () => {
    const held = Array.from(
      { length: 24 },
      (_, i) => encodeRequest(Opcode.Set, i, Buffer.from("k"), undefined, large(500_000, 1))
    )
    for (const frame of held) recycleFrame(frame)
    const buffers = new Set(held.map((frame) => frame.buffer))
    const again = Array.from(
      { length: 24 },
      (_, i) => encodeRequest(Opcode.Set, i, Buffer.from("k"), undefined, large(500_000, 2))
    )
    assert.isTrue(again.every((frame) => buffers.has(frame.buffer)))
    for (const frame of again) recycleFrame(frame)
  })

  it("does not hand a recycled buffer to a frame less than half its length", () => {
    const first = encodeRequest(Opcode.Set, 1, Buffer.from("a"), undefined, large(400_000, 1))
    recycleFrame(first)
    const small = encodeRequest(Opcode.Set, 2, Buffer.from("b"), undefined, large(100_000, 2))
    assert.notStrictEqual(small.buffer, first.buffer)
    const fitting = encodeRequest(Opcode.Set, 3, Buffer.from("c"), undefined, large(300_000, 3))
    assert.strictEqual(fitting.buffer, first.buffer)
  })
})

describe("encodeKeyRequests", () => {
  const encodeKey = makeKeyEncoder<WireKey | KeyProblem>(
    { hashLongKeys: true },
    (wire) => wire,
    (problem) => problem
  )
  const wireKey = (key: string): WireKey => {
    const wire = encodeKey(key)
    if (wire instanceof KeyProblem) throw new Error(wire.reason)
    return wire
  }

  it("frames one request per key with consecutive opaques, then the no-op, in the layout encodeRequest gives", () => {
    // Short and long, ASCII and UTF-8 keys, and one hashed: each lands at its place, whatever came before it.
    const keys = ["a", "key-2", "k3", "ü-ключ-🔑", "l".repeat(49), "x".repeat(250), "y".repeat(300), "b"].map(wireKey)
    const starts: Array<number> = []
    const batch = encodeKeyRequests(Opcode.GetKQ, 40, keys, starts)
    const expected = Buffer.concat([
      ...keys.map((key, i) => encodeRequest(Opcode.GetKQ, 40 + i, Buffer.from(key.text, "utf8"))),
      encodeRequest(Opcode.Noop, 40 + keys.length)
    ])
    assert.deepStrictEqual(batch, expected)
    keys.forEach((key, i) =>
      assert.deepStrictEqual(batch.subarray(starts[i], starts[i]! + key.size), Buffer.from(key.text, "utf8"))
    )
  })

  it("frames an empty batch as the no-op alone", () => {
    assert.deepStrictEqual(encodeKeyRequests(Opcode.DeleteQ, 7, []), encodeRequest(Opcode.Noop, 7))
  })
})

describe("Response, read in place", () => {
  /** A response laid out as memcached sends a GetK hit (flags, key, value), between other bytes. */
  const responseFor = (key: string) => {
    const frame = encodeRequest(Opcode.GetK, 1, Buffer.from(key), writeExtras(0, 0).subarray(0, 4), Buffer.from("v"))
    return new Response(Buffer.concat([Buffer.from("junk"), frame, Buffer.from("more")]), 4, 4 + frame.length)
  }

  for (const length of [1, 14, 48, 49, 250]) {
    it(`tells a ${length}-byte key from one that differs in its first or last byte, or in length`, () => {
      const key = "k".repeat(length)
      const response = responseFor(key)
      assert.isTrue(response.hasKey(Buffer.from(key)))
      assert.strictEqual(response.key.toString(), key)
      assert.strictEqual(response.val.toString(), "v")
      assert.isFalse(response.hasKey(Buffer.from("x" + key.slice(1))))
      assert.isFalse(response.hasKey(Buffer.from(key.slice(0, -1) + "x")))
      assert.isFalse(response.hasKey(Buffer.from(key + "k")))
      assert.isFalse(response.hasKey(Buffer.from(key.slice(1))))
      const around = Buffer.from(`ab${key}cd`)
      assert.isTrue(response.hasKey(around, 2, length))
      assert.isFalse(response.hasKey(around, 1, length))
      assert.isFalse(response.hasKey(around, 2, length + 1))
    })
  }
})
