/**
 * Builds a layer in the current scope and hands back the services tests use.
 */
import { Context, Effect, Layer } from "effect"
import { Cache, Memcached } from "../../src/index.js"

/** Builds `layer` in the test's scope and returns its `Cache` and `Memcached`. */
export const build = <E>(layer: Layer.Layer<Cache | Memcached, E>) =>
  Effect.map(Layer.build(layer), (context) => ({
    cache: Context.get(context, Cache),
    memcached: Context.get(context, Memcached)
  }))
