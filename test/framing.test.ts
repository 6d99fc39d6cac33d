/**
 * Response framing (`src/engine/framing.ts`), without a socket: a stream of frames cut into chunks at every
 * boundary (headers included) must come out as the same responses, with the same bytes, in order; a frame that cannot
 * be an answer (bad magic, a body over the limit, claimed by no request) fails the server at once.
 */
import { assert, describe, it } from "@effect/vitest"
import type * as Net from "node:net"
import { vi } from "vitest"
import type { FramedServer } from "../src/engine/framing.js"
import { installFraming, maxBodyLength, ProtocolViolation } from "../src/engine/framing.js"
import type { Response } from "../src/engine/protocol.js"

const MAX_ITEM_SIZE = 1024 * 1024

/** A response frame: magic 0x81, then the given opcode, opaque, extras, key and value. */
const frame = (opaque: number, key: string, value: Buffer, extras = Buffer.alloc(0)) => {
  const header = Buffer.alloc(24)
  header.writeUInt8(0x81, 0)
  header.writeUInt8(0x0c, 1)
  header.writeUInt16BE(key.length, 2)
  header.writeUInt8(extras.length, 4)
  header.writeUInt32BE(extras.length + key.length + value.length, 8)
  header.writeUInt32BE(opaque, 12)
  header.writeUInt32BE(opaque * 7, 20)
  return Buffer.concat([header, extras, Buffer.from(key), value])
}

const bytes = (length: number, seed: number) => Buffer.from(Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff))

const frames = [
  frame(1, "", Buffer.alloc(0)),
  frame(2, "k", bytes(3, 2), Buffer.from([0, 0, 0, 9])),
  frame(3, "", Buffer.alloc(0)),
  frame(4, "longer-key", bytes(100, 4)),
  frame(5, "big", bytes(700, 5), Buffer.from([1, 2, 3, 4]))
]
const stream = Buffer.concat(frames)

/** A server whose responses all find their request, unless `claims` says otherwise; an error drops its socket. */
const fakeServer = (claims: (response: Response) => boolean = () => true) => {
  const responses: Array<Response> = []
  const errors: Array<unknown> = []
  const server: FramedServer = {
    _socket: {} as Net.Socket,
    responseHandler: () => {},
    respond: (response) => {
      if (!claims(response)) return false
      responses.push(response)
      return true
    },
    saslAuth: () => {},
    error: (error) => {
      errors.push(error)
      server._socket = undefined
    },
    emit: () => true,
    sock: () => {}
  }
  installFraming(server, maxBodyLength(MAX_ITEM_SIZE))
  return { server, responses, errors }
}

/** One buffer that every lent chunk is read into, as a socket's read buffer is (see `dial`). */
const readBuffer = Buffer.alloc(2 * 1024 * 1024)

/**
 * Hands `chunk` to `server` as `lent`: a fresh copy of its own, or lent from `readBuffer`, which is scribbled over
 * once the call returns, so that a response that kept a view of it reads garbage.
 */
const hand = (server: FramedServer, chunk: Buffer, lent: boolean) => {
  if (!lent) return server.responseHandler(Buffer.from(chunk))
  chunk.copy(readBuffer)
  server.responseHandler(readBuffer.subarray(0, chunk.length), true)
  readBuffer.fill(0xee, 0, chunk.length)
}

/** Both ways a chunk comes: a buffer of its own, and lent (`dial`'s sockets). */
const ways = [{ lent: false, name: "owned" }, { lent: true, name: "lent" }] as const

/** Feeds `chunks` as `lent` says (never the test's own buffers) and returns what was responded. */
const feed = (chunks: ReadonlyArray<Buffer>, lent: boolean) => {
  const { errors, responses, server } = fakeServer()
  for (const chunk of chunks) hand(server, chunk, lent)
  assert.deepStrictEqual(errors, [])
  return responses
}

const assertResponses = (responses: ReadonlyArray<Response>) => {
  assert.strictEqual(responses.length, frames.length)
  responses.forEach((response, i) => {
    const expected = frames[i]!
    const extrasLength = expected.readUInt8(4)
    const keyLength = expected.readUInt16BE(2)
    assert.strictEqual(response.header.opaque, i + 1)
    assert.strictEqual(response.header.opcode, 0x0c)
    assert.strictEqual(response.header.totalBodyLength, expected.length - 24)
    assert.deepStrictEqual(response.header.cas, expected.subarray(16, 24))
    assert.deepStrictEqual(response.extras, expected.subarray(24, 24 + extrasLength))
    assert.deepStrictEqual(response.key, expected.subarray(24 + extrasLength, 24 + extrasLength + keyLength))
    assert.deepStrictEqual(response.val, expected.subarray(24 + extrasLength + keyLength))
  })
}

