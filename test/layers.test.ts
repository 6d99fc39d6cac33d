/**
 * Layers and lifecycle: building with servers down, deadlines against silent and frozen servers, recovery after a
 * restart, bring-your-own client, `MemcachedLive`'s environment, and CLI-style child processes that must exit by
 * themselves without a word from memjs.
 */
import { assert, describe, it } from "@effect/vitest"
import { assertNone, assertSome } from "@effect/vitest/utils"
import { ConfigError, ConfigProvider, Context, Duration, Effect, Layer, Option } from "effect"
import memjs from "memjs"
import {
  Cache,
  Flags,
  Memcached,
  memcachedEnvConfig,
  MemcachedError,
  MemcachedLive,
  SerializationError,
  Serializer
} from "../src/index.js"
import { asciiGet, asciiStats } from "./support/asciiClient.js"
import { spawnFixture } from "./support/fixtures.js"
import { startMemcached } from "./support/MemcachedServer.js"
import { closedPort, silentServer } from "./support/network.js"
import { build } from "./support/services.js"

const real = (options: Parameters<typeof Memcached.layer>[0]) =>
  Cache.layerMemcached(options).pipe(Layer.provide(Serializer.structured))

/** Runs `effect`, returning its failure (which must be a MemcachedError) and how long it took. */
const timedFailure = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const start = Date.now()
    const error = yield* Effect.flip(effect)
    const elapsed = Date.now() - start
    assert.instanceOf(error, MemcachedError)
    return { error: error as MemcachedError, elapsed }
  })

const connections = (address: string) => Effect.map(asciiStats(address), (stats) => Number(stats["curr_connections"]))

/** `curr_connections` once the stats connections of earlier polls have gone: the least of a few reads. */
const settledConnections = (address: string) =>
  Effect.gen(function*() {
    let least = yield* connections(address)
    for (let i = 0; i < 4; i++) {
      yield* Effect.sleep("30 millis")
      least = Math.min(least, yield* connections(address))
    }
    return least
  })

/** Polls `curr_connections` (our own stats connection from the last poll may linger for a moment). */
const waitForConnections = (address: string, expected: number) =>
  Effect.gen(function*() {
    const deadline = Date.now() + 1000
    let current = yield* connections(address)
    while (current !== expected && Date.now() < deadline) {
      yield* Effect.sleep("20 millis")
      current = yield* connections(address)
    }
    assert.strictEqual(current, expected, "open connections")
  })

describe("layers point one way: Memcached knows nothing of Cache or Serializer", () => {
  it.effect("Memcached.layerMemory needs no Serializer and provides no Cache", () =>
    Effect.gen(function*() {
      const context = yield* Layer.build(Memcached.layerMemory())
      assert.isTrue(Option.isNone(Context.getOption(context, Cache)))
      const memcached = Context.get(context, Memcached)
      yield* memcached.set("one-way", new TextEncoder().encode("bytes"))
      assert.strictEqual(new TextDecoder().decode(Option.getOrThrow(yield* memcached.get("one-way")).value), "bytes")
    }).pipe(Effect.scoped))

  it.effect("Cache.layer builds the cache over whichever Memcached and Serializer are provided", () =>
    Effect.gen(function*() {
      const memory = yield* Layer.build(Memcached.layerMemory())
      const layer = Cache.layer.pipe(Layer.provide(Layer.succeedContext(memory)), Layer.provide(Serializer.json))
      const cache = Context.get(yield* Layer.build(layer), Cache)
      yield* cache.set("one-way-json", { a: 1 })
      const item = Option.getOrThrow(yield* Context.get(memory, Memcached).get("one-way-json"))
      assert.strictEqual(new TextDecoder().decode(item.value), JSON.stringify({ a: 1 }))
      assert.strictEqual(item.flags, Flags.json)
    }).pipe(Effect.scoped))

  it.effect("over a Memcached of one's own that reads an item that is no bytes: SerializationError, not a defect", () =>
    Effect.gen(function*() {
      const memory = Context.get(yield* Layer.build(Memcached.layerMemory()), Memcached)
      const broken = new Map([["no-bytes", { value: undefined as unknown as Uint8Array, flags: 0 }]])
      const own = Layer.succeed(Memcached, { ...memory, getMany: () => Effect.succeed(broken) })
      for (const serializer of [Serializer.structured, Serializer.json, Serializer.raw, Serializer.bytes]) {
        const cache = Context.get(
          yield* Layer.build(Cache.layer.pipe(Layer.provide(own), Layer.provide(serializer))),
          Cache
        )
        const error = yield* Effect.flip(cache.getMany(["no-bytes"]))
        assert.instanceOf(error, SerializationError)
        assert.deepStrictEqual([error.key, error.direction], ["no-bytes", "decode"])
      }
    }).pipe(Effect.scoped))

  it.effect("Cache.layerMemory provides Cache and Memcached over one store", () =>
    Effect.gen(function*() {
      const { cache, memcached } = yield* build(Cache.layerMemory().pipe(Layer.provide(Serializer.raw)))
      yield* memcached.set("one-way-raw", new TextEncoder().encode("shared"))
      assertSome(yield* cache.get("one-way-raw"), "shared")
    }).pipe(Effect.scoped))
})

