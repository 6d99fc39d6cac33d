/**
 * How values become bytes: a swappable layer. Each serializer marks what it wrote in memcached's item flags, so a
 * value written by one and read by another is a `SerializationError`, never garbage.
 *
 * @since 1.0.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as v8 from "node:v8"
import { Item } from "./engine/item.js"
import { hasLoneSurrogate } from "./engine/keys.js"
import { SerializationError } from "./errors/SerializationError.js"

/**
 * Turns values into an `Item` (bytes and memcached's item flags) and back.
 *
 * A serializer that has its result at once should return it as an `Exit` (`Exit.succeed(item)`), as the built-in ones
 * do: a `Cache` uses a success `Exit` without a step of its fiber, one step fewer on every read and write. Any other
 * Effect works too, one step slower. A serializer that throws is read as a `SerializationError`.
 *
 * @since 1.0.0
 * @category models
 */
export interface SerializerService {
  /** A short name, shown in mismatch errors: `"structured"`, `"json"`, `"raw"`, `"bytes"`. */
  readonly name: string
  readonly encode: (key: string, value: unknown) => Effect.Effect<Item, SerializationError>
  readonly decode: (key: string, item: Item) => Effect.Effect<unknown, SerializationError>
}

/**
 * A built-in serializer's answer: its result at once, as a success `Exit`, or a failure (`Effect.fail`, which puts the
 * current span on the error).
 */
type Answer<A> = Exit.Exit<A> | Effect.Effect<never, SerializationError>

/** The built-in serializers answer at once (see `SerializerService`). */
interface ImmediateSerializer extends SerializerService {
  readonly encode: (key: string, value: unknown) => Answer<Item>
  readonly decode: (key: string, item: Item) => Answer<unknown>
}

/**
 * Flags that mark each format. `raw` and `bytes` write 0, as other languages' clients do for plain bytes.
 *
 * @since 1.0.0
 * @category models
 */
export const Flags = {
  raw: 0,
  structured: 0x454d_0001,
  json: 0x454d_0002
} as const

const ownFlags = new Map<number, string>([[Flags.structured, "structured"], [Flags.json, "json"]])

const mismatch = (key: string, flags: number, expected: string) => {
  const writer = ownFlags.get(flags)
  return new SerializationError({
    key,
    direction: "decode",
    cause: writer
      ? `the value was written by the ${writer} serializer, not ${expected}`
      : `the value's flags (0x${flags.toString(16)}) are not ${expected}'s: another client or serializer wrote it`
  })
}

/**
 * Runs `f` at once: its value as an `Exit` (`Effect.try` would defer it to a step of the fiber), or what it threw as a
 * `SerializationError`.
 */
const attempt = <A>(key: string, direction: "encode" | "decode", f: () => A): Answer<A> => {
  try {
    return Exit.succeed(f())
  } catch (cause) {
    return Effect.fail(new SerializationError({ key, direction, cause }))
  }
}

const asBuffer = (bytes: Uint8Array) =>
  Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)

const marked = (
  name: string,
  flags: number,
  encode: (value: unknown) => Uint8Array,
  decode: (bytes: Buffer) => unknown
): ImmediateSerializer => ({
  name,
  encode: (key, value) => attempt(key, "encode", () => new Item(encode(value), flags)),
  decode: (key, item) =>
    item.flags === flags ? attempt(key, "decode", () => decode(asBuffer(item.value))) : Effect.fail(
      mismatch(key, item.flags, name)
    )
})

const structuredService = marked(
  "structured",
  Flags.structured,
  (value) => v8.serialize(value),
  (bytes) => v8.deserialize(bytes)
)

const jsonService = marked("json", Flags.json, (value) => {
  const text = JSON.stringify(value)
  if (text === undefined) throw new TypeError(`${typeof value} has no JSON form`)
  return Buffer.from(text, "utf8")
}, (bytes) => JSON.parse(bytes.toString("utf8")))

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })

