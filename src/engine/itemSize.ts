/**
 * The item size rule, shared by the client and the in-memory store: memcached's item limit (`-I`, 1 MiB by default)
 * covers the key, the value and a per-item header.
 *
 * @internal
 */
import type { WireKey } from "./keys.js"

/** @internal memcached's default `-I`. */
export const DEFAULT_MAX_ITEM_SIZE = 1024 * 1024

/** @internal Header bytes per item in memcached 1.6 with CAS enabled (measured: 1 MiB − 59 − key stores, +1 fails). */
export const ITEM_OVERHEAD = 59

/** @internal The largest value, in bytes, that fits in one item under `keyBytes` of key. */
export const maxValueBytes = (maxItemSize: number, keyBytes: number): number => maxItemSize - ITEM_OVERHEAD - keyBytes

/**
 * @internal A value that does not fit in one item: `size` bytes under the caller's `key`, against a `limit` that
 * already subtracts the key and the per-item header.
 */
export class TooLarge {
  constructor(readonly key: string, readonly size: number, readonly limit: number) {}
}

/** @internal The problem of `size` bytes of value under `key`, which do not fit in one item. */
export const tooLarge = (maxItemSize: number, key: WireKey, size: number): TooLarge =>
  new TooLarge(key.key, size, maxValueBytes(maxItemSize, key.size))
