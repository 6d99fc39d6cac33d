/**
 * The `Cache` service's direct path (`src/internal/cache/direct.ts`): an untraced fiber reads and writes single items,
 * and reads batches, in one step, through the checked service's `DirectService`. Each case runs the same steps on a fiber that takes it
 * and on one whose tracer keeps its spans (so it takes the Effect path), against a real memcached and a silent and a
 * closed port, and asserts the same outcomes (value, or error class, message and fields; defects as defects), the
 * same debug logs and the same metric deltas. Shared by both Effect lines through `#line`;
 * `effect4/test/cacheDirect.test.ts` runs it on Effect 4.
 */
import type { CacheService } from "#line"
import {
  assert,
  Cache,
  captureLogs,
  closedPort,
  describe,
  Effect,
  Exit,
  firstFailure,
  isDefect,
  it,
  Layer,
  makeRecording,
  memcachedMetricCounts,
  NumberFromString,
  Option,
  Serializer,
  startMemcached,
  traced,
  withSteppingClock
} from "#line"
import * as net from "node:net"
import { directServices } from "../src/internal/checkedService.js"

/** Calls through a `DirectService`, counted by wrapping the ones the caches look up. */
let directCalls = 0
const lookUp = directServices.get.bind(directServices)
directServices.get = (service) => {
  const direct = lookUp(service)
  return direct && {
    tracing: direct.tracing,
    get: (...args) => (directCalls++, direct.get(...args)),
    getMany: (...args) => (directCalls++, direct.getMany(...args)),
    set: (...args) => (directCalls++, direct.set(...args))
  }
}

type Step = (cache: CacheService) => Effect.Effect<unknown, unknown>

/** An outcome as the caller sees it: the value, or the error's tag, message and fields, or that it died. */
const outcomeOf = (exit: Exit.Exit<unknown, unknown>) => {
  if (Exit.isSuccess(exit)) return { value: exit.value }
  if (isDefect(exit.cause)) return { defect: true }
  const { cause, ...fields } = firstFailure(exit.cause) as Error & { readonly _tag: string; readonly cause?: unknown }
  return {
    error: fields._tag,
    message: fields.message,
    fields: JSON.stringify(fields, (_, v) => typeof v === "bigint" ? `${v}n` : v),
    cause: cause instanceof Error ? cause.message : cause
  }
}

/** Runs `steps` on `cache`, each one's outcome, debug logs and metric deltas, each step through `around`. */
const runSteps = (
  cache: CacheService,
  steps: ReadonlyArray<Step>,
  around: <A, E>(effect: Effect.Effect<A, E>) => Effect.Effect<A, E>
) =>
  Effect.forEach(steps, (step) =>
    Effect.gen(function*() {
      const before = yield* memcachedMetricCounts
      const [exit, logs] = yield* captureLogs(around(step(cache)), "Debug")
      const after = yield* memcachedMetricCounts
      const deltas = Object.fromEntries(
        [...after].filter(([key, count]) => count !== (before.get(key) ?? 0)).map((
          [key, count]
        ) => [key, count - (before.get(key) ?? 0)])
      )
      return { outcome: outcomeOf(exit), logs: logs.map((log) => [log.message, log.annotations]), deltas }
    }))

/**
 * Runs `steps` on a `Cache` over `options`, first untraced (the direct path), then under a tracer that keeps its spans
 * (the Effect path), and asserts the two ran alike; `direct` says whether the direct path is expected to be taken.
 */
const parity = (options: Parameters<typeof Cache.layerMemcached>[0], steps: ReadonlyArray<Step>, direct = true) =>
  Effect.gen(function*() {
    const layer = Cache.layerMemcached(options).pipe(Layer.provide(Serializer.structured))
    const recording = makeRecording()
    const before = directCalls
    const onDirectPath = yield* Effect.flatMap(Cache, (cache) => runSteps(cache, steps, (e) => e)).pipe(
      Effect.provide(layer)
    )
    assert.strictEqual(directCalls > before, direct, "calls on the direct path")
    const between = directCalls
    const onEffectPath = yield* Effect.flatMap(Cache, (cache) => runSteps(cache, steps, traced(recording))).pipe(
      Effect.provide(layer)
    )
    assert.strictEqual(directCalls, between, "no call of the Effect path through a DirectService")
    assert.deepStrictEqual(onDirectPath, onEffectPath)
    return onDirectPath
  })

/** A string long enough to be written from its text, with multi-byte characters. */
const longText = "é€😀 memcached ".repeat(20_000)

let n = 0
/** A key of its own for each case. */
const fresh = () => `direct:${n++}`

/** A loopback server that accepts connections and never answers. */
const silentServer = Effect.acquireRelease(
  Effect.promise(() =>
    new Promise<net.Server>((resolve) => {
      const server = net.createServer((socket) => socket.on("data", () => {}))
      server.listen(0, "127.0.0.1", () => resolve(server))
    })
  ),
  (server) => Effect.promise(() => new Promise<void>((resolve) => server.close(() => resolve())))
)