const rawBytes = (key: string, value: unknown): Answer<Item> => {
  if (typeof value === "string") {
    return hasLoneSurrogate(value)
      ? Effect.fail(new SerializationError({ key, direction: "encode", cause: "the string has a lone surrogate" }))
      : Exit.succeed(new Item(Buffer.from(value, "utf8"), Flags.raw))
  }
  if (value instanceof Uint8Array) return Exit.succeed(new Item(value, Flags.raw))
  if (value instanceof ArrayBuffer) return Exit.succeed(new Item(new Uint8Array(value), Flags.raw))
  return Effect.fail(
    new SerializationError({
      key,
      direction: "encode",
      cause: `raw values are strings or bytes, not ${value === null ? "null" : typeof value}`
    })
  )
}

const foreign = (name: string, decode: (bytes: Buffer) => unknown): ImmediateSerializer => ({
  name,
  encode: rawBytes,
  decode: (key, item) =>
    ownFlags.has(item.flags) ? Effect.fail(mismatch(key, item.flags, name)) : Exit.succeed(
      decode(asBuffer(item.value))
    )
})

const rawService = foreign("raw", (bytes) => {
  try {
    return strictUtf8.decode(bytes)
  } catch {
    return new Uint8Array(bytes)
  }
})

// A copy (the read's bytes are a view of a socket chunk, which would stay alive with them), made in Node's buffer
// pool: a plain `new Uint8Array` costs a fresh ArrayBuffer per read, about 1 µs.
const bytesService = foreign("bytes", (bytes) => Buffer.from(bytes))

/**
 * The serializer a `Cache` uses. Pick one of the layers: `Serializer.structured` (the default), `Serializer.json`,
 * `Serializer.raw` or `Serializer.bytes`, or provide your own `SerializerService`.
 *
 * @since 1.0.0
 * @category tags
 */
export class Serializer extends Context.Tag("effect-memcached/Serializer")<Serializer, SerializerService>() {
  /**
   * Node's structured serialization (`v8`), the counterpart of Python's pickle: Date, Map, Set, BigInt, typed arrays,
   * RegExp, nested and cyclic objects round-trip. Class instances come back as plain objects; functions and symbols
   * cannot be stored. Only Node reads it.
   *
   * @since 1.0.0
   * @category layers
   */
  static readonly structured: Layer.Layer<Serializer> = Layer.succeed(Serializer, structuredService)

  /**
   * JSON as UTF-8, readable by any language. `undefined`, functions and BigInt cannot be stored; Dates come back as
   * strings.
   *
   * @since 1.0.0
   * @category layers
   */
  static readonly json: Layer.Layer<Serializer> = Layer.succeed(Serializer, jsonService)

  /**
   * Strings (as UTF-8) and bytes stored as they are with flags 0, for keys shared with other languages' clients (privex
   * `use_pickle=False`). Reads give a string when the bytes are valid UTF-8, else a `Uint8Array`. Anything else is a
   * `SerializationError`.
   *
   * @since 1.0.0
   * @category layers
   */
  static readonly raw: Layer.Layer<Serializer> = Layer.succeed(Serializer, rawService)

  /**
   * Like `raw`, but reads always give a `Uint8Array` (a `Buffer`, its own copy), so bytes that happen to be valid
   * UTF-8 stay bytes.
   *
   * @since 1.0.0
   * @category layers
   */
  static readonly bytes: Layer.Layer<Serializer> = Layer.succeed(Serializer, bytesService)

  /**
   * The built-in serializers as services, by name.
   *
   * @since 1.0.0
   * @category constructors
   */
  static readonly formats: {
    readonly structured: SerializerService
    readonly json: SerializerService
    readonly raw: SerializerService
    readonly bytes: SerializerService
  } = { structured: structuredService, json: jsonService, raw: rawService, bytes: bytesService }
}

/**
 * The name of a built-in serializer.
 *
 * @since 1.0.0
 * @category models
 */
export type SerializerName = keyof typeof Serializer.formats
