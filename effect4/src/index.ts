/**
 * effect-memcached for Effect 4: an Effect-native memcached cache, with the same names and semantics as the Effect 3
 * line (effect-memcached 1.x).
 *
 * @since 2.0.0
 */

/** @since 2.0.0 */
export { Cache } from "./Cache.js"
/** @since 2.0.0 */
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
/** @since 2.0.0 */
export * from "./errors/index.js"
/** @since 2.0.0 */
export { Memcached } from "./Memcached.js"
/** @since 2.0.0 */
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
  TlsOption,
  Ttl,
  WriteOptions
} from "./Memcached.js"
/** @since 2.0.0 */
export { CacheFacade, MemcachedCache, MemcachedCacheNamespace } from "./MemcachedCache.js"
/** @since 2.0.0 */
export type {
  CachedFacadeOptions,
  LeaseFacadeOptions,
  MemcachedCacheOptions,
  NamespaceFacadeOptions,
  SecondsOrDuration
} from "./MemcachedCache.js"
/** @since 2.0.0 */
export { memcachedEnvConfig, MemcachedLive } from "./MemcachedLive.js"
/** @since 2.0.0 */
export { MemcachedTest } from "./MemcachedTest.js"
/** @since 2.0.0 */
export { CacheMetrics, SpanAttributes } from "./Observability.js"
/** @since 2.0.0 */
export type { ErrorReason, ObservabilityOptions } from "./Observability.js"
/** @since 2.0.0 */
export { Flags, Serializer } from "./Serializer.js"
/** @since 2.0.0 */
export type { SerializerName, SerializerService } from "./Serializer.js"
