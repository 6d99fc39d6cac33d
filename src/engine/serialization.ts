/**
 * The built-in serializers' formats, shared by both Effect lines byte for byte (so each reads the other's values): the
 * item flags that mark each format, how a value becomes an `Item` and back, and the failure each reports. Every
 * function here answers at once and throws nothing: a failure is a `FormatFailure` value, which each Effect line turns
 * into its own `SerializationError`.
 *
 * @internal
 */
import * as v8 from "node:v8"
import { Item } from "./item.js"
import { hasLoneSurrogate } from "./keys.js"

/** @internal Flags that mark each format. `raw` and `bytes` write 0, as other languages' clients do for plain bytes. */
export const Flags = {
  raw: 0,
  structured: 0x454d_0001,
  json: 0x454d_0002
} as const

/** @internal Why a value could not be encoded or decoded: what the format threw, or a sentence that says it. */
export class FormatFailure {
  constructor(readonly cause: unknown) {}
}

/** @internal A built-in format. `decode` answers the value, or a `FormatFailure` (never a value of its own). */
export interface Format {
  readonly name: FormatName
  readonly encode: (value: unknown) => Item | FormatFailure
  readonly decode: (item: Item) => unknown
}

/** @internal The name of a built-in format, shown in mismatch errors. */
export type FormatName = "structured" | "json" | "raw" | "bytes"

const ownFlags = new Map<number, FormatName>([[Flags.structured, "structured"], [Flags.json, "json"]])

/** Bytes written by another format (`flags` says which, when it is one of ours) than `expected`. */
const mismatch = (flags: number, expected: FormatName) => {
  const writer = ownFlags.get(flags)
  return new FormatFailure(
    writer
      ? `the value was written by the ${writer} serializer, not ${expected}`
      : `the value's flags (0x${flags.toString(16)}) are not ${expected}'s: another client or serializer wrote it`
  )
}

const asBuffer = (bytes: Uint8Array) =>
  Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)

/** A format that marks what it writes with its own flags, and reads only what it marked. */
const marked = (
  name: FormatName,
  flags: number,
  encode: (value: unknown) => Uint8Array,
  decode: (bytes: Buffer) => unknown
): Format => ({
  name,
  encode: (value) => {
    try {
      return new Item(encode(value), flags)
    } catch (cause) {
      return new FormatFailure(cause)
    }
  },
  decode: (item) => {
    if (item.flags !== flags) return mismatch(item.flags, name)
    try {
      return decode(asBuffer(item.value))
    } catch (cause) {
      return new FormatFailure(cause)
    }
  }
})

const structured = marked(
  "structured",
  Flags.structured,
  (value) => v8.serialize(value),
  (bytes) => v8.deserialize(bytes)
)

const json = marked("json", Flags.json, (value) => {
  const text = JSON.stringify(value)
  if (text === undefined) throw new TypeError(`${typeof value} has no JSON form`)
  return Buffer.from(text, "utf8")
}, (bytes) => JSON.parse(bytes.toString("utf8")))

/** Strings (as UTF-8, refused with a lone surrogate, which UTF-8 would turn into U+FFFD) and bytes, with flags 0. */
const rawBytes = (value: unknown): Item | FormatFailure => {
  if (typeof value === "string") {
    return hasLoneSurrogate(value)
      ? new FormatFailure("the string has a lone surrogate")
      : new Item(Buffer.from(value, "utf8"), Flags.raw)
  }
  if (value instanceof Uint8Array) return new Item(value, Flags.raw)
  if (value instanceof ArrayBuffer) return new Item(new Uint8Array(value), Flags.raw)
  return new FormatFailure(`raw values are strings or bytes, not ${value === null ? "null" : typeof value}`)
}

/** A format for other clients' bytes: it reads anything but what `structured` or `json` marked. */
const foreign = (name: FormatName, decode: (bytes: Buffer) => unknown): Format => ({
  name,
  encode: rawBytes,
  decode: (item) => ownFlags.has(item.flags) ? mismatch(item.flags, name) : decode(asBuffer(item.value))
})

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })

const raw = foreign("raw", (bytes) => {
  try {
    return strictUtf8.decode(bytes)
  } catch {
    return new Uint8Array(bytes)
  }
})

// A copy (the read's bytes are a view of a socket chunk, which would stay alive with them), made in Node's buffer
// pool: a plain `new Uint8Array` costs a fresh ArrayBuffer per read, about 1 µs.
const bytes = foreign("bytes", (bytes) => Buffer.from(bytes))

/**
 * @internal The built-in formats by name: `structured` (Node's v8 serialization), `json` (JSON as UTF-8), `raw`
 * (strings and bytes as they are; reads give a string when the bytes are valid UTF-8) and `bytes` (as `raw`, but reads
 * always give bytes).
 */
export const formats: { readonly [Name in FormatName]: Format } = { structured, json, raw, bytes }