describe("framing", () => {
  describe.each(ways)("of $name chunks", ({ lent }) => {
    it("parses frames delivered in one chunk", () => assertResponses(feed([stream], lent)))

    it("parses frames cut in two at every byte", () => {
      for (let cut = 0; cut <= stream.length; cut++) {
        assertResponses(feed([stream.subarray(0, cut), stream.subarray(cut)], lent))
      }
    })

    it("parses frames delivered one byte at a time", () => {
      assertResponses(feed(Array.from(stream, (_, i) => stream.subarray(i, i + 1)), lent))
    })

    it("parses frames cut into chunks of every size", () => {
      for (let size = 2; size < stream.length; size++) {
        const chunks: Array<Buffer> = []
        for (let offset = 0; offset < stream.length; offset += size) chunks.push(stream.subarray(offset, offset + size))
        assertResponses(feed(chunks, lent))
      }
    })

    it("takes a body of exactly the limit, in one chunk or in many", () => {
      const value = bytes(maxBodyLength(MAX_ITEM_SIZE) - 3 - 4, 9)
      const big = frame(7, "key", value, Buffer.from([0, 0, 0, 1]))
      for (const size of [big.length, 65536, 1000]) {
        const chunks: Array<Buffer> = []
        for (let offset = 0; offset < big.length; offset += size) chunks.push(big.subarray(offset, offset + size))
        const [response] = feed(chunks, lent)
        // `equals`, for a failure's diff of a megabyte would take minutes
        assert.isTrue(response!.val.equals(value))
      }
    })

    it("fails the server on a frame that does not start with the response magic", () => {
      const { errors, responses, server } = fakeServer()
      const bad = Buffer.from(frames[1]!)
      bad[0] = 0x80
      hand(server, Buffer.concat([frames[0]!, bad, frames[2]!]), lent)
      assert.strictEqual(responses.length, 1)
      assert.deepStrictEqual(responses[0]!.val, Buffer.alloc(0))
      assert.strictEqual(responses[0]!.opaque, 1)
      assert.strictEqual(errors.length, 1)
      assert.instanceOf(errors[0], ProtocolViolation)
      assert.include((errors[0] as Error).message, "0x80")
    })

    it("fails the server on a response no request claims, and drops the rest of the chunk", () => {
      const { errors, responses, server } = fakeServer((response) => response.opaque !== 3)
      hand(server, stream, lent)
      assert.deepStrictEqual(responses.map((response) => response.opaque), [1, 2])
      assert.deepStrictEqual(responses[1]!.val, frames[1]!.subarray(24 + 4 + 1))
      assert.strictEqual(errors.length, 1)
      assert.instanceOf(errors[0], ProtocolViolation)
      assert.include((errors[0] as Error).message, "opaque 3")
    })

    it("fails the server on a body over the limit after whole frames, which are handed on", () => {
      const { errors, responses, server } = fakeServer()
      const over = Buffer.from(frames[3]!)
      over.writeUInt32BE(maxBodyLength(MAX_ITEM_SIZE) + 1, 8)
      hand(server, Buffer.concat([frames[0]!, frames[1]!, over]), lent)
      assert.deepStrictEqual(responses.map((response) => response.opaque), [1, 2])
      assert.deepStrictEqual(responses[1]!.val, frames[1]!.subarray(24 + 4 + 1))
      assert.strictEqual(errors.length, 1)
      assert.include((errors[0] as Error).message, "bytes of body")
    })
  })

  it("drops a half-read frame when the socket changes", () => {
    const { errors, responses, server } = fakeServer()
    server.responseHandler(stream.subarray(0, stream.length - 10))
    const received = responses.length
    server._socket = {} as Net.Socket
    server.responseHandler(frames[0]!)
    assert.strictEqual(responses.length, received + 1)
    assert.strictEqual(responses.at(-1)!.header.opaque, 1)
    assert.deepStrictEqual(errors, [])
  })

  it("fails the server at once, allocating nothing, when a header announces a body over the limit", () => {
    const allocations = vi.spyOn(Buffer, "allocUnsafe")
    try {
      for (const body of [maxBodyLength(MAX_ITEM_SIZE) + 1, 2 ** 31 + 5, 0xffff_ffff]) {
        for (const cut of [24, 12]) {
          const { errors, responses, server } = fakeServer()
          const header = Buffer.from(frames[0]!)
          header.writeUInt32BE(body, 8)
          allocations.mockClear()
          // the header whole, then body bytes; or cut in two, the error coming with its second part
          server.responseHandler(header.subarray(0, cut))
          if (errors.length === 0) server.responseHandler(header.subarray(cut))
          if (errors.length === 0) server.responseHandler(Buffer.alloc(100))
          assert.strictEqual(responses.length, 0)
          assert.strictEqual(errors.length, 1)
          assert.instanceOf(errors[0], ProtocolViolation)
          assert.include((errors[0] as Error).message, `${body} bytes of body`)
          for (const [size] of allocations.mock.calls) assert.isAtMost(size, 24)
        }
      }
    } finally {
      allocations.mockRestore()
    }
  })
})
