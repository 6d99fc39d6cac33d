/**
 * The meta protocol's answers as `MetaReader` cuts them from a socket's chunks: every response kind, its tokens,
 * values within one chunk and spread over many, and each line that cannot be an answer of ours failing the server.
 * memcached itself (test/meta.test.ts) cannot send a malformed line, so these feed the reader bytes directly.
 */
import { describe, expect, it } from "vitest"
import { IN_ORDER } from "../src/engine/connection.js"
import { ProtocolViolation } from "../src/engine/framing.js"
import { MetaCode, MetaReader, type MetaResponse } from "../src/engine/metaResponse.js"

/** Reads `chunks` in order: the responses delivered and the violation, if any. */
const read = (chunks: ReadonlyArray<string | Buffer>, maxValue = 1024 * 1024) => {
  const responses: Array<MetaResponse> = []
  let violation: ProtocolViolation | undefined
  const reader = new MetaReader(maxValue, (response) => {
    responses.push(response)
    return true
  }, (failure) => {
    violation = failure
  })
  for (const chunk of chunks) reader.read(typeof chunk === "string" ? Buffer.from(chunk, "latin1") : chunk)
  return { responses, violation, midResponse: reader.midResponse }
}

/** Every split of `text` in two chunks reads as the whole does. */
const everySplit = (text: string) =>
  Array.from({ length: text.length - 1 }, (_, i) => [text.slice(0, i + 1), text.slice(i + 1)])

describe("MetaReader", () => {
  it("a value with its size, flags, opaque, key and CAS, read in place", () => {
    const { responses, violation, midResponse } = read(["VA 5 f42 O17 kuser:1 c123456789012345678 t-1\r\nhello\r\n"])
    expect(violation).toBeUndefined()
    expect(midResponse).toBe(false)
    const [value] = responses
    expect(value).toMatchObject({ code: MetaCode.Value, size: 5, flags: 42, opaque: 17, cas: 123456789012345678n })
    expect(value!.value.toString()).toBe("hello")
    expect(value!.hasKey(Buffer.from("user:1"))).toBe(true)
    expect(value!.hasKey(Buffer.from("user:2"))).toBe(false)
    expect(value!.hasKey(Buffer.from("user:"))).toBe(false)
    expect(value!.hasKey(Buffer.from("user:10"))).toBe(false)
    expect(read(["VA 1 O1\r\nx\r\n"]).responses[0]!.hasKey(Buffer.from("user:1"))).toBe(false)
  })

  it("flags as unsigned 32-bit, a zero-length value, and the lease flags W, Z and X", () => {
    const { responses } = read(["VA 0 f4294967295 O1 W\r\n\r\nHD O2 Z X\r\nEN O3\r\n"])
    expect(responses.map((r) => [r.code, r.opaque, r.flags, r.win, r.claimed, r.stale, r.value.length])).toEqual([
      [MetaCode.Value, 1, 4294967295, true, false, false, 0],
      [MetaCode.Done, 2, 0, false, true, true, 0],
      [MetaCode.Miss, 3, 0, false, false, false, 0]
    ])
  })

  it("every two-letter code, and the lines of the text commands", () => {
    const { responses, violation } = read([
      "HD\r\nEN\r\nNF O4\r\nNS O5\r\nEX O6\r\nMN\r\nOK\r\nSTORED\r\nVERSION 1.6.18\r\nERROR\r\n",
      "CLIENT_ERROR bad data chunk\r\nSERVER_ERROR out of memory\r\nSTAT pid 12\r\nSTAT version 1.6.18\r\nSTAT empty\r\nEND\r\n"
    ])
    expect(violation).toBeUndefined()
    expect(responses.map((r) => [r.code, r.opaque, r.text])).toEqual([
      [MetaCode.Done, IN_ORDER, ""],
      [MetaCode.Miss, IN_ORDER, ""],
      [MetaCode.NotFound, 4, ""],
      [MetaCode.NotStored, 5, ""],
      [MetaCode.Exists, 6, ""],
      [MetaCode.NoOp, IN_ORDER, ""],
      [MetaCode.Ok, IN_ORDER, ""],
      [MetaCode.Stored, IN_ORDER, ""],
      [MetaCode.Version, IN_ORDER, "1.6.18"],
      [MetaCode.Error, IN_ORDER, "unknown command"],
      [MetaCode.ClientError, IN_ORDER, "bad data chunk"],
      [MetaCode.ServerError, IN_ORDER, "out of memory"],
      [MetaCode.Stats, IN_ORDER, ""]
    ])
    expect(responses.at(-1)!.stats).toEqual({ pid: "12", version: "1.6.18", empty: "" })
  })

  it("a batch reads the same however its bytes are cut into chunks", () => {
    const batch = "VA 3 f2 O1 kk1\r\none\r\nEN O2\r\nVA 5 O3 kk3 c9\r\nthree\r\nHD O4\r\nMN\r\n"
    const whole = read([batch]).responses.map((r) => [r.code, r.opaque, r.flags, r.cas, r.value.toString()])
    expect(whole).toHaveLength(5)
    for (const chunks of [...everySplit(batch), batch.split("")]) {
      const { responses, violation, midResponse } = read(chunks)
      expect(violation).toBeUndefined()
      expect(midResponse).toBe(false)
      expect(responses.map((r) => [r.code, r.opaque, r.flags, r.cas, r.value.toString()])).toEqual(whole)
    }
    expect(read([batch.slice(0, 20)]).midResponse).toBe(true)
  })

  it("a value spread over chunks is copied whole, CRLFs inside it included", () => {
    const body = "a\r\nb".repeat(1000)
    const text = `VA ${body.length} O9\r\n${body}\r\nHD O10\r\n`
    const { responses } = read([text.slice(0, 10), text.slice(10, 2000), text.slice(2000)])
    expect(responses.map((r) => r.opaque)).toEqual([9, 10])
    expect(responses[0]!.value.toString()).toBe(body)
  })

  it("lines that cannot be an answer of ours fail the server, and reading stops", () => {
    const failures = [
      ["XY 1\r\n", "a response line started with"],
      ["HD O1\nHD O2\r\n", "not ended by CRLF"],
      ["VA 5x O1\r\nhello\r\n", "announced as \"5x\" bytes"],
      ["VA O1\r\n", "announced as \"O1\" bytes"],
      ["VA 2048 O1\r\n", "over the 1024 allowed"],
      ["HD Oabc\r\n", "an opaque \"abc\""],
      ["VA 3 O1\r\nabcd\r\n", "a value not followed by CRLF"],
      ["STAT pid 1\r\nHD O1\r\n", "a stats answer held the line"],
      [`HD ${"x".repeat(5000)}\r\n`, "longer than 4096 bytes"]
    ] as const
    for (const [text, reason] of failures) {
      const { responses, violation } = read([`${text}HD O99\r\n`], 1024)
      expect(violation, text).toBeInstanceOf(ProtocolViolation)
      expect(violation!.message, text).toContain(reason)
      expect(responses.map((r) => r.opaque), text).not.toContain(99)
    }
  })

  it("a deliver that fails the connection stops reading", () => {
    const seen: Array<number> = []
    const reader = new MetaReader(1024, (response) => {
      seen.push(response.opaque)
      return false
    }, () => {})
    reader.read(Buffer.from("HD O1\r\nHD O2\r\n"))
    expect(seen).toEqual([1])
  })
})
