/**
 * The ready-made test layer: the in-memory fake with structured values, providing the same services as
 * `MemcachedLive`.
 *
 * @since 2.0.0
 */
import * as Layer from "effect/Layer"
import { Cache } from "./Cache.js"
import type { Memcached } from "./Memcached.js"
import { Serializer } from "./Serializer.js"

/**
 * `Cache.layerMemory()` (the cache over `Memcached.layerMemory()`) plus `Serializer.structured`: a fresh, empty store each time it is built, with TTLs on
 * the Effect `Clock` (so `TestClock.adjust` expires keys) and memcached's key and size rules.
 *
 * @since 2.0.0
 * @category layers
 */
export const MemcachedTest: Layer.Layer<Cache | Memcached | Serializer> = Layer.provideMerge(
  Layer.orDie(Cache.layerMemory()), // the default options cannot fail their check
  Serializer.structured
)