describe("Memcached.layer with servers down", () => {
  it.scopedLive("builds, and operations fail fast with MemcachedError Unavailable", () =>
    Effect.gen(function*() {
      const port = yield* closedPort
      const { cache, memcached } = yield* build(real({ servers: `127.0.0.1:${port}`, timeout: "1 second" }))
      const ops = [cache.get("down-a"), cache.set("down-b", 1), memcached.delete("down-c"), cache.getMany(["x", "y"])]
      for (const op of ops) {
        const { elapsed, error } = yield* timedFailure(op)
        assert.strictEqual(error.reason, "Unavailable")
        assert.strictEqual(error.server, `127.0.0.1:${port}`)
        assert.isBelow(elapsed, 1000)
      }
    }))

  it.scopedLive("checkOnStart: true fails the layer with MemcachedError", () =>
    Effect.gen(function*() {
      const port = yield* closedPort
      const { elapsed, error } = yield* timedFailure(
        build(real({ servers: `127.0.0.1:${port}`, timeout: "1 second", checkOnStart: true }))
      )
      assert.strictEqual(error.reason, "Unavailable")
      assert.strictEqual(error.server, `127.0.0.1:${port}`)
      assert.isBelow(elapsed, 1000)
    }))
})

describe("deadlines", () => {
  it.scopedLive("a server that never answers gives Timeout within timeout + 200 ms, on a fresh socket each time", () =>
    Effect.gen(function*() {
      const silent = yield* silentServer
      const { cache } = yield* build(real({ servers: silent.address, timeout: "300 millis" }))
      for (const [i, op] of [cache.get("silent-a"), cache.set("silent-b", "v")].entries()) {
        const { elapsed, error } = yield* timedFailure(op)
        assert.strictEqual(error.reason, "Timeout")
        assert.strictEqual(error.server, silent.address)
        assert.isAtLeast(elapsed, 290)
        assert.isAtMost(elapsed, 500)
        // The timed-out connection is dropped and the next request opens a new one.
        assert.strictEqual(silent.accepted(), i + 1)
      }
      yield* Effect.sleep("50 millis")
      assert.strictEqual(silent.open(), 0, "timed-out sockets are closed")
    }))

  it.scopedLive("checkOnStart against a silent server fails the layer with Timeout", () =>
    Effect.gen(function*() {
      const silent = yield* silentServer
      const { elapsed, error } = yield* timedFailure(
        build(real({ servers: silent.address, timeout: "300 millis", checkOnStart: true }))
      )
      assert.strictEqual(error.reason, "Timeout")
      assert.isAtMost(elapsed, 500)
    }))

  it.scopedLive("a frozen server (SIGSTOP) gives Timeout; after SIGCONT the same layer works again", () =>
    Effect.gen(function*() {
      const server = yield* startMemcached()
      const { cache } = yield* build(real({ servers: server.address, timeout: "300 millis" }))
      yield* cache.set("frozen-k", "before")
      yield* server.stop()
      const { elapsed, error } = yield* timedFailure(cache.get("frozen-k"))
      assert.strictEqual(error.reason, "Timeout")
      assert.isAtMost(elapsed, 500)
      yield* server.resume()
      assertSome(yield* cache.get("frozen-k"), "before")
      yield* cache.set("frozen-k2", "after")
      assertSome(yield* cache.get("frozen-k2"), "after")
    }))

  it.scopedLive("kill + restart: the same layer recovers within 2 s", () =>
    Effect.gen(function*() {
      const server = yield* startMemcached()
      const { cache } = yield* build(real({ servers: server.address, timeout: "500 millis" }))
      yield* cache.set("restart-k", "v")
      yield* server.kill()
      const { elapsed, error } = yield* timedFailure(cache.get("restart-k"))
      assert.strictEqual(error.reason, "Unavailable")
      assert.isBelow(elapsed, 500)

      yield* server.restart()
      const restarted = Date.now()
      let result = yield* Effect.either(cache.get("restart-k"))
      while (result._tag === "Left" && Date.now() - restarted < 2000) {
        yield* Effect.sleep("50 millis")
        result = yield* Effect.either(cache.get("restart-k"))
      }
      if (result._tag === "Left") assert.fail(`still failing 2 s after the restart: ${result.left.message}`)
      assertNone(result.right) // a fresh server: the old value is gone
      yield* cache.set("restart-k", "again")
      assertSome(yield* cache.get("restart-k"), "again")
    }))
})

