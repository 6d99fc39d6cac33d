/**
 * Request framing (`src/engine/protocol.ts`): the layout of a request and of a quiet batch, the recycling of large
 * frames' buffers, and reading a response's key in place.
 */
import { assert, describe, it } from "@effect/vitest"
import { TextItem } from "../src/engine/item.js"
import type { WireKey } from "../src/engine/keys.js"
import { KeyProblem, makeKeyEncoder } from "../src/engine/keys.js"
import {
  encodeKeyBatch,
  encodeKeyRequests,
  encodeRequest,
  isRecyclable,
  joinFrames,
  Opcode,
  recycleFrame,
  Response,
  writeExtras
} from "../src/engine/protocol.js"
import { TLS_RECORD } from "../src/engine/tlsRecord.js"

const large = (length: number, fill: number) => Buffer.alloc(length, fill)
const encodeKey = makeKeyEncoder<WireKey | KeyProblem>({}, (wire) => wire, (problem) => problem)

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

  it("zeroes the CAS field of a request without one, in a buffer that held another frame", () => {
    const value = large(8 * 1024, 3)
    const first = encodeRequest(Opcode.Set, 1, Buffer.from("k"), writeExtras(0, 0), value, 2n ** 64n - 1n)
    recycleFrame(first)
    const second = encodeRequest(Opcode.Set, 2, Buffer.from("k"), writeExtras(0, 0), value)
    assert.strictEqual(second.buffer, first.buffer)
    assert.strictEqual(second.readBigUInt64BE(16), 0n)
    recycleFrame(second)
  })

  it("writes a WireKey as its bytes: from its text when it is ASCII, from its bytes otherwise", () => {
    for (const text of ["k", "user:42", "é€:1", "ÿ", "k".repeat(48), "k".repeat(49), "k".repeat(250)]) {
      const key = encodeKey(text) as WireKey
      const fromKey = encodeRequest(Opcode.GetK, 3, key)
      assert.isTrue(fromKey.equals(encodeRequest(Opcode.GetK, 3, Buffer.from(text))), text)
      const withExtras = encodeRequest(Opcode.Set, 4, key, writeExtras(1, 2), Buffer.from("value"), 5n)
      assert.isTrue(
        withExtras.equals(encodeRequest(Opcode.Set, 4, Buffer.from(text), writeExtras(1, 2), Buffer.from("value"), 5n))
      )
    }
  })

  it("builds frames of 4 KiB and more in recyclable buffers, and leaves smaller ones to Node's pool", () => {
    const frameOf = (length: number) => encodeRequest(Opcode.Set, 1, Buffer.from("k"), undefined, large(length - 25, 1))
    assert.isFalse(isRecyclable(frameOf(1000)))
    assert.isFalse(isRecyclable(frameOf(4095)))
    for (const length of [4096, 10_265, 100_000]) {
      const frame = frameOf(length)
      assert.strictEqual(frame.length, length)
      assert.isTrue(isRecyclable(frame), `${length} bytes`)
      recycleFrame(frame)
    }
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

describe("writeExtras", () => {
  it("gives the same buffer for the same flags and expiration in a row, and never changes one it gave", () => {
    const first = writeExtras(16, 300)
    assert.strictEqual(writeExtras(16, 300), first)
    const other = writeExtras(2, 300)
    assert.notStrictEqual(other, first)
    assert.deepStrictEqual([other.readUInt32BE(0), other.readUInt32BE(4)], [2, 300])
    assert.deepStrictEqual([first.readUInt32BE(0), first.readUInt32BE(4)], [16, 300])
    assert.deepStrictEqual([writeExtras(-1, 0).readUInt32BE(0), writeExtras(-1, 0).readUInt32BE(4)], [0xffffffff, 0])
  })
})

describe("joinFrames", () => {
  const set = (opaque: number, length: number) =>
    encodeRequest(Opcode.Set, opaque, Buffer.from(`k${opaque}`), writeExtras(0, 0), large(length, opaque))

  it("joins the frames in order, and hands back the parts' buffers for later frames", () => {
    const parts = [set(1, 10_000), set(2, 20), set(3, 10_000)]
    const copies = parts.map((part) => Buffer.from(part))
    const reusable = new Set([parts[0]!.buffer, parts[2]!.buffer])
    const joined = joinFrames(parts, copies.reduce((size, part) => size + part.length, 0))
    assert.isTrue(joined.equals(Buffer.concat(copies)))
    assert.isTrue(isRecyclable(joined))
    assert.isFalse(isRecyclable(parts[0]!))
    const later = [set(4, 10_000), set(5, 10_000)]
    assert.isTrue(later.every((frame) => reusable.has(frame.buffer)))
    for (const frame of [joined, ...later]) recycleFrame(frame)
  })

  it("leaves a part it did not lend as it is (a batch's frame, read again for its answers' keys)", () => {
    const encodeKey = makeKeyEncoder<WireKey | KeyProblem>({ hashLongKeys: true }, (wire) => wire, (problem) => problem)
    const keys = Array.from({ length: 200 }, (_, i) => encodeKey(`batch:${i}`) as WireKey)
    const batch = encodeKeyRequests(Opcode.GetKQ, 10, keys)
    const before = Buffer.from(batch)
    const joined = joinFrames([set(1, 3000), batch], 3000 + 24 + 2 + 8 + batch.length)
    assert.isTrue(joined.subarray(joined.length - batch.length).equals(before))
    const later = set(2, batch.length - 34)
    assert.notStrictEqual(later.buffer, batch.buffer)
    assert.isTrue(batch.equals(before))
    recycleFrame(joined)
    recycleFrame(later)
  })

  it("takes the join's buffer before handing back the parts: a part's buffer never holds the join", () => {
    const parts = [set(1, 20), set(2, 10_000)]
    const copies = parts.map((part) => Buffer.from(part))
    const joined = joinFrames(parts, copies[0]!.length + copies[1]!.length)
    assert.isTrue(joined.equals(Buffer.concat(copies)))
    recycleFrame(joined)
  })

  it("builds a join under 4 KiB in Node's pool, as a small frame", () => {
    const joined = joinFrames([set(1, 100), set(2, 100)], 2 * (24 + 8 + 2 + 100))
    assert.isFalse(isRecyclable(joined))
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

  it("encodeKeyBatch: the same bytes, cut between requests into frames of at most a TLS record", () => {
    for (const count of [0, 1, 100, 372, 373, 700, 3000]) {
      const keys = Array.from(
        { length: count },
        (_, i) => wireKey(`batch:${"é".repeat(i % 7)}${"x".repeat(i % 40)}:${i}`)
      )
      const starts: Array<number> = []
      const frameOf: Array<Buffer> = []
      const frames = encodeKeyBatch(Opcode.GetKQ, 9, keys, starts, frameOf)
      assert.isTrue(Buffer.concat(frames).equals(encodeKeyRequests(Opcode.GetKQ, 9, keys)), `${count} keys`)
      for (const frame of frames) {
        assert.isAtMost(frame.length, TLS_RECORD)
        // Whole requests: walking the headers ends exactly at the frame's end.
        let at = 0
        while (at < frame.length) at += 24 + frame.readUInt32BE(at + 8)
        assert.strictEqual(at, frame.length)
      }
      if (count >= 700) assert.isAbove(frames.length, 1)
      keys.forEach((key, i) =>
        assert.strictEqual(frameOf[i]!.toString("utf8", starts[i], starts[i]! + key.size), key.text, `key ${i}`)
      )
    }
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

  it("tells a WireKey by its text when it is ASCII, by its bytes otherwise, as hasKey does", () => {
    const wire = (text: string): WireKey => encodeKey(text) as WireKey
    for (const text of ["k", "user:42", "k".repeat(48), "k".repeat(49), "é:1", "ü".repeat(60), "k".repeat(250)]) {
      const response = responseFor(text)
      assert.isTrue(response.hasWireKey(wire(text)), text)
      for (
        const other of [
          "x" + text.slice(1),
          text.slice(0, -1) + "x",
          text + "k",
          text.slice(1),
          text.slice(0, -1) + "é"
        ]
      ) {
        if (other === "" || other === text || Buffer.byteLength(other) > 250) continue
        assert.strictEqual(response.hasWireKey(wire(other)), response.hasKey(Buffer.from(other)), `${text} / ${other}`)
        assert.isFalse(response.hasWireKey(wire(other)), `${text} / ${other}`)
      }
    }
  })
})
