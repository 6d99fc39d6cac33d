/**
 * How a view of the cache turns its values into items and back: through its `Schema` (a typed view) or as they are
 * (the cache itself), then through the `Serializer`.
 *
 * A serializer that answers with an `Exit` (the built-in ones do; see `SerializerService`) is used without a step of
 * the fiber: `mapNow` and `flatMapNow` apply their function at once to an Effect that is already a success.
 *
 * Shared by both Effect lines: what differs between them comes from `#effect-line`.
 *
 * @internal
 */
import type { SchemaOf, SerializerService } from "#effect-line"
import { decoder, Effect, encoder, Exit, SerializationError } from "#effect-line"
import type { Item } from "../../engine/item.js"
import type { Format } from "../../engine/serialization.js"
import { FormatFailure, formatOf, longTextItem } from "../../engine/serialization.js"

/** @internal A view's values to what the serializer takes, and back: a `Schema`, or nothing at all. */
export interface Codec<A> {
  readonly encode: (key: string, value: A) => Effect.Effect<unknown, SerializationError>
  readonly decode: (key: string, value: unknown) => Effect.Effect<A, SerializationError>
}

/** @internal The codec of the cache itself: values go to the serializer as they are. */
export const identity: Codec<unknown> = {
  encode: (_, value) => Effect.succeed(value),
  decode: (_, value) => Effect.succeed(value)
}

/** @internal The codec of a typed view: values go through `schema`; a value that does not fit is a `SerializationError`. */
export const schemaCodec = <A, I>(schema: SchemaOf<A, I>): Codec<A> => {
  const encode = encoder(schema)
  const decode = decoder(schema)
  return {
    encode: (key, value) =>
      Effect.mapError(encode(value), (cause) => new SerializationError({ key, direction: "encode", cause })),
    decode: (key, value) =>
      Effect.mapError(decode(value), (cause) => new SerializationError({ key, direction: "decode", cause }))
  }
}

/** The Effect itself when it is already a success (an `Exit`): its value needs no fiber. */
const successOf = <A, E>(effect: Effect.Effect<A, E>): Exit.Success<A, E> | undefined =>
  Exit.isExit(effect) && Exit.isSuccess(effect) ? effect as unknown as Exit.Success<A, E> : undefined

/** @internal `Effect.map`, applied at once to an Effect that is already a success. */
export const mapNow = <A, B, E>(effect: Effect.Effect<A, E>, f: (a: A) => B): Effect.Effect<B, E> => {
  const success = successOf(effect)
  return success ? Effect.succeed(f(success.value)) : Effect.map(effect, f)
}

/** @internal `Effect.flatMap`, applied at once to an Effect that is already a success. */
export const flatMapNow = <A, B, E, E2, R>(
  effect: Effect.Effect<A, E>,
  f: (a: A) => Effect.Effect<B, E2, R>
): Effect.Effect<B, E | E2, R> => {
  const success = successOf(effect)
  return success ? f(success.value) : Effect.flatMap(effect, f)
}

/** @internal A view's values to items and back, through its codec and the serializer. */
export interface ItemCodec<A> {
  readonly encode: (key: string, value: A) => Effect.Effect<Item, SerializationError>
  readonly decode: (key: string, item: Item) => Effect.Effect<A, SerializationError>
  /** Decodes items in order, failing as the first that does not decode. */
  readonly decodeAll: (items: ReadonlyMap<string, Item>) => Effect.Effect<ReadonlyMap<string, A>, SerializationError>
}

/** @internal */
export const makeItemCodec = <A>(serializer: SerializerService, codec: Codec<A>): ItemCodec<A> => {
  // A serializer of your own that throws instead of failing gives a `SerializationError` too, never a throw.
  const serialize = (key: string, value: unknown): Effect.Effect<Item, SerializationError> => {
    try {
      return serializer.encode(key, value)
    } catch (cause) {
      return Effect.fail(new SerializationError({ key, direction: "encode", cause }))
    }
  }
  const deserialize = (key: string, item: Item): Effect.Effect<unknown, SerializationError> => {
    try {
      return serializer.decode(key, item)
    } catch (cause) {
      return Effect.fail(new SerializationError({ key, direction: "decode", cause }))
    }
  }
  // The cache itself skips the identity codec: its values are the serializer's.
  const decode = (key: string, item: Item): Effect.Effect<A, SerializationError> =>
    codec === identity
      ? deserialize(key, item) as Effect.Effect<A, SerializationError>
      : Effect.flatMap(deserialize(key, item), (value) => codec.decode(key, value))
  // The cache itself over a built-in serializer decodes many items with its format, without an Effect per item, and
  // leaves a long string as text for the request to encode (`longTextItem`).
  const format = codec === identity ? formatOf.get(serializer) : undefined
  const encode = (key: string, value: A): Effect.Effect<Item, SerializationError> => {
    if (codec !== identity) return Effect.flatMap(codec.encode(key, value), (encoded) => serialize(key, encoded))
    const text = format === undefined ? undefined : longTextItem(format, value)
    return text === undefined ? serialize(key, value) : Effect.succeed(text)
  }
  /**
   * Decodes with `format`; the first item it cannot decode (or that makes it throw: an item that is no bytes, from a
   * `Memcached` of one's own) fails as the serializer fails it.
   */
  const decodeWith = (
    format: Format,
    items: ReadonlyMap<string, Item>
  ): Effect.Effect<ReadonlyMap<string, A>, SerializationError> => {
    const decoded = new Map<string, A>()
    for (const [key, item] of items) {
      let value: unknown
      try {
        value = format.decode(item)
      } catch (cause) {
        value = new FormatFailure(cause)
      }
      if (value instanceof FormatFailure) return deserialize(key, item) as Effect.Effect<never, SerializationError>
      decoded.set(key, value as A)
    }
    return Effect.succeed(decoded)
  }
  /** A value decoded at once costs no step of the fiber; any other Effect is run in turn. */
  const decodeAll = (items: ReadonlyMap<string, Item>): Effect.Effect<ReadonlyMap<string, A>, SerializationError> => {
    if (format !== undefined) return decodeWith(format, items)
    const decoded = new Map<string, A>()
    const pending = items.entries()
    const rest = (): Effect.Effect<ReadonlyMap<string, A>, SerializationError> => {
      for (let next = pending.next(); !next.done; next = pending.next()) {
        const [key, item] = next.value
        const result = decode(key, item)
        const success = successOf(result)
        if (!success) {
          return Effect.flatMap(result, (value) => {
            decoded.set(key, value)
            return rest()
          })
        }
        decoded.set(key, success.value)
      }
      return Effect.succeed(decoded)
    }
    return rest()
  }
  return { encode, decode, decodeAll }
}
