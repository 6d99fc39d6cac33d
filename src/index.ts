/**
 * effect-memcached: an Effect-native memcached cache.
 *
 * @since 1.0.0
 */

/** @since 1.0.0 */
export { Cache } from "./Cache.js"
/** @since 1.0.0 */
export type { CacheService, SetOptions, TypedCache } from "./Cache.js"
/** @since 1.0.0 */
export * from "./errors/index.js"
/** @since 1.0.0 */
export { Memcached } from "./Memcached.js"
/** @since 1.0.0 */
export type {
  ClientLayerOptions,
  CounterOptions,
  Item,
  MemcachedOptions,
  MemcachedService,
  PlacementOption,
  PoolOptions,
  ServerSpec,
  StoreOptions,
  Ttl,
  WriteOptions
} from "./Memcached.js"
/** @since 1.0.0 */
export { MemcachedCache } from "./MemcachedCache.js"
/** @since 1.0.0 */
export type { MemcachedCacheOptions } from "./MemcachedCache.js"
/** @since 1.0.0 */
export { memcachedEnvConfig, MemcachedLive } from "./MemcachedLive.js"
/** @since 1.0.0 */
export { MemcachedTest } from "./MemcachedTest.js"
/** @since 1.0.0 */
export { Flags, Serializer } from "./Serializer.js"
/** @since 1.0.0 */
export type { Encoded, SerializerName, SerializerService } from "./Serializer.js"
