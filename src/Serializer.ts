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
import type { Item } from "./engine/item.js"
import * as serialization from "./engine/serialization.js"
import { FormatFailure } from "./engine/serialization.js"
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
 * The item flags of each format: `structured` writes `text`, `integer`, 0 (bytes) or `structured`, `json` writes
 * `json`, and `raw` and `bytes` write 0, as other languages' clients do for plain bytes.
 *
 * @since 1.0.0
 * @category models
 */
export const Flags = serialization.Flags

/** A format's result as an `Answer` (`Effect.try` would defer the work to a step of the fiber). */
const answer = <A>(key: string, direction: "encode" | "decode", result: A | FormatFailure): Answer<A> =>
  result instanceof FormatFailure
    ? Effect.fail(new SerializationError({ key, direction, cause: result.cause }))
    : Exit.succeed(result)

const service = (format: serialization.Format): ImmediateSerializer => {
  const built: ImmediateSerializer = {
    name: format.name,
    encode: (key, value) => answer(key, "encode", format.encode(value)),
    decode: (key, item) => answer(key, "decode", format.decode(item))
  }
  serialization.formatOf.set(built, format)
  return built
}

const structuredService = service(serialization.formats.structured)
const jsonService = service(serialization.formats.json)
const rawService = service(serialization.formats.raw)
const bytesService = service(serialization.formats.bytes)

/**
 * The serializer a `Cache` uses. Pick one of the layers: `Serializer.structured` (the default), `Serializer.json`,
 * `Serializer.raw` or `Serializer.bytes`, or provide your own `SerializerService`.
 *
 * @since 1.0.0
 * @category tags
 */
export class Serializer extends Context.Tag("effect-memcached/Serializer")<Serializer, SerializerService>() {
  /**
   * The default. Strings, integers and bytes are stored as they are, marked by their flags as Python's pymemcache
   * marks them, so other languages' clients read them and memcached's incr/decr counts on the integers:
   *
   * | value | stored as | flags |
   * |---|---|---|
   * | `string` | UTF-8 | `Flags.text` (16) |
   * | safe integer (`number`, not -0) | decimal ASCII | `Flags.integer` (2) |
   * | `Uint8Array` / `Buffer` | the bytes | 0 |
   * | anything else | Node's structured serialization (`v8`) | `Flags.structured` (0x454d0001) |
   *
   * Structured serialization is the counterpart of Python's pickle: Date, Map, Set, BigInt, typed arrays, RegExp,
   * nested and cyclic objects round-trip; class instances come back as plain objects; functions and symbols cannot be
   * stored; only Node reads it. Values that effect-memcached 1.0 wrote, all in that form, still read back. Reads give
   * bytes as a `Buffer` (its own copy), and an integer beyond `Number.MAX_SAFE_INTEGER` (a counter, say) as a `bigint`.
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