describe("release", () => {
  it.scopedLive("releasing the layer closes its socket; a kept service refuses work instead of reconnecting", () =>
    Effect.gen(function*() {
      const server = yield* startMemcached()
      const baseline = yield* settledConnections(server.address)
      const kept = yield* Effect.scoped(Effect.gen(function*() {
        const { cache } = yield* build(real({ servers: server.address }))
        yield* cache.set("release-k", "v")
        yield* waitForConnections(server.address, baseline + 1)
        return cache
      }))
      yield* waitForConnections(server.address, baseline)
      const { error } = yield* timedFailure(kept.get("release-k"))
      assert.strictEqual(error.reason, "Unavailable")
      yield* waitForConnections(server.address, baseline)
    }))
})

/** `Cache.layer` over `Memcached.layerClient(client, options)`. */
const cacheOverClient = (...args: Parameters<typeof Memcached.layerClient>) =>
  Cache.layer.pipe(Layer.provideMerge(Memcached.layerClient(...args)))

/** A quiet memjs client of the caller's own, closed with the scope. */
const memjsClient = (address: string) =>
  Effect.acquireRelease(
    Effect.sync(() => memjs.Client.create(address, { retries: 0, timeout: 1, logger: { log() {} } })),
    (client) => Effect.sync(() => client.close())
  )

describe("Memcached.layerClient", () => {
  it.scopedLive("runs over a memjs client and leaves it usable after release (closeOnRelease false)", () =>
    Effect.gen(function*() {
      const server = yield* startMemcached()
      const client = yield* memjsClient(server.address)
      const baseline = yield* settledConnections(server.address)
      yield* Effect.scoped(Effect.gen(function*() {
        const { cache } = yield* build(cacheOverClient(client).pipe(Layer.provide(Serializer.raw)))
        yield* cache.set("byo-k", "from the layer")
        assertSome(yield* cache.get("byo-k"), "from the layer")
      }))
      // Released: the client's socket is still open and the client still works.
      assert.isAtLeast(yield* connections(server.address), baseline + 1)
      const read = yield* Effect.promise(() => client.get("byo-k"))
      assert.strictEqual(read.value?.toString("utf8"), "from the layer")
      yield* Effect.promise(() => client.set("byo-k2", "from memjs", { expires: 60 }))
      const seen = Option.getOrThrow(yield* asciiGet(server.address, "byo-k2"))
      assert.strictEqual(seen.bytes.toString(), "from memjs")
    }))

  it.scopedLive("the layer's requests and the client's own, in flight together on one socket, each get their answer", () =>
    Effect.gen(function*() {
      const server = yield* startMemcached()
      const client = yield* memjsClient(server.address)
      const { cache } = yield* build(cacheOverClient(client).pipe(Layer.provide(Serializer.raw)))
      const keys = Array.from({ length: 40 }, (_, i) => `shared-${i}`)
      yield* cache.setMany(keys.map((key) => [key, `value of ${key}`]))
      const viaLayer = Effect.forEach(keys, (key) => cache.get(key), { concurrency: "unbounded" })
      const viaBatch = cache.getMany(keys)
      const viaMemjs = Effect.promise(() => Promise.all(keys.map((key) => client.get(key))))
      const [single, batch, own] = yield* Effect.all([viaLayer, viaBatch, viaMemjs], { concurrency: "unbounded" })
      keys.forEach((key, i) => {
        assertSome(single[i]!, `value of ${key}`)
        assert.strictEqual(batch.get(key), `value of ${key}`)
        assert.strictEqual(own[i]!.value?.toString("utf8"), `value of ${key}`)
      })
    }))

  it.scopedLive("two layers over one client share its socket: each gets its answers, and neither reconnects", () =>
    Effect.gen(function*() {
      const server = yield* startMemcached()
      const client = yield* memjsClient(server.address)
      const layer = cacheOverClient(client, { timeout: "200 millis" }).pipe(Layer.provide(Serializer.raw))
      const first = (yield* build(layer)).cache
      const second = (yield* build(layer)).cache
      const keys = Array.from({ length: 40 }, (_, i) => `two-layers-${i}`)
      yield* first.setMany(keys.map((key) => [key, `value of ${key}`]))
      const readAll = Effect.all([
        Effect.forEach(keys, (key) => first.get(key), { concurrency: "unbounded" }),
        Effect.forEach(keys, (key) => second.get(key), { concurrency: "unbounded" }),
        first.getMany(keys),
        second.getMany(keys)
      ], { concurrency: "unbounded" })
      const check = ([one, two, manyOne, manyTwo]: Effect.Effect.Success<typeof readAll>) =>
        keys.forEach((key, i) => {
          assertSome(one[i]!, `value of ${key}`)
          assertSome(two[i]!, `value of ${key}`)
          assert.strictEqual(manyOne.get(key), `value of ${key}`)
          assert.strictEqual(manyTwo.get(key), `value of ${key}`)
        })
      const total = Effect.map(asciiStats(server.address), (stats) => Number(stats["total_connections"]))
      check(yield* readAll)
      const before = yield* total
      // Past both layers' deadlines: a request one layer answered for the other would be expired and reconnected.
      yield* Effect.sleep("500 millis")
      check(yield* readAll)
      // Only the two stats connections were opened since.
      assert.strictEqual((yield* total) - before, 1)
    }))

  it.scopedLive("closeOnRelease: true closes the client's sockets on release", () =>
    Effect.gen(function*() {
      const server = yield* startMemcached()
      const client = yield* memjsClient(server.address)
      const baseline = yield* settledConnections(server.address)
      yield* Effect.scoped(Effect.gen(function*() {
        const { cache } = yield* build(
          cacheOverClient(client, { closeOnRelease: true }).pipe(Layer.provide(Serializer.structured))
        )
        yield* cache.set("byo-close", 1)
        yield* waitForConnections(server.address, baseline + 1)
      }))
      yield* waitForConnections(server.address, baseline)
    }))
})

