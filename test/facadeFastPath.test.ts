/**
 * The facade's fast path (`src/internal/facadeFastPath.ts`): `get`, `getMany` and `set` of a `MemcachedCache` without
 * a `telemetry` layer run without an Effect. Each case runs the same calls on the fast path and on the Effect path
 * (`support/facadeParity.ts`), against a real memcached and the fault stand-ins (a resetting and a silent server, a
 * closed port), and asserts the same outcomes and metric deltas. `effect4/test/facadeFastPath.test.ts` is the Effect 4
 * line's.
 */
import { Effect, Exit, Fiber, Layer, Option, Schedule, Scope } from "effect"
import { AsyncLocalStorage } from "node:async_hooks"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { MemcachedCache, type MemcachedCacheOptions, Serializer } from "../src/index.js"
import { makeParity } from "./support/facadeParity.js"
import { memcachedMetricCounts } from "./support/line.js"
import { type RunningServer, startMemcached } from "./support/MemcachedServer.js"
import { binaryServer, closedPort, emptyCacheAnswer, keyOf, silentServer, type TestServer } from "./support/network.js"
import { makeRecording } from "./support/recordingTracer.js"

const scope = Effect.runSync(Scope.make())
let server: RunningServer
let asciiServer: RunningServer
let silent: TestServer
let downAddress: string
beforeAll(async () => {
  server = await Effect.runPromise(Scope.extend(startMemcached(), scope))
  asciiServer = await Effect.runPromise(Scope.extend(startMemcached({ extraArgs: ["-B", "ascii"] }), scope))
  silent = await Effect.runPromise(Scope.extend(silentServer, scope))
  downAddress = `127.0.0.1:${await Effect.runPromise(closedPort)}`
})
afterAll(() => Effect.runPromise(Scope.close(scope, Exit.void)))

type Step = (rc: MemcachedCache) => Promise<unknown>

const parity = makeParity<MemcachedCacheOptions, MemcachedCache>({
  onFiber: () => Option.isSome(Fiber.getCurrentFiber()),
  metricCounts: () => Effect.runSync(memcachedMetricCounts),
  make: (options, traced) =>
    new MemcachedCache(traced ? { ...options, telemetry: Layer.setTracer(makeRecording().tracer) } : options)
})

/** The runtime is built by the first call; the fast path starts after it. */
const warm: Step = (rc) => rc.connect()

const context = new AsyncLocalStorage<string>()

let n = 0
/** A key of its own for each case, the same for both facades. */
const fresh = () => `parity:${n++}`

describe.each(["binary", "meta"] as const)("the facade's fast path over %s", (protocol) => {
  const options = (extra: MemcachedCacheOptions = {}) => () => ({
    servers: protocol === "meta" ? asciiServer.address : server.address,
    protocol,
    ...extra
  })

  it("get and set: hits, misses, fallbacks, CacheNotFound, every serializer's values and flags", async () => {
    const key = fresh()
    const results = await parity(options(), [
      warm,
      (rc) => rc.set(key, { a: [1, 2n, new Map([["m", 1]])] }),
      (rc) => rc.get(key),
      (rc) => rc.get(`${key}:missing`),
      (rc) => rc.get(`${key}:missing`, "fallback"),
      (rc) => rc.get(`${key}:missing`, "fallback", true),
      (rc) => rc.getMany([key, `${key}:missing`, key]),
      (rc) => rc.set(key, "text"),
      (rc) => rc.get(key),
      (rc) => rc.set(key, 42),
      (rc) => rc.get(key),
      (rc) => rc.set(key, Buffer.from("bytes")),
      (rc) => rc.get(key),
      (rc) => {
        rc.serializer = "json"
        return rc.get(key) // written as bytes: a SerializationError
      },
      (rc) => rc.set(key, { json: true }),
      (rc) => rc.get(key),
      (rc) => rc.set(key, 10n), // JSON has no bigint: a SerializationError on encode
      (rc) => {
        rc.serializer = "raw"
        return rc.set(key, Buffer.from("raw"))
      },
      (rc) => rc.get(key),
      (rc) => rc.set(key, { not: "bytes" }),
      // The caller's async context, after an await and in a `then` callback.
      (rc) =>
        context.run("caller", async () => {
          await rc.set(key, Buffer.from("x"))
          const afterSet = context.getStore()
          return [afterSet, await rc.get(key).then(() => context.getStore())]
        })
    ])
    assert.deepStrictEqual(results.at(-1)!.outcome, { value: ["caller", "caller"] })
    assert.deepStrictEqual(results[2]!.outcome, { value: { a: [1, 2n, new Map([["m", 1]])] } })
    assert.strictEqual(results[5]!.outcome.error, "CacheNotFound")
    assert.deepStrictEqual(results[6]!.outcome, { value: new Map([[key, { a: [1, 2n, new Map([["m", 1]])] }]]) })
    assert.strictEqual(results[13]!.outcome.error, "SerializationError")
  })

  it("bad keys, bad TTLs and values too large for the client or the server", async () => {
    const key = fresh()
    const results = await parity(options({ maxItemSize: 4 * 1024 * 1024 }), [
      warm,
      (rc) => rc.set("", 1),
      (rc) => rc.get(""),
      (rc) => rc.set("a key", 1),
      (rc) => rc.get("a\nkey"),
      (rc) => rc.get("k".repeat(300)),
      (rc) => rc.set(42 as unknown as string, 1),
      (rc) => rc.get(42 as unknown as string),
      (rc) => rc.get("\ud800"),
      (rc) => rc.set(key, 1, "5 parsecs" as never),
      (rc) => rc.set(key, 1, Number.NaN),
      (rc) => rc.set(key, 1, -1),
      (rc) => rc.get(key),
      (rc) => rc.set(key, 1, null),
      (rc) => rc.set(key, 1, "1500 millis"),
      (rc) => rc.set(key, 1, 2.5),
      (rc) => rc.get(key),
      (rc) => rc.set(key, Buffer.alloc(5 * 1024 * 1024)),
      (rc) => rc.set(key, Buffer.alloc(2 * 1024 * 1024)),
      (rc) => rc.getMany([key, "a key"]),
      // Long strings are written from their text (`longTextItem`); a lone surrogate's is cloned instead.
      (rc) => rc.set(key, "é€😀 memcached ".repeat(20_000)),
      (rc) => rc.get(key),
      (rc) => rc.set(key, `${"é".repeat(5000)}\ud800`),
      (rc) => rc.get(key),
      (rc) => rc.set(key, "é".repeat(2_100_000)),
      (rc) => rc.set(key, "é".repeat(1_500_000))
    ])
    assert.strictEqual(results[1]!.outcome.error, "InvalidKey")
    assert.strictEqual(results[9]!.outcome.error, "InvalidArgument")
    assert.strictEqual(results[10]!.outcome.error, "TypeError")
    assert.strictEqual(results[17]!.outcome.error, "ValueTooLarge")
    assert.strictEqual(results[18]!.outcome.error, "ValueTooLarge")
    assert.strictEqual(results[19]!.outcome.error, "InvalidKey")
    assert.deepStrictEqual(results[21]!.outcome, { value: "é€😀 memcached ".repeat(20_000) })
    assert.deepStrictEqual(results[23]!.outcome, { value: `${"é".repeat(5000)}\ud800` })
    assert.strictEqual(results[24]!.outcome.error, "ValueTooLarge", "over the client's 4 MiB in UTF-8 bytes")
    assert.strictEqual(results[25]!.outcome.error, "ValueTooLarge", "over the server's 1 MiB")
  })
})

