/**
 * The key rules, shared by every backend: a key is checked by its UTF-8 bytes after the prefix, never by JS length.
 *
 * @internal
 */
import * as Either from "effect/Either"
import { createHash } from "node:crypto"
import { InvalidKey } from "../errors/InvalidKey.js"

/** @internal memcached's own limit on a key, in bytes. */
export const MAX_KEY_BYTES = 250

/** How many encoded keys an encoder keeps. */
const RECENT_KEYS = 4096

/** @internal A checked key as it goes on the wire: `key` is the caller's, `text`/`bytes` the prefixed form. */
export interface WireKey {
  readonly key: string
  readonly text: string
  readonly bytes: Buffer
}

/** @internal */
export interface KeyRules {
  readonly keyPrefix?: string | undefined
  readonly hashLongKeys?: boolean | undefined
}

// Whitespace (ASCII and Unicode) and control characters (C0, DEL, C1): ASCII-protocol tools split keys on them.
const forbidden = /[\s\p{Cc}]/u
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** @internal Whether a string has a UTF-16 surrogate without its pair: UTF-8 would turn it into U+FFFD. */
export const hasLoneSurrogate = (text: string): boolean => loneSurrogate.test(text)

/** Whether every character is printable ASCII (`!` to `~`): such a key needs no other check, and is its bytes. */
const isPrintableAscii = (text: string): boolean => {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code <= 0x20 || code >= 0x7f) return false
  }
  return true
}

const badCharacters = (text: string): string | undefined => {
  if (hasLoneSurrogate(text)) return "contains a lone UTF-16 surrogate (it would collide with other keys)"
  if (forbidden.test(text)) return "contains whitespace or a control character"
  return undefined
}

/**
 * @internal What is wrong with a key prefix, to follow the word `keyPrefix`; `undefined` when nothing is. Throws
 * nothing: a bad prefix is reported once, when the layer is built.
 */
export const checkPrefix = (prefix: string): string | undefined => {
  if (prefix === "") return undefined
  const bad = badCharacters(prefix)
  if (bad) return bad
  if (Buffer.byteLength(prefix, "utf8") > MAX_KEY_BYTES - 65) return `is over ${MAX_KEY_BYTES - 65} UTF-8 bytes`
  return undefined
}

/**
 * Builds the checker for one store's key rules: it validates a caller's key and returns its wire form, or
 * `InvalidKey`. Over-long keys become `prefix + "#" + sha256(key)` when `hashLongKeys` is on.
 *
 * @internal
 */
export const makeKeyEncoder = (rules: KeyRules) => {
  const prefix = rules.keyPrefix ?? ""
  const prefixBytes = Buffer.byteLength(prefix, "utf8")
  const hashLongKeys = rules.hashLongKeys ?? false
  const prefixAscii = isPrintableAscii(prefix)
  // Keys come back again and again: the last few thousand valid ones are kept encoded (and forgotten all at once).
  const recent = new Map<string, Either.Either<WireKey, InvalidKey>>()
  const encode = (key: unknown): Either.Either<WireKey, InvalidKey> => {
    if (typeof key !== "string") return check(key)
    const known = recent.get(key)
    if (known) return known
    const encoded = check(key)
    if (Either.isRight(encoded)) {
      if (recent.size >= RECENT_KEYS) recent.clear()
      recent.set(key, encoded)
    }
    return encoded
  }
  const check = (key: unknown): Either.Either<WireKey, InvalidKey> => {
    if (typeof key !== "string") {
      return Either.left(notAStringKey(key))
    }
    if (key.length === 0) return Either.left(new InvalidKey({ key, reason: "is empty" }))
    if (prefixAscii && key.length <= MAX_KEY_BYTES - prefixBytes && isPrintableAscii(key)) {
      const text = prefix + key
      return Either.right({ key, text, bytes: Buffer.from(text, "latin1") })
    }
    const bad = badCharacters(key)
    if (bad) return Either.left(new InvalidKey({ key, reason: bad }))
    const size = prefixBytes + Buffer.byteLength(key, "utf8")
    if (size <= MAX_KEY_BYTES) {
      const text = prefix + key
      return Either.right({ key, text, bytes: Buffer.from(text, "utf8") })
    }
    if (!hashLongKeys) {
      return Either.left(
        new InvalidKey({
          key,
          reason: `is ${size} UTF-8 bytes${prefix ? " with its prefix" : ""}; memcached allows ${MAX_KEY_BYTES}`
        })
      )
    }
    const text = `${prefix}#${createHash("sha256").update(key, "utf8").digest("hex")}`
    return Either.right({ key, text, bytes: Buffer.from(text, "utf8") })
  }
  return encode
}

const typeOf = (value: unknown): string => value === null ? "null" : Array.isArray(value) ? "an array" : typeof value

/** @internal The error for a key that is not a string, as every backend and the cache report it. */
export const notAStringKey = (key: unknown): InvalidKey =>
  new InvalidKey({ key, reason: `must be a string, got ${typeOf(key)}` })
