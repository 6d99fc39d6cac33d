/**
 * The built-in serializers' formats, shared by both Effect lines byte for byte (so each reads the other's values): the
 * item flags that mark each format, how a value becomes an `Item` and back, and the failure each reports. Every
 * function here answers at once and throws nothing: a failure is a `FormatFailure` value, which each Effect line turns
 * into its own `SerializationError`.
 *
 * @internal
 */
import * as v8 from "node:v8"
import { Item, TextItem } from "./item.js"
import { hasLoneSurrogate } from "./keys.js"

/**
 * @internal The item flags of each format. `structured` stores strings, integers and bytes natively under pymemcache's
 * serde flags (`text`, `integer`, and 0 for bytes), readable by other languages' clients and, for integers, by
 * memcached's incr/decr; everything else as Node's structured serialization under its own mark, `structured`. `raw`
 * and `bytes` write 0, as other languages' clients do for plain bytes.
 */
export const Flags = {
  raw: 0,
  integer: 0x2,
  text: 0x10,
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

const clone = (value: unknown): Item | FormatFailure => {
  try {
    return new Item(v8.serialize(value), Flags.structured)
  } catch (cause) {
    return new FormatFailure(cause)
  }
}

/** What `structured` reads as an integer: decimal digits, and the spaces memcached pads a shrunk decr result with. */
const decimal = /^-?\d+ *$/

/**
 * Strings of at least this many UTF-16 code units are written as `TextItem`s where `longTextItem` is asked: below it,
 * `Buffer.from` takes their bytes from Node's shared pool, which costs no memory of its own.
 */
const LONG_TEXT = 4096

/**
 * Strings (without a lone surrogate, which UTF-8 cannot carry), safe integers (but -0) and bytes (`Uint8Array` and
 * `Buffer`) as they are, each under its own flags; anything else, or values written before it stored them natively,
 * as Node's structured serialization. Integers beyond the safe range read back as a `bigint` (memcached's counters go
 * up to 2^64 - 1), never rounded.
 */
const structured: Format = {
  name: "structured",
  encode: (value) => {
    if (typeof value === "string") {
      return hasLoneSurrogate(value) ? clone(value) : new Item(Buffer.from(value, "utf8"), Flags.text)
    }
    if (typeof value === "number") {
      return Number.isSafeInteger(value) && !Object.is(value, -0)
        ? new Item(Buffer.from(String(value), "latin1"), Flags.integer)
        : clone(value)
    }
    if (value instanceof Uint8Array && (value.constructor === Uint8Array || Buffer.isBuffer(value))) {
      return new Item(value, Flags.raw)
    }
    return clone(value)
  },
  decode: (item) => {
    try {
      switch (item.flags) {
        case Flags.text:
          return strictUtf8.decode(item.value)
        case Flags.integer: {
          const text = asBuffer(item.value).toString("latin1")
          if (!decimal.test(text)) return new FormatFailure(`the integer's bytes are not a decimal number`)
          const number = Number(text)
          return Number.isSafeInteger(number) ? number : BigInt(text.trimEnd())
        }
        case Flags.raw:
          return Buffer.from(item.value)
        case Flags.structured:
          return v8.deserialize(asBuffer(item.value))
        default:
          return mismatch(item.flags, "structured")
      }
    } catch (cause) {
      return new FormatFailure(cause)
    }
  }
}

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
 * @internal The built-in format each line's built-in serializer services answer with, by service: a reader of many
 * items (`codec.ts`'s `decodeAll`) calls the format itself, without an Effect per item.
 */
export const formatOf = new WeakMap<object, Format>()

/**
 * @internal The item `format` makes of `value`, as a `TextItem`, when it is a long string that `format` stores as its
 * UTF-8 text (`structured` does), else `undefined`; the same bytes and flags as `format.encode`, encoded later.
 */
export const longTextItem = (format: Format, value: unknown): TextItem | undefined =>
  format === structured && typeof value === "string" && value.length >= LONG_TEXT && !hasLoneSurrogate(value)
    ? new TextItem(value, Flags.text)
    : undefined

/**
 * @internal The built-in formats by name: `structured` (Node's v8 serialization), `json` (JSON as UTF-8), `raw`
 * (strings and bytes as they are; reads give a string when the bytes are valid UTF-8) and `bytes` (as `raw`, but reads
 * always give bytes).
 */
export const formats: { readonly [Name in FormatName]: Format } = { structured, json, raw, bytes }
