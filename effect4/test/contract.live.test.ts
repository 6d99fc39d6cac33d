/**
 * The shared `Cache` contract (`../../test/support/contract.ts`) on the Effect 4 line against a real memcached, started
 * for this file and killed when the suite's layer is released.
 */
import { Effect, Layer } from "effect"
import { cacheContract } from "../../test/support/contract.js"
import { Cache, Serializer } from "../src/index.js"
import { MemcachedServer } from "./support/MemcachedServer.js"

/** `Cache.layerMemcached` over this file's own server; the server lives as long as the returned layer. */
const liveLayer = (keyPrefix: string, serializer: Layer.Layer<Serializer>, protocol: "binary" | "meta" = "binary") =>
  Layer.unwrap(
    Effect.map(MemcachedServer, (server) => Cache.layerMemcached({ servers: server.address, keyPrefix, protocol }))
  ).pipe(
    Layer.provide(serializer),
    Layer.provideMerge(MemcachedServer.layer)
  )

// Two-byte prefixes: the 250-byte key limit counts them, so 62 emoji (248 bytes) are the longest emoji key.
cacheContract("MemcachedLive (Effect 4, real memcached, structured)", liveLayer("L:", Serializer.structured), {
  live: true,
  keyPrefix: "L:"
})

cacheContract("MemcachedLive (Effect 4, real memcached, json)", liveLayer("J:", Serializer.json), {
  live: true,
  keyPrefix: "J:",
  sleeps: false
})

cacheContract(
  "MemcachedLive (Effect 4, real memcached, meta protocol)",
  liveLayer("M:", Serializer.structured, "meta"),
  {
    live: true,
    keyPrefix: "M:",
    sleeps: false
  }
)
