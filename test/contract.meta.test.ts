/**
 * The Cache contract over the meta protocol, against a real memcached that speaks no binary (`-B ascii`), started
 * for this file and killed when the suite's layer is released: nothing can quietly fall back to binary.
 */
import { assert, layer as layerSuite } from "@effect/vitest"
import { Context, Effect, Layer, Option } from "effect"
import { Cache, MemcachedError, Serializer } from "../src/index.js"
import { cacheContract } from "./support/contract.js"
import { MemcachedServer } from "./support/MemcachedServer.js"

/** `Cache.layerMemcached` over meta, on this file's own ascii-only server. */
const metaLayer = (keyPrefix: string, serializer: Layer.Layer<Serializer>) =>
  Layer.unwrapEffect(
    Effect.map(MemcachedServer, (server) =>
      Cache.layerMemcached({ servers: server.address, keyPrefix, protocol: "meta" }))
  ).pipe(
    Layer.provide(serializer),
    Layer.provideMerge(MemcachedServer.layerAscii)
  )

cacheContract("meta protocol (memcached -B ascii, structured)", metaLayer("M:", Serializer.structured), {
  live: true,
  keyPrefix: "M:"
})

cacheContract("meta protocol (memcached -B ascii, json)", metaLayer("N:", Serializer.json), {
  live: true,
  keyPrefix: "N:",
  sleeps: false
})

layerSuite(MemcachedServer.layerAscii, { excludeTestServices: true })("the meta contract's server", (it) => {
  it.scoped("refuses binary, so the suites above cannot have passed over binary", () =>
    Effect.gen(function*() {
      const server = yield* MemcachedServer
      const binary = yield* Layer.build(Cache.layerMemcached({ servers: server.address, protocol: "binary" })).pipe(
        Effect.provide(Serializer.json)
      )
      const meta = yield* Layer.build(Cache.layerMemcached({ servers: server.address, protocol: "meta" })).pipe(
        Effect.provide(Serializer.json)
      )
      const error = yield* Effect.flip(Context.get(binary, Cache).set("refused", 1))
      assert.instanceOf(error, MemcachedError)
      yield* Context.get(meta, Cache).set("accepted", 1)
      assert.deepStrictEqual(yield* Context.get(meta, Cache).get("accepted"), Option.some(1))
    }))
})