describe("the facade's fast path under faults", () => {
  it("a server that is down: Unavailable, sent once more at once", async () => {
    const results = await parity(() => ({ servers: downAddress }), [
      (rc) => rc.get("warm").catch(() => undefined),
      (rc) => rc.get("down"),
      (rc) => rc.set("down", 1),
      (rc) => rc.getMany(["down", "also down"])
    ])
    assert.strictEqual(results[1]!.outcome.error, "MemcachedError")
    assert.include(results[1]!.outcome.fields, "Unavailable")
  })

  it("a connection reset under a request: sent once more, at once, and answered", async () => {
    // Each key's 1st, 3rd… request has its connection reset; the next one is answered, as an empty cache would.
    const seen = new Map<string, number>()
    const resetting = await Effect.runPromise(Scope.extend(
      binaryServer((request, socket) => {
        const key = keyOf(request)
        const count = (seen.get(key) ?? 0) + 1
        seen.set(key, count)
        if (key.startsWith("reset") && count % 2 === 1) return void socket.destroy()
        const answer = emptyCacheAnswer(request)
        if (answer) socket.write(answer)
      }),
      scope
    ))
    const results = await parity(() => ({ servers: resetting.address }), [
      warm,
      (rc) => rc.get("reset-get", "missed"),
      (rc) => rc.set("reset-set", 1)
    ])
    assert.deepStrictEqual(results.map(({ outcome }) => outcome), [{ value: undefined }, { value: "missed" }, {
      value: undefined
    }])
    assert.deepStrictEqual([seen.get("reset-get"), seen.get("reset-set")], [4, 4])
  })

  it("a silent server: Timeout, never sent again", async () => {
    const results = await parity(() => ({ servers: silent.address, timeout: 0.2 }), [
      (rc) => rc.get("warm").catch(() => undefined),
      (rc) => rc.get("silent"),
      (rc) => rc.set("silent", 1)
    ])
    assert.include(results[1]!.outcome.fields, "Timeout")
  })

  it("close(): calls in flight at close, and calls after it, which open the connection again", async () => {
    const key = fresh()
    const inFlight: Step = (rc) => {
      const pending = rc.get("in-flight")
      return rc.close().then(() => pending)
    }
    await parity(() => ({ servers: silent.address, timeout: 1 }), [
      (rc) => rc.get("warm").catch(() => undefined),
      inFlight
    ])
    await parity(() => ({ servers: server.address }), [
      warm,
      (rc) => rc.close(),
      (rc) => rc.set(key, "again"),
      (rc) => rc.get(key)
    ])
  })

  it("a retry or a serializer of your own keeps the Effect path", async () => {
    const key = fresh()
    const servers = () => server.address
    await parity(() => ({ servers: servers(), retry: Schedule.recurs(0) }), [warm, (rc) => rc.set(key, 1)], false)
    const own = { ...Serializer.formats.json }
    await parity(
      () => ({ servers: servers(), serializer: own }),
      [warm, (rc) => rc.set(key, 1), (rc) => rc.get(key)],
      false
    )
  })
})
