/**
 * The Cache contract against a real memcached, started for this file and killed when the suite's layer is released.
 */
import { assert, layer as layerSuite } from "@effect/vitest"
import { Duration, Effect, Layer } from "effect"
import * as net from "node:net"
import { Cache, Serializer, type Ttl } from "../src/index.js"
import { cacheContract } from "./support/contract.js"
import { MemcachedServer } from "./support/MemcachedServer.js"

/** `Cache.layerMemcached` over this file's own server; the server lives as long as the returned layer. */
const liveLayer = (keyPrefix: string, serializer: Layer.Layer<Serializer>) =>
  Layer.unwrapEffect(
    Effect.map(MemcachedServer, (server) => Cache.layerMemcached({ servers: server.address, keyPrefix }))
  ).pipe(
    Layer.provide(serializer),
    Layer.provideMerge(MemcachedServer.layer)
  )

// Two-byte prefixes: the 250-byte key limit counts them, so 62 emoji (248 bytes) are the longest emoji key.
cacheContract("MemcachedLive (real memcached, structured)", liveLayer("L:", Serializer.structured), {
  live: true,
  keyPrefix: "L:"
})

cacheContract("MemcachedLive (real memcached, json)", liveLayer("J:", Serializer.json), {
  live: true,
  keyPrefix: "J:",
  sleeps: false
})

/** The remaining TTL memcached reports for a raw (prefixed) key via the meta protocol: -1 = never, undefined = miss. */
const remainingTtl = (address: string, wireKey: string) =>
  Effect.async<number | undefined, Error>((resume) => {
    const colon = address.lastIndexOf(":")
    const [host, port] = [address.slice(0, colon), Number(address.slice(colon + 1))]
    const socket = net.connect({ host, port })
    let received = ""
    socket.setEncoding("latin1")
    socket.setTimeout(2000, () => {
      socket.destroy()
      resume(Effect.fail(new Error("meta get timed out")))
    })
    socket.on("error", (error) => resume(Effect.fail(error)))
    socket.on("data", (chunk: string) => {
      received += chunk
      const eol = received.indexOf("\r\n")
      if (eol < 0) return
      const line = received.slice(0, eol)
      socket.destroy()
      if (line === "EN") return resume(Effect.succeed(undefined))
      const ttl = /^HD .*\bt(-?\d+)\b/.exec(line)
      resume(ttl ? Effect.succeed(Number(ttl[1])) : Effect.fail(new Error(`unexpected meta reply: ${line}`)))
    })
    socket.write(`mg ${wireKey} t\r\n`)
    return Effect.sync(() => socket.destroy())
  })

const wireSuite = layerSuite(liveLayer("W:", Serializer.structured), { excludeTestServices: true })
wireSuite("TTLs on the wire (real memcached)", (it) => {
  const cases: ReadonlyArray<readonly [string, Ttl | undefined, number, number]> = [
    ["default ttl (300 s)", undefined, 298, 300],
    ["ttl 500 ms rounds up to 1 s", "500 millis", 0, 1],
    ["ttl 30 days stays relative", Duration.days(30), 30 * 86400 - 2, 30 * 86400],
    // absolute times are read against memcached's own clock, which lags the wall clock by up to a second
    ["ttl 31 days (absolute time)", Duration.days(31), 31 * 86400 - 2, 31 * 86400 + 1],
    ["ttl 60 days (absolute time)", "60 days", 60 * 86400 - 2, 60 * 86400 + 1],
    ["ttl null never expires", null, -1, -1]
  ]
  it.effect("updateTimeout without a ttl: memcached reports the default ttl (300 s) from now", () =>
    Effect.gen(function*() {
      const cache = yield* Cache
      const server = yield* MemcachedServer
      yield* cache.set("wire-ut-default", "v", { ttl: "10 seconds" })
      assert.strictEqual(yield* cache.updateTimeout("wire-ut-default"), "v")
      const remaining = yield* remainingTtl(server.address, "W:wire-ut-default")
      assert.isDefined(remaining)
      assert.isAtLeast(remaining!, 298)
      assert.isAtMost(remaining!, 300)
    }))

  for (const [label, ttl, min, max] of cases) {
    it.effect(`${label}: memcached reports a remaining ttl in [${min}, ${max}]`, () =>
      Effect.gen(function*() {
        const cache = yield* Cache
        const server = yield* MemcachedServer
        const key = `wire-${label.replace(/\W+/g, "-")}`
        yield* cache.set(key, "v", ttl === undefined ? {} : { ttl })
        const remaining = yield* remainingTtl(server.address, `W:${key}`)
        assert.isDefined(remaining)
        assert.isAtLeast(remaining!, min)
        assert.isAtMost(remaining!, max)
      }))
  }
})