describe.each(["binary", "meta"] as const)("the Cache service's direct path over %s", (protocol) => {
  const serverOptions = protocol === "meta" ? { extraArgs: ["-B", "ascii"] } : {}

  it.live("get, getOrElse, getOrFail, has and set: hits, misses, values, TTLs, typed views and namespaces", () =>
    Effect.gen(function*() {
      const server = yield* startMemcached(serverOptions)
      const key = fresh()
      const results = yield* parity({ servers: server.address, protocol }, [
        (cache) => cache.set(key, { a: [1, 2n, new Map([["m", 1]])] }),
        (cache) => cache.get(key),
        (cache) => cache.get(`${key}:missing`),
        (cache) => cache.getOrElse(`${key}:missing`, () => "fallback"),
        (cache) => cache.getOrFail(`${key}:missing`),
        (cache) => cache.getOrFail(key),
        (cache) => cache.has(key),
        (cache) => cache.has(`${key}:missing`),
        (cache) => cache.set(key, "text", { ttl: "1 hour" }),
        (cache) => cache.getOrElse(key, () => "fallback"),
        (cache) => cache.set(key, "42", { ttl: null }),
        (cache) => cache.typed(NumberFromString).get(key),
        (cache) => cache.typed(NumberFromString).set(key, 7),
        (cache) => cache.get(key),
        (cache) => cache.set(key, "short", { ttl: "1500 millis" }),
        (cache) => cache.namespace("ns").set(key, 1),
        (cache) => cache.namespace("ns").get(key),
        (cache) => cache.getMany([key, `${key}:missing`, key]),
        (cache) => cache.getMany([]),
        (cache) => cache.typed(NumberFromString).getMany([key]),
        // Long strings are written from their text (`longTextItem`); a lone surrogate's is cloned instead.
        (cache) => cache.set(`${key}:long`, longText),
        (cache) => cache.get(`${key}:long`),
        (cache) => cache.set(`${key}:long`, `${longText}\ud800`),
        (cache) => cache.getOrFail(`${key}:long`),
        (cache) => cache.set(`${key}:long`, "é".repeat(600_000)),
        (cache) => cache.typed(NumberFromString).set(`${key}:long`, 1)
      ])
      assert.deepStrictEqual(results[1]!.outcome, { value: Option.some({ a: [1, 2n, new Map([["m", 1]])] }) })
      assert.deepStrictEqual(results[3]!.outcome, { value: "fallback" })
      assert.strictEqual(results[4]!.outcome.error, "CacheNotFound")
      assert.deepStrictEqual(results[11]!.outcome, { value: Option.some(42) })
      assert.deepStrictEqual(results[13]!.outcome, { value: Option.some("7") })
      assert.isAbove(Object.keys(results[1]!.deltas).length, 0, "a get is measured")
      assert.deepStrictEqual(results[17]!.outcome, { value: new Map([[key, "short"]]) })
      assert.strictEqual(results[19]!.outcome.error, "SerializationError", "\"short\" is no number")
      assert.deepStrictEqual(results[21]!.outcome, { value: Option.some(longText) })
      assert.deepStrictEqual(results[23]!.outcome, { value: `${longText}\ud800` })
      assert.strictEqual(results[24]!.outcome.error, "ValueTooLarge", "1.2 MB of UTF-8 in 600,000 code units")
    }).pipe(Effect.scoped))

  it.live("bad keys, bad TTLs and values too large for the client", () =>
    Effect.gen(function*() {
      const server = yield* startMemcached(serverOptions)
      const key = fresh()
      const results = yield* parity({ servers: server.address, protocol }, [
        (cache) => cache.set("", 1),
        (cache) => cache.get("a key"),
        (cache) => cache.getOrFail("k".repeat(300)),
        (cache) => cache.has("\ud800"),
        (cache) => cache.get(42 as unknown as string),
        (cache) => cache.set(42 as unknown as string, 1),
        (cache) => cache.set(key, 1, { ttl: 5 as never }),
        (cache) => cache.set(key, 1, { ttl: "5 parsecs" as never }),
        (cache) => cache.set(key, new Uint8Array(2 * 1024 * 1024)),
        (cache) => cache.getMany([key, "a key"]),
        (cache) => cache.getMany([key, 42 as unknown as string])
      ])
      assert.strictEqual(results[0]!.outcome.error, "InvalidKey")
      assert.strictEqual(results[6]!.outcome.error, "InvalidArgument")
      assert.strictEqual(results[8]!.outcome.error, "ValueTooLarge")
      assert.strictEqual(results[9]!.outcome.error, "InvalidKey")
    }).pipe(Effect.scoped))
})

describe("the Cache service's direct path under faults", () => {
  it.live("a server that is down: Unavailable, sent once more at once, each failure logged at debug level", () =>
    Effect.gen(function*() {
      const servers = `127.0.0.1:${yield* closedPort}`
      const results = yield* parity({ servers }, [
        (cache) => cache.get("down"),
        (cache) => cache.getOrElse("down", () => "fallback"),
        (cache) => cache.set("down", 1),
        (cache) => cache.getMany(["down", "also down"])
      ])
      assert.include(results[0]!.outcome.fields, "Unavailable")
      assert.strictEqual(results[0]!.logs.length, 2, "the get and its one resend")
    }))

  it.live("a silent server: Timeout, never sent again", () =>
    Effect.gen(function*() {
      const silent = yield* silentServer
      const { port } = silent.address() as net.AddressInfo
      const results = yield* parity({ servers: `127.0.0.1:${port}`, timeout: "200 millis" }, [
        (cache) => cache.get("silent"),
        (cache) => cache.set("silent", 1),
        (cache) => cache.getMany(["silent"])
      ])
      assert.include(results[0]!.outcome.fields, "Timeout")
    }).pipe(Effect.scoped))

  it.live("a fiber on a clock of its own takes the Effect path, which reads that clock", () =>
    Effect.gen(function*() {
      const server = yield* startMemcached()
      const key = fresh()
      const before = directCalls
      const layer = Cache.layerMemcached({ servers: server.address }).pipe(Layer.provide(Serializer.structured))
      const value = yield* Effect.flatMap(Cache, (cache) =>
        Effect.andThen(cache.set(key, "on a clock of its own"), cache.get(key))).pipe(
          withSteppingClock(1_000_000n),
          Effect.provide(layer)
        )
      assert.deepStrictEqual(value, Option.some("on a clock of its own"))
      assert.strictEqual(directCalls, before)
    }).pipe(Effect.scoped))
})
