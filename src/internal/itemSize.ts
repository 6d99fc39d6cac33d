/**
 * The item size rule, shared by every backend: memcached's item limit (`-I`, 1 MiB by default) covers the key, the
 * value and a per-item header.
 *
 * @internal
 */
import { ValueTooLarge } from "../errors/ValueTooLarge.js"
import type { WireKey } from "./keys.js"

/** @internal memcached's default `-I`. */
export const DEFAULT_MAX_ITEM_SIZE = 1024 * 1024

/** @internal Header bytes per item in memcached 1.6 with CAS enabled (measured: 1 MiB − 59 − key stores, +1 fails). */
export const ITEM_OVERHEAD = 59

/** @internal The largest value, in bytes, that fits in one item under `keyBytes` of key. */
export const maxValueBytes = (maxItemSize: number, keyBytes: number): number => maxItemSize - ITEM_OVERHEAD - keyBytes

/** @internal The error for `size` bytes of value under `key`, which do not fit in one item. */
export const valueTooLarge = (maxItemSize: number, key: WireKey, size: number): ValueTooLarge =>
  new ValueTooLarge({ key: key.key, size, limit: maxValueBytes(maxItemSize, key.bytes.length) })
