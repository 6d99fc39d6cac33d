/** @since 2.0.0 */
import type { InvalidArgument } from "./InvalidArgument.js"
import type { InvalidKey } from "./InvalidKey.js"
import type { MemcachedError } from "./MemcachedError.js"
import type { SerializationError } from "./SerializationError.js"
import type { ValueTooLarge } from "./ValueTooLarge.js"

export * from "./CacheNotFound.js"
export * from "./InvalidArgument.js"
export * from "./InvalidKey.js"
export * from "./MemcachedError.js"
export * from "./SerializationError.js"
export * from "./ValueTooLarge.js"

/**
 * Every way a `Cache` operation can fail besides a miss the caller asked to fail on.
 *
 * @since 2.0.0
 * @category errors
 */
export type CacheError = InvalidKey | InvalidArgument | ValueTooLarge | SerializationError | MemcachedError

/**
 * Every way a bytes-level `Memcached` operation can fail.
 *
 * @since 2.0.0
 * @category errors
 */
export type MemcachedFailure = InvalidKey | InvalidArgument | ValueTooLarge | MemcachedError
