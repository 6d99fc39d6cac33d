/**
 * Scale-out against three real memcached processes, over each wire dialect: ketama placement, one pipelined write per
 * server per batch, dead-server ejection and re-admission, opt-in failover.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import * as net from "node:net"
import { vi } from "vitest"
import { ketama } from "../src/engine/placement.js"
import { Cache, MemcachedError, type MemcachedOptions, Serializer } from "../src/index.js"
import { asciiGet, asciiStats } from "./support/asciiClient.js"
import { type RunningServer, startMemcached } from "./support/MemcachedServer.js"
import { failureOf } from "./support/outcomes.js"
import { build } from "./support/services.js"

/** The index of the server that ketama (libmemcached flavour) gives `key`, for these servers and weights. */
const homeOf = (servers: ReadonlyArray<RunningServer>, weights: ReadonlyArray<number> = [1, 1, 1]) => {
  const ring = ketama(servers.map((server, i) => ({ host: server.host, port: server.port, weight: weights[i]! })))
  return (key: string) => ring.locate(key)
}

const itemsOn = (server: RunningServer) => Effect.map(asciiStats(server.address), (stats) => Number(stats.curr_items))

const keys = (count: number, tag: string) => Array.from({ length: count }, (_, i) => `${tag}-${i}`)

// Every case over both wire dialects; over meta the servers speak no binary (`-B ascii`).
for (const protocol of ["binary", "meta"] as const) {
  const open = (options: MemcachedOptions) =>
    build(Cache.layerMemcached({ ...options, protocol }).pipe(Layer.provide(Serializer.raw)))
  const start = () => startMemcached(protocol === "meta" ? { extraArgs: ["-B", "ascii"] } : {})
  const threeServers = Effect.all([start(), start(), start()])

  describe(`${protocol}: a pool of three servers`, () => {
    it.scopedLive("places every key where libmemcached's ketama would, and spreads them evenly", () =>
      Effect.gen(function*() {
        const servers = yield* threeServers
        const { cache } = yield* open({ servers: servers.map((server) => server.address) })
        const all = keys(3000, "placed")
        yield* cache.setMany(all.map((key) => [key, `value of ${key}`]), { ttl: "1 minute" })
        const home = homeOf(servers)
        const expected = [0, 0, 0]
        for (const key of all) expected[home(key)]!++
        const counts = yield* Effect.forEach(servers, itemsOn)
        assert.deepStrictEqual(counts, expected)
        // the ports are random, and ketama's 160 points per server leave some pools up to ~25% off a third
        for (const count of counts) assert.isTrue(count > 450 && count < 1500, `uneven spread: ${counts}`)
        for (const key of all.slice(0, 60)) {
          const owner = servers[home(key)]!
          const found = yield* asciiGet(owner.address, key)
          assert.strictEqual(Option.getOrThrow(found).bytes.toString(), `value of ${key}`)
        }
      }))

    it.scopedLive("weights give a server its share of the keys", () =>
      Effect.gen(function*() {
        const servers = yield* threeServers
        const { cache } = yield* open({
          servers: servers.map((server, i) => ({ host: server.host, port: server.port, weight: i === 2 ? 2 : 1 }))
        })
        yield* cache.setMany(keys(4000, "weighted").map((key) => [key, "v"]), { ttl: "1 minute" })
        const counts = yield* Effect.forEach(servers, itemsOn)
        const home = homeOf(servers, [1, 1, 2])
        const expected = [0, 0, 0]
        for (const key of keys(4000, "weighted")) expected[home(key)]!++
        assert.deepStrictEqual(counts, expected)
        assert.isTrue(counts[2]! > 1400 && counts[2]! < 2600, `the weight-2 server holds ${counts[2]} of 4000`)
      }))

    it.scopedLive("getMany, setMany and remove send one write per server, and miss nothing", () =>
      Effect.gen(function*() {
        const servers = yield* threeServers
        const { cache } = yield* open({ servers: servers.map((server) => server.address) })
        const all = keys(3000, "batch")
        // What reaches a socket's handle: one `_write`, or one `_writev` for frames written side by side.
        const single = vi.spyOn(net.Socket.prototype, "_write")
        const vectored = vi.spyOn(net.Socket.prototype as unknown as { _writev: () => void }, "_writev")
        yield* Effect.addFinalizer(() => Effect.sync(() => (single.mockRestore(), vectored.mockRestore())))
        const writes = () => single.mock.calls.length + vectored.mock.calls.length
        const clearWrites = () => (single.mockClear(), vectored.mockClear())

        yield* cache.setMany(all.map((key, i) => [key, `v${i}`]), { ttl: "1 minute" })
        assert.strictEqual(writes(), 3)

        clearWrites()
        const absent = keys(500, "batch-absent")
        const found = yield* cache.getMany([...absent, ...all].reverse())
        assert.strictEqual(writes(), 3)
        assert.strictEqual(found.size, all.length)
        all.forEach((key, i) => assert.strictEqual(found.get(key), `v${i}`))
        for (const key of absent) assert.isFalse(found.has(key))

        clearWrites()
        assert.isFalse(yield* cache.remove(...all, "batch-absent-0"))
        assert.strictEqual(writes(), 3)
        assert.strictEqual((yield* cache.getMany(all)).size, 0)
        assert.isFalse(yield* cache.remove(...all.slice(0, 10)))
        yield* cache.set("batch-last", "x")
        assert.isTrue(yield* cache.remove("batch-last"))
      }))

    it.scopedLive(
      "a dead server is ejected: its keys fail fast, the others' keys are unaffected, and it comes back",
      () =>
        Effect.gen(function*() {
          const servers = yield* threeServers
          const { cache } = yield* open({
            servers: servers.map((server) => server.address),
            timeout: "300 millis",
            ejectAfter: 2,
            ejectFor: "700 millis"
          })
          const home = homeOf(servers)
          const all = keys(300, "eject")
          const onDead = all.filter((key) => home(key) === 1)
          const onLive = all.filter((key) => home(key) !== 1)
          yield* cache.setMany(all.map((key) => [key, key]), { ttl: "1 minute" })
          yield* servers[1]!.kill()

          // the first failures reach the dead server and eject it
          for (let i = 0; i < 3; i++) yield* Effect.exit(cache.get(onDead[i]!))
          const started = performance.now()
          const fast = yield* Effect.exit(cache.get(onDead[5]!))
          const error = failureOf(fast)
          assert.instanceOf(error, MemcachedError)
          assert.strictEqual(error.reason, "Unavailable")
          assert.strictEqual(error.server, servers[1]!.address)
          assert.include(error.message, "ejected")
          assert.isBelow(performance.now() - started, 100) // nothing is sent: well under the 300 ms timeout, even on a loaded machine

          for (const key of onLive.slice(0, 50)) assert.deepStrictEqual(yield* cache.get(key), Option.some(key))
          yield* cache.set(onLive[0]!, "still writable")
          assert.deepStrictEqual(yield* cache.get(onLive[0]!), Option.some("still writable"))
          const batch = failureOf(yield* Effect.exit(cache.getMany(all)))
          assert.instanceOf(batch, MemcachedError)

          yield* servers[1]!.restart()
          yield* Effect.sleep("800 millis")
          yield* cache.set(onDead[0]!, "back")
          assert.deepStrictEqual(yield* cache.get(onDead[0]!), Option.some("back"))
          const back = yield* asciiGet(servers[1]!.address, onDead[0]!)
          assert.strictEqual(Option.getOrThrow(back).bytes.toString(), "back")
        }),
      20_000
    )

    it.scopedLive("with failover, a dead server's keys go to the next server on the ring", () =>
      Effect.gen(function*() {
        const servers = yield* threeServers
        const { cache } = yield* open({
          servers: servers.map((server) => server.address),
          timeout: "300 millis",
          ejectAfter: 1,
          ejectFor: "1 minute",
          failover: true
        })
        const ring = ketama(servers.map((server) => ({ host: server.host, port: server.port, weight: 1 })))
        const key = keys(200, "failover").find((candidate) => ring.locate(candidate) === 0)!
        yield* servers[0]!.kill()
        yield* Effect.exit(cache.get(key)) // ejects server 0
        yield* cache.set(key, "moved")
        assert.deepStrictEqual(yield* cache.get(key), Option.some("moved"))
        const successor = ring.locateAlive(key, (index) => index !== 0)
        assert.notStrictEqual(successor, 0)
        const stored = yield* asciiGet(servers[successor]!.address, key)
        assert.strictEqual(Option.getOrThrow(stored).bytes.toString(), "moved")
      }))
  })
}
