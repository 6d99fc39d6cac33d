/**
 * The key rules, shared by the client and the in-memory store: a key is checked by its UTF-8 bytes after the prefix,
 * never by JS length.
 *
 * @internal
 */
import { createHash } from "node:crypto"

/** @internal memcached's own limit on a key, in bytes. */
export const MAX_KEY_BYTES = 250

/** How many encoded keys an encoder keeps. */
const RECENT_KEYS = 4096

/** @internal A checked key as it goes on the wire: `key` is the caller's, `text`/`bytes` the prefixed form. */
export interface WireKey {
  readonly key: string
  readonly text: string
  /** `text` in UTF-8. */
  readonly bytes: Buffer
  /** The length of `bytes`. */
  readonly size: number
}

/**
 * A key as `makeKeyEncoder` makes it. A printable ASCII key's bytes are made when first asked for: a batch frames the
 * keys' text without them (`encodeKeyRequests`), and a buffer per key cost more than the rest of its encoding.
 */
class EncodedKey implements WireKey {
  #bytes: Buffer | undefined
  constructor(readonly key: string, readonly text: string, readonly size: number, bytes?: Buffer) {
    this.#bytes = bytes
  }
  get bytes(): Buffer {
    return this.#bytes ??= Buffer.from(this.text, "latin1")
  }
}

/** @internal */
export interface KeyRules {
  readonly keyPrefix?: string | undefined
  readonly hashLongKeys?: boolean | undefined
}

/** @internal A key that memcached cannot store, and why: `reason` is a phrase to follow the key. Nothing was sent. */
export class KeyProblem {
  constructor(readonly key: unknown, readonly reason: string) {}
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

const typeOf = (value: unknown): string => value === null ? "null" : Array.isArray(value) ? "an array" : typeof value

/** @internal The problem of a key that is not a string, as every layer and the cache report it. */
export const notAString = (key: unknown): KeyProblem => new KeyProblem(key, `must be a string, got ${typeOf(key)}`)

/**
 * Builds the checker for one layer's key rules: it validates a caller's key and returns `ok(wire form)`, or
 * `bad(problem)`; each Effect line passes its own result constructors. Over-long keys become
 * `prefix + "#" + sha256(key)` when `hashLongKeys` is on. A printable ASCII key under a printable ASCII prefix is
 * encoded afresh each time, which costs less than keeping it: with more keys in use than a cache holds, every lookup
 * missed, and the kept keys survived into the old generation (`npm run bench:cpu -- --against`, 10,000 keys: about
 * 0.9× the CPU per sequential get). The last few thousand other valid keys' results (UTF-8 checks, hashes) are kept.
 *
 * @internal
 */
export const makeKeyEncoder = <R>(
  rules: KeyRules,
  ok: (wire: WireKey) => R,
  bad: (problem: KeyProblem) => R
): (key: unknown) => R => {
  const prefix = rules.keyPrefix ?? ""
  const prefixBytes = Buffer.byteLength(prefix, "utf8")
  const hashLongKeys = rules.hashLongKeys ?? false
  const prefixAscii = isPrintableAscii(prefix)
  // Keys come back again and again: the last few thousand valid ones are kept encoded (and forgotten all at once).
  const recent = new Map<string, R>()
  const utf8 = (key: string, text: string): R => {
    const bytes = Buffer.from(text, "utf8")
    return ok(new EncodedKey(key, text, bytes.length, bytes))
  }
  const check = (key: string): R | KeyProblem => {
    if (key.length === 0) return new KeyProblem(key, "is empty")
    const badChars = badCharacters(key)
    if (badChars) return new KeyProblem(key, badChars)
    const size = prefixBytes + Buffer.byteLength(key, "utf8")
    if (size <= MAX_KEY_BYTES) return utf8(key, prefix + key)
    if (!hashLongKeys) {
      return new KeyProblem(
        key,
        `is ${size} UTF-8 bytes${prefix ? " with its prefix" : ""}; memcached allows ${MAX_KEY_BYTES}`
      )
    }
    return utf8(key, `${prefix}#${createHash("sha256").update(key, "utf8").digest("hex")}`)
  }
  return (key) => {
    if (typeof key !== "string") return bad(notAString(key))
    if (prefixAscii && key.length !== 0 && key.length <= MAX_KEY_BYTES - prefixBytes && isPrintableAscii(key)) {
      const text = prefix + key
      return ok(new EncodedKey(key, text, text.length))
    }
    const known = recent.get(key)
    if (known !== undefined) return known
    const encoded = check(key)
    if (encoded instanceof KeyProblem) return bad(encoded)
    if (recent.size >= RECENT_KEYS) recent.clear()
    recent.set(key, encoded)
    return encoded
  }
}