describe("MemcachedLive reads the environment", () => {
  const withEnv = (env: Record<string, string>) =>
    Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))
  const readConfig = (env: Record<string, string>) =>
    Effect.withConfigProvider(memcachedEnvConfig, ConfigProvider.fromMap(new Map(Object.entries(env))))
  const live = (env: Record<string, string>) => MemcachedLive.pipe(Layer.provide(withEnv(env)))

  it.effect("defaults when nothing is set", () =>
    Effect.gen(function*() {
      const config = yield* readConfig({})
      assert.strictEqual(config.servers, "localhost:11211")
      assert.strictEqual(Duration.toMillis(config.timeout), 1000)
      assert.strictEqual(Duration.toMillis(config.defaultTtl), 300_000)
      assert.strictEqual(config.keyPrefix, "")
      assert.strictEqual(config.hashLongKeys, false)
      assert.isUndefined(config.username)
      assert.isUndefined(config.password)
    }))

  it.effect("MEMCACHED_TIMEOUT takes a number of seconds or a duration", () =>
    Effect.gen(function*() {
      assert.strictEqual(Duration.toMillis((yield* readConfig({ MEMCACHED_TIMEOUT: "2" })).timeout), 2000)
      assert.strictEqual(Duration.toMillis((yield* readConfig({ MEMCACHED_TIMEOUT: "500 millis" })).timeout), 500)
      assert.strictEqual(Duration.toMillis((yield* readConfig({ MEMCACHED_TIMEOUT: "0.25" })).timeout), 250)
      assert.strictEqual(Duration.toMillis((yield* readConfig({ CACHE_DEFAULT_TTL: "60" })).defaultTtl), 60_000)
      const error = yield* Effect.flip(readConfig({ MEMCACHED_TIMEOUT: "soon" }))
      assert.isTrue(ConfigError.isConfigError(error))
      assert.include(String(error), "MEMCACHED_TIMEOUT")
    }))

  it.scopedLive("MEMCACHED_SERVERS and CACHE_KEY_PREFIX: keys land under the prefix", () =>
    Effect.gen(function*() {
      const server = yield* startMemcached()
      const { cache } = yield* build(live({ MEMCACHED_SERVERS: server.address, CACHE_KEY_PREFIX: "envpfx:" }))
      yield* cache.set("live-k", "v")
      assertSome(yield* cache.get("live-k"), "v")
      assert.isTrue(Option.isSome(yield* asciiGet(server.address, "envpfx:live-k")))
      assertNone(yield* asciiGet(server.address, "live-k"))
    }))

  it.scopedLive("MEMCACHED_TIMEOUT=\"500 millis\" is the per-operation deadline", () =>
    Effect.gen(function*() {
      const silent = yield* silentServer
      const { cache } = yield* build(live({ MEMCACHED_SERVERS: silent.address, MEMCACHED_TIMEOUT: "500 millis" }))
      const { elapsed, error } = yield* timedFailure(cache.get("live-timeout"))
      assert.strictEqual(error.reason, "Timeout")
      assert.isAtLeast(elapsed, 490)
      assert.isAtMost(elapsed, 700)
    }))

  it.scoped("a bad MEMCACHED_SERVERS fails the layer with a ConfigError that names no secret", () =>
    Effect.gen(function*() {
      for (const servers of ["alice:s3cret-pw@cache:11211", "cache:99999", "cache:port", " , "]) {
        const error = yield* Effect.flip(build(live({ MEMCACHED_SERVERS: servers })))
        assert.isTrue(ConfigError.isConfigError(error), `${servers}: ${String(error)}`)
        assert.include(String(error), "MEMCACHED_SERVERS")
        assert.notInclude(String(error), "s3cret-pw")
      }
    }))
})

