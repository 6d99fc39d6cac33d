/**
 * effect-memcached for Effect 4: an Effect-native memcached cache, with the same names and semantics as the Effect 3
 * line (effect-memcached 1.x).
 *
 * @since 2.0.0
 */

/** @since 2.0.0 */
export * from "./errors/index.js"
/** @since 2.0.0 */
export { Flags, Serializer } from "./Serializer.js"
/** @since 2.0.0 */
export type { Item, SerializerName, SerializerService } from "./Serializer.js"
