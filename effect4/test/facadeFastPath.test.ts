/**
 * The Effect 4 facade's fast path (`../../src/internal/facadeFastPath.ts`, shared with the Effect 3 line, whose
 * `test/facadeFastPath.test.ts` also runs the fault stand-ins): `get`, `getMany` and `set` of a `MemcachedCache`
 * without a `telemetry` layer run on no fiber. Each case runs the same calls on the fast path and on the Effect path
 * (`../../test/support/facadeParity.ts`), against a real memcached and a closed port, and asserts the same outcomes
 * and metric deltas.
 */
import { Effect, Exit, Fiber, Layer, Scope, Tracer } from "effect"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { makeParity } from "../../test/support/facadeParity.js"
import { MemcachedCache, type MemcachedCacheOptions } from "../src/index.js"
import { memcachedMetricCounts } from "./support/line.js"
import { closedPort, type RunningServer, startMemcached } from "./support/MemcachedServer.js"
import { makeRecording } from "./support/recordingTracer.js"

const scope = Effect.runSync(Scope.make())
let server: RunningServer
let asciiServer: RunningServer
let downAddress: string
beforeAll(async () => {
  server = await Effect.runPromise(Scope.provide(startMemcached(), scope))
  asciiServer = await Effect.runPromise(Scope.provide(startMemcached({ extraArgs: ["-B", "ascii"] }), scope))
  downAddress = `127.0.0.1:${await Effect.runPromise(closedPort)}`
})
afterAll(() => Effect.runPromise(Scope.close(scope, Exit.void)))

const parity = makeParity<MemcachedCacheOptions, MemcachedCache>({
  onFiber: () => Fiber.getCurrent() !== undefined,
  metricCounts: () => Effect.runSync(memcachedMetricCounts),
  make: (options, traced) =>
    new MemcachedCache(
      traced ? { ...options, telemetry: Layer.succeed(Tracer.Tracer, makeRecording().tracer) } : options
    )
})

let n = 0
const fresh = () => `parity4:${n++}`

describe.each(["binary", "meta"] as const)("the Effect 4 facade's fast path over %s", (protocol) => {
  const options = (extra: MemcachedCacheOptions = {}) => () => ({
    servers: protocol === "meta" ? asciiServer.address : server.address,
    protocol,
    ...extra
  })

  it("get, getMany and set: hits, misses, fallbacks, CacheNotFound, serializers, long strings, bad input", async () => {
    const key = fresh()
    const results = await parity(options(), [
      (rc) => rc.connect(),
      (rc) => rc.set(key, { a: [1, 2n, new Map([["m", 1]])] }),
      (rc) => rc.get(key),
      (rc) => rc.get(`${key}:missing`, "fallback"),
      (rc) => rc.get(`${key}:missing`, "fallback", true),
      (rc) => rc.getMany([key, `${key}:missing`, key]),
      (rc) => rc.set(key, "é€😀 memcached ".repeat(20_000), "1 hour"),
      (rc) => rc.get(key),
      (rc) => {
        rc.serializer = "json"
        return rc.get(key) // written as text: JSON cannot read it back
      },
      (rc) => rc.set(key, 10n), // JSON has no bigint
      (rc) => rc.set("a key", 1),
      (rc) => rc.getMany([key, "a key"]),
      (rc) => rc.set(key, 1, "5 parsecs" as never),
      (rc) => rc.set(key, 1, Number.NaN),
      (rc) => rc.set(key, "é".repeat(600_000))
    ])
    assert.deepStrictEqual(results[2]!.outcome, { value: { a: [1, 2n, new Map([["m", 1]])] } })
    assert.strictEqual(results[4]!.outcome.error, "CacheNotFound")
    assert.deepStrictEqual(results[7]!.outcome, { value: "é€😀 memcached ".repeat(20_000) })
    assert.strictEqual(results[8]!.outcome.error, "SerializationError")
    assert.strictEqual(results[10]!.outcome.error, "InvalidKey")
    assert.strictEqual(results[14]!.outcome.error, "ValueTooLarge")
    assert.isAbove(Object.keys(results[2]!.metrics).length, 0, "a get is measured")
  })
})

describe("the Effect 4 facade's fast path under faults", () => {
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
})