interface ScriptRun {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
  /** From the moment the script printed "closed" to its exit. */
  readonly exitAfterCloseMillis: number | undefined
}

/** Runs a fixture with `node --import tsx`, killing it (by its own handle) if it is still alive after 15 s. */
const runScript = (script: string, args: ReadonlyArray<string>) =>
  Effect.async<ScriptRun>((resume) => {
    const child = spawnFixture(script, args)
    let stdout = ""
    let stderr = ""
    let closedAt: number | undefined
    let exitedAt = 0
    child.stdout.setEncoding("utf8")
    child.stderr.setEncoding("utf8")
    child.stdout.on("data", (chunk: string) => {
      stdout += chunk
      if (closedAt === undefined && stdout.includes("closed\n")) closedAt = Date.now()
    })
    child.stderr.on("data", (chunk: string) => {
      stderr += chunk
    })
    const killer = setTimeout(() => child.kill("SIGKILL"), 15_000)
    child.once("exit", () => {
      exitedAt = Date.now()
    })
    child.once("close", (code, signal) => {
      clearTimeout(killer)
      resume(Effect.succeed({
        code,
        signal,
        stdout,
        stderr,
        exitAfterCloseMillis: closedAt === undefined ? undefined : exitedAt - closedAt
      }))
    })
    return Effect.sync(() => {
      clearTimeout(killer)
      child.kill("SIGKILL")
    })
  })

describe("CLI-style child processes using the facade", () => {
  it.scopedLive(
    "one set/get, close(): exits by itself within 2 s and prints only its own lines",
    () =>
      Effect.gen(function*() {
        const server = yield* startMemcached()
        const run = yield* runScript("facade-once.mts", [server.address])
        assert.strictEqual(run.stderr, "")
        assert.strictEqual(run.stdout, "got hello from the child\nclosed\n")
        assert.strictEqual(run.signal, null, "the child had to be killed: it did not exit by itself")
        assert.strictEqual(run.code, 0)
        assert.isDefined(run.exitAfterCloseMillis)
        assert.isBelow(run.exitAfterCloseMillis!, 2000)
        const stored = Option.getOrThrow(yield* asciiGet(server.address, "child:once"))
        assert.strictEqual(stored.bytes.length > 0, true)
      }),
    20_000
  )

  it.scopedLive(
    "50 calls against a down server: typed failures, no memjs output, exits by itself",
    () =>
      Effect.gen(function*() {
        const port = yield* closedPort
        const run = yield* runScript("facade-down.mts", [`127.0.0.1:${port}`])
        assert.strictEqual(run.stderr, "")
        assert.strictEqual(run.stdout, "50 MemcachedError/Unavailable\nclosed\n")
        assert.strictEqual(run.signal, null, "the child had to be killed: it did not exit by itself")
        assert.strictEqual(run.code, 0)
        assert.isBelow(run.exitAfterCloseMillis!, 2000)
      }),
    20_000
  )
})
