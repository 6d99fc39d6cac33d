/**
 * effect-memcached: an Effect-native memcached cache.
 *
 * The root has everything but the `@effect/platform` `KeyValueStore` adapter and the `@effect/experimental`
 * Persistence backing, which live on their own subpaths, `effect-memcached/KeyValueStore` and
 * `effect-memcached/MemcachedPersistence`, so that only their users need those packages (optional peers).
 *
 * @since 1.0.0
 */

/** @since 1.0.0 */
export { Cache } from "./Cache.js"
/** @since 1.0.0 */
export type {
  CachedOptions,
  CacheService,
  GetOrSetOptions,
  LeaseOptions,
  MemcachedView,
  NamespacedCache,
  NamespaceOptions,
  SetOptions,
  TypedCache
} from "./Cache.js"
/** @since 1.0.0 */
export * from "./errors/index.js"
/** @since 1.0.0 */
export { Memcached } from "./Memcached.js"
/** @since 1.0.0 */
export type {
  CasItem,
  ClientLayerOptions,
  CounterOptions,
  DurationWithUnits,
  Item,
  LayerOptions,
  MemcachedOptions,
  MemcachedService,
  MemjsClientLike,
  PlacementOption,
  PoolOptions,
  ServerSpec,
  Ttl,
  WriteOptions
} from "./Memcached.js"
/** @since 1.1.0 */
export type { TlsOption } from "./Memcached.js"
/** @since 1.0.0 */
export { CacheFacade, MemcachedCache, MemcachedCacheNamespace } from "./MemcachedCache.js"
/** @since 1.0.0 */
export type {
  CachedFacadeOptions,
  LeaseFacadeOptions,
  MemcachedCacheOptions,
  NamespaceFacadeOptions,
  SecondsOrDuration
} from "./MemcachedCache.js"
/** @since 1.0.0 */
export { memcachedEnvConfig, MemcachedLive } from "./MemcachedLive.js"
/** @since 1.0.0 */
export { MemcachedTest } from "./MemcachedTest.js"
/** @since 1.0.0 */
export { CacheMetrics, SpanAttributes } from "./Observability.js"
/** @since 1.0.0 */
export type { ErrorReason, ObservabilityOptions } from "./Observability.js"
/** @since 1.0.0 */
export { Flags, Serializer } from "./Serializer.js"
/** @since 1.0.0 */
export type { SerializerName, SerializerService } from "./Serializer.js"
