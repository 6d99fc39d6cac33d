/**
 * What memcached as a backing for Effect's Persistence does the same way on both Effect lines: the namespace of a store
 * and the memcached key of a persistence key, and the grouping of a batch write by TTL. Values are the `json` format
 * (`serialization.ts`); TTLs go through the layer's TTL rules (`ttl.ts`) like every other write.
 *
 * Keys: a persistence key (a `PrimaryKey`) may be any string, and memcached takes printable ASCII only, 250 bytes at
 * most with the layer's `keyPrefix` and the namespace. A key that is printable ASCII, at most `RAW_KEY_CHARS` long and
 * does not start with `#` is kept as it is (readable in memcached's tools); any other becomes `#` and the SHA-256 of its
 * UTF-16 code units, which keeps every string apart (two strings that differ only in a lone surrogate too, which UTF-8
 * would not). A kept key never starts with `#`, so it cannot meet a hashed one.
 *
 * @internal
 */
import { createHash } from "node:crypto"
import type { Item } from "./item.js"
import { FormatFailure, formats } from "./serialization.js"

/** @internal The longest persistence key kept as it is; longer ones are hashed (44 characters). */
export const RAW_KEY_CHARS = 100

/** @internal The longest store id kept as it is in the namespace name. */
export const RAW_STORE_CHARS = 40

/** @internal What every store's namespace name starts with. */
export const STORE_NAMESPACE_PREFIX = "persistence/"

const hashed = (text: string): string => `#${createHash("sha256").update(text, "utf16le").digest("base64url")}`

/** Printable ASCII (`!` to `~`), `#` not first, and, unless `colon`, no `:` (a namespace's separator). */
const keepable = (text: string, maxChars: number, colon: boolean): boolean => {
  if (text.length === 0 || text.length > maxChars || text.charCodeAt(0) === 0x23) return false
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code <= 0x20 || code >= 0x7f || (!colon && code === 0x3a)) return false
  }
  return true
}

/** @internal The memcached key (inside its store's namespace) of a persistence key. */
export const persistenceKey = (key: string): string => keepable(key, RAW_KEY_CHARS, true) ? key : hashed(key)

/** @internal The namespace name of a store: `persistence/<storeId>`, the id hashed when it is not keepable. */
export const storeNamespace = (storeId: string): string =>
  STORE_NAMESPACE_PREFIX + (keepable(storeId, RAW_STORE_CHARS, false) ? storeId : hashed(storeId))

/**
 * @internal A batch write's entries grouped by TTL in milliseconds (`null`: never expires), in their order, so that
 * each group is one pipelined `setMany`.
 */
export const groupByTtl = <E>(
  entries: Iterable<E>,
  ttlMillis: (entry: E) => number | null
): ReadonlyMap<number | null, ReadonlyArray<E>> => {
  const groups = new Map<number | null, Array<E>>()
  for (const entry of entries) {
    const millis = ttlMillis(entry)
    const group = groups.get(millis)
    if (group) group.push(entry)
    else groups.set(millis, [entry])
  }
  return groups
}

/** @internal Why a value cannot be stored, or a stored one read: `error` says it plainly (its `cause`: what JSON threw). */
export class ValueProblem {
  constructor(readonly error: Error) {}
}

const problem = (failed: FormatFailure, what: string) => {
  const why = failed.cause instanceof Error
    ? failed.cause.message
    : typeof failed.cause === "string"
    ? failed.cause
    : ""
  return new ValueProblem(new Error(why ? `${what} (${why})` : what, { cause: failed.cause }))
}

/** @internal A persisted value as the item a store keeps: JSON, with `Serializer.json`'s flags. */
export const encodeValue = (value: unknown): Item | ValueProblem => {
  const item = formats.json.encode(value)
  return item instanceof FormatFailure ? problem(item, "the value has no JSON form") : item
}

/** @internal A stored item's value, or why it is not this store's JSON. */
export const decodeValue = (item: Item): unknown => {
  const value = formats.json.decode(item)
  return value instanceof FormatFailure ? problem(value, "the stored value is not this store's JSON") : value
}
