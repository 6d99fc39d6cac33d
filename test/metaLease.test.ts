/**
 * Stampede protection done by memcached itself (`protocol: "meta"`): `getOrSet` with a lease reads with `mg … N<ttl>`
 * and lets memcached's win (`W`), already-won (`Z`) and stale (`X`) flags decide who computes, with no `<key>:lease`
 * key; `invalidate` marks a key stale (`md … I`), and `staleWhileRevalidate` returns the stale value at once while
 * exactly one caller refreshes it. Against a real memcached that speaks no binary (`-B ascii`), with several
 * independent runtimes (each its own layer, sockets and single-flight map, as separate processes would have). Shared
 * by both Effect lines through `#line`; `effect4/test/metaLease.test.ts` runs it on Effect 4.
 */
import {
  assert,
  assertNone,
  assertSome,
  Cache,
  CacheMetrics,
  countOf,
  Data,
  describe,
  Effect,
  Exit,
  Fiber,
  fork,
  InvalidArgument,
  InvalidKey,
  it,
  Layer,
  type LeaseOptions,
  makeRecording,
  ManagedRuntime,
  Memcached,
  MemcachedCache,
  MemcachedTest,
  type NamespacedCache,
  type RunningServer,
  Serializer,
  SpanAttributes,
  startMemcached,
  traced,
  type Ttl
} from "#line"
import * as net from "node:net"

class Boom extends Data.TaggedError("Boom")<{}> {}

const N = 8

type Runtime = ManagedRuntime.ManagedRuntime<Cache | Memcached, unknown>

/** `count` independent meta runtimes against `server`, disposed with the test's scope. */
const runtimes = (server: RunningServer, count = N) =>
  Effect.acquireRelease(
    Effect.sync(() =>
      Array.from({ length: count }, (): Runtime =>
        ManagedRuntime.make(
          Cache.layerMemcached({ servers: server.address, protocol: "meta" }).pipe(
            Layer.provide(Serializer.structured)
          )
        ))
    ),
    (all) => Effect.promise(() => Promise.all(all.map((runtime) => runtime.dispose())))
  )

const ascii = startMemcached({ extraArgs: ["-B", "ascii"] })

const run = <A, E>(runtime: Runtime, effect: Effect.Effect<A, E, Cache | Memcached>) =>
  Effect.promise(() => runtime.runPromise(effect))

/** Every runtime runs `getOrSet(key, compute(i), { lease })` at once: their exits, in order, and their durations. */
const stampede = <A, E>(
  all: ReadonlyArray<Runtime>,
  key: string,
  compute: (i: number) => Effect.Effect<A, E>,
  lease: LeaseOptions,
  ttl: Ttl = "1 minute"
) =>
  Effect.promise(() =>
    Promise.all(all.map(async (runtime, i) => {
      const started = Date.now()
      const exit = await runtime.runPromiseExit(Cache.getOrSet(key, compute(i), { ttl, lease }))
      return { exit, millis: Date.now() - started }
    }))
  )

const valueOf = <A>(exit: Exit.Exit<A, unknown>): A => {
  assert.isTrue(Exit.isSuccess(exit), String(exit))
  return (exit as Exit.Success<A, unknown>).value
}

/** One raw meta request on a socket of its own: its first line. */
const rawLine = (server: RunningServer, request: string) =>
  Effect.promise(() =>
    new Promise<string>((resolve, reject) => {
      const socket = net.connect(server.port, server.host, () => socket.write(`${request}\r\n`))
      let received = ""
      socket.on("error", reject)
      socket.on("data", (chunk) => {
        received += chunk.toString("latin1")
        const end = received.indexOf("\r\n")
        if (end >= 0) {
          socket.destroy()
          resolve(received.slice(0, end))
        }
      })
    })
  )

/** A computation that counts its runs in `counter` and takes `millis`. */
const counted = (counter: { runs: number }, value: string, millis = 300) =>
  Effect.sync(() => ++counter.runs).pipe(Effect.andThen(Effect.sleep(millis)), Effect.as(value))

describe("getOrSet with a lease over meta (real memcached -B ascii, independent runtimes)", () => {
  it.live(`${N} runtimes missing one key compute it once, with one write and no lease key; a hit is one read`, () =>
    Effect.gen(function*() {
      const server = yield* ascii
      const all = yield* runtimes(server)
      const stat = (name: string) =>
        Effect.map(
          run(all[0]!, Effect.flatMap(Memcached, (m) => m.stats)),
          (stats) => Number([...stats.values()][0]![name])
        )
      const setsBefore = yield* stat("cmd_set")
      const counter = { runs: 0 }
      const results = yield* stampede(all, "report", () => counted(counter, "expensive"), {
        wait: "5 seconds",
        poll: "20 millis"
      })
      assert.deepStrictEqual(results.map(({ exit }) => valueOf(exit)), Array(N).fill("expensive"))
      assert.strictEqual(counter.runs, 1)
      assert.strictEqual((yield* stat("cmd_set")) - setsBefore, 1, "the value's ms, and no lease key's add")
      const getsBefore = yield* stat("cmd_get")
      assert.strictEqual(
        yield* run(all[1]!, Cache.getOrSet("report", Effect.die("a hit computes nothing"), { lease: true })),
        "expensive"
      )
      assert.strictEqual((yield* stat("cmd_get")) - getsBefore, 1, "one mg")
    }).pipe(Effect.scoped))

  it.live(
    "one recomputation per expiry: three rounds over a 2-second TTL compute three times",
    () =>
      Effect.gen(function*() {
        const server = yield* ascii
        const all = yield* runtimes(server)
        const counter = { runs: 0 }
        for (let round = 1; round <= 3; round++) {
          // memcached's clock ticks once a second, so a 1-second TTL may end at once: a runtime slowed by a loaded
          // machine would then find the value gone within its round. Two seconds live at least one.
          const results = yield* stampede(all, "ticker", () => counted(counter, `round ${round}`, 100), {
            wait: "5 seconds",
            poll: "20 millis"
          }, "2 seconds")
          assert.deepStrictEqual(results.map(({ exit }) => valueOf(exit)), Array(N).fill(`round ${round}`))
          assert.strictEqual(counter.runs, round)
          yield* Effect.sleep("3100 millis")
        }
      }).pipe(Effect.scoped),
    30_000
  )

  it.live("a plain read of a key being computed misses: the placeholder is never a value", () =>
    Effect.gen(function*() {
      const server = yield* ascii
      const [first, second] = yield* runtimes(server, 2)
      const fiber = yield* fork(
        run(first!, Cache.getOrSet("slow", Effect.as(Effect.sleep("500 millis"), "done"), { lease: true }))
      )
      yield* Effect.sleep("150 millis")
      assertNone(yield* run(second!, Cache.get("slow")))
      assert.deepStrictEqual(yield* run(second!, Cache.getMany(["slow"])), new Map())
      assert.strictEqual(yield* Fiber.join(fiber), "done")
      assertSome(yield* run(second!, Cache.get("slow")), "done")
    }).pipe(Effect.scoped))

  it.live("a winner that fails hands the computation on: its error is its own, one waiting runtime computes", () =>
    Effect.gen(function*() {
      const server = yield* ascii
      const all = yield* runtimes(server)
      let runs = 0
      const compute = () =>
        Effect.suspend(() =>
          ++runs === 1
            ? Effect.andThen(Effect.sleep("200 millis"), Effect.fail(new Boom()))
            : Effect.as(Effect.sleep("200 millis"), "second try")
        )
      const results = yield* stampede(all, "fails", compute, { wait: "5 seconds", poll: "20 millis" })
      assert.strictEqual(results.filter(({ exit }) => Exit.isFailure(exit)).length, 1)
      for (const { exit } of results) if (Exit.isSuccess(exit)) assert.strictEqual(exit.value, "second try")
      assert.strictEqual(runs, 2)
    }).pipe(Effect.scoped))

  it.live("a winner that died (its placeholder never filled) delays the others by `wait` only", () =>
    Effect.gen(function*() {
      const server = yield* ascii
      const all = yield* runtimes(server, 3)
      assert.match(yield* rawLine(server, "mg orphan v N30"), / W$/)
      let runs = 0
      const results = yield* stampede(all, "orphan", () => Effect.sync(() => ++runs), {
        wait: "400 millis",
        poll: "25 millis"
      })
      for (const { exit, millis } of results) {
        valueOf(exit)
        assert.isAtLeast(millis, 350)
        assert.isBelow(millis, 3000)
      }
      assert.isAtLeast(runs, 1)
    }).pipe(Effect.scoped))

  it.live("invalidate marks a key stale: plain reads miss it (and leave its recomputation), one leased caller recomputes", () =>
    Effect.gen(function*() {
      const server = yield* ascii
      const all = yield* runtimes(server)
      yield* run(all[0]!, Cache.set("news", "old"))
      assert.isTrue(yield* run(all[0]!, Cache.invalidate("news")))
      assert.isFalse(yield* run(all[0]!, Cache.invalidate("never-set")))
      assertNone(yield* run(all[1]!, Cache.get("news")))
      assertNone(yield* run(all[2]!, Cache.get("news")))
      const counter = { runs: 0 }
      const results = yield* stampede(all, "news", () => counted(counter, "new"), {
        wait: "5 seconds",
        poll: "20 millis"
      })
      assert.deepStrictEqual(results.map(({ exit }) => valueOf(exit)), Array(N).fill("new"))
      assert.strictEqual(counter.runs, 1)
      assertSome(yield* run(all[1]!, Cache.get("news")), "new")
    }).pipe(Effect.scoped))

  it.live("a namespace leases the same way: one compute and one write, and invalidate marks its key stale", () =>
    Effect.gen(function*() {
      const server = yield* ascii
      const all = yield* runtimes(server)
      const inReports = <A, E>(f: (cache: NamespacedCache) => Effect.Effect<A, E>) =>
        Effect.flatMap(Cache.namespace("reports"), f)
      const cmdSet = Effect.map(
        run(all[0]!, Effect.flatMap(Memcached, (m) => m.stats)),
        (stats) => Number([...stats.values()][0]!["cmd_set"])
      )
      const counter = { runs: 0 }
      const setsBefore = yield* cmdSet
      const lease = { wait: "5 seconds", poll: "20 millis" } as const
      const results = yield* Effect.promise(() =>
        Promise.all(all.map((runtime) =>
          runtime.runPromise(
            inReports((cache) => cache.getOrSet("daily", counted(counter, "report"), { ttl: "1 minute", lease }))
          )
        ))
      )
      assert.deepStrictEqual(results, Array(N).fill("report"))
      assert.strictEqual(counter.runs, 1)
      assert.strictEqual((yield* cmdSet) - setsBefore, 1, "the value's ms, and no lease key's add")
      assert.isTrue(yield* run(all[0]!, inReports((cache) => cache.invalidate("daily"))))
      assertNone(yield* run(all[1]!, inReports((cache) => cache.get("daily"))))
      const again = yield* run(
        all[2]!,
        inReports((cache) => cache.getOrSet("daily", counted(counter, "fresh"), { lease }))
      )
      assert.strictEqual(again, "fresh")
      assert.strictEqual(counter.runs, 2)
    }).pipe(Effect.scoped))

  it.live("spans and metrics: the lease read is `getWithLease` (a read), `invalidate` its own, like every operation", () =>
    Effect.gen(function*() {
      const server = yield* ascii
      const [runtime] = yield* runtimes(server, 1)
      const recording = makeRecording()
      const runTraced = <A, E>(effect: Effect.Effect<A, E, Cache | Memcached>) =>
        run(runtime!, traced(recording)(effect))
      const count = (metric: Parameters<typeof countOf>[0]) => run(runtime!, countOf(metric))
      const series = { server: server.address }
      const hitsBefore = yield* count(CacheMetrics.hitsOf("getWithLease", series))
      const missesBefore = yield* count(CacheMetrics.missesOf("getWithLease", series))

      assert.strictEqual(yield* runTraced(Cache.getOrSet("traced", Effect.succeed("v"), { lease: true })), "v")
      assert.strictEqual(yield* runTraced(Cache.getOrSet("traced", Effect.die("a hit"), { lease: true })), "v")
      assert.isTrue(yield* runTraced(Cache.invalidate("traced")))
      assert.isFalse(yield* runTraced(Cache.invalidate("never-set")))
      const refused = yield* runTraced(Effect.flip(Cache.invalidate("a key\nwith a newline")))
      assert.instanceOf(refused, InvalidKey)

      const spans = recording.memcachedSpans()
      assert.deepStrictEqual(spans.map((span) => span.name), [
        "getWithLease",
        "set",
        "getWithLease",
        "invalidate",
        "invalidate",
        "invalidate"
      ], recording.dump())
      for (const span of spans) {
        assert.strictEqual(span.kind, "client")
        assert.strictEqual(span.attributes.get(SpanAttributes.system), "memcached")
        assert.strictEqual(span.attributes.get(SpanAttributes.operation), span.name)
        assert.isFalse(span.attributes.has(SpanAttributes.key), `${span.name} has no key`)
      }
      for (const span of spans.slice(0, 5)) {
        assert.strictEqual(span.attributes.get(SpanAttributes.serverAddress), server.host)
        assert.strictEqual(span.attributes.get(SpanAttributes.serverPort), server.port)
        assert.isFalse(span.attributes.has(SpanAttributes.errorType), `${span.name} did not fail`)
      }
      // The first lease read missed (and won), the second found the value: a read's attributes.
      assert.strictEqual(spans[0]!.attributes.get(SpanAttributes.hit), false)
      assert.strictEqual(spans[0]!.attributes.get(SpanAttributes.returnedRows), 0)
      assert.strictEqual(spans[2]!.attributes.get(SpanAttributes.hit), true)
      assert.strictEqual(spans[2]!.attributes.get(SpanAttributes.returnedRows), 1)
      assert.isFalse(spans[3]!.attributes.has(SpanAttributes.hit), "invalidate is no read")
      // A key refused before anything is sent: error.type, and no server.
      assert.strictEqual(spans[5]!.attributes.get(SpanAttributes.errorType), "InvalidKey")
      assert.isFalse(spans[5]!.attributes.has(SpanAttributes.serverAddress))

      assert.strictEqual((yield* count(CacheMetrics.hitsOf("getWithLease", series))) - hitsBefore, 1)
      assert.strictEqual((yield* count(CacheMetrics.missesOf("getWithLease", series))) - missesBefore, 1)
    }).pipe(Effect.scoped))

  it.live("stale-while-revalidate: the stale value comes back at once, and exactly one caller refreshes it", () =>
    Effect.gen(function*() {
      const server = yield* ascii
      const all = yield* runtimes(server)
      yield* run(all[0]!, Cache.set("prices", "old"))
      yield* run(all[0]!, Cache.invalidate("prices"))
      assertNone(yield* run(all[0]!, Cache.get("prices")))
      const counter = { runs: 0 }
      const results = yield* stampede(all, "prices", () => counted(counter, "new", 1000), {
        wait: "5 seconds",
        poll: "20 millis",
        staleWhileRevalidate: true
      })
      const values = results.map(({ exit }) => valueOf(exit))
      assert.strictEqual(values.filter((value) => value === "new").length, 1)
      assert.strictEqual(values.filter((value) => value === "old").length, N - 1)
      results.forEach(({ millis }, i) => {
        if (values[i] === "old") assert.isBelow(millis, 900, "the stale value did not wait for the refresh")
      })
      assert.strictEqual(counter.runs, 1)
      const again = yield* stampede(all, "prices", () => counted(counter, "newer"), { staleWhileRevalidate: true })
      assert.deepStrictEqual(again.map(({ exit }) => valueOf(exit)), Array(N).fill("new"))
      assert.strictEqual(counter.runs, 1)
    }).pipe(Effect.scoped))

  it.live("stale-while-revalidate: a refresh that fails marks the value stale again, and the next caller refreshes", () =>
    Effect.gen(function*() {
      const server = yield* ascii
      const [first, second] = yield* runtimes(server, 2)
      yield* run(first!, Cache.set("rates", "old"))
      yield* run(first!, Cache.invalidate("rates"))
      const lease = { staleWhileRevalidate: true }
      const failed = yield* Effect.promise(() =>
        first!.runPromiseExit(Cache.getOrSet("rates", Effect.fail(new Boom()), { lease }))
      )
      assert.isTrue(Exit.isFailure(failed))
      assert.strictEqual(yield* run(second!, Cache.getOrSet("rates", Effect.succeed("fresh"), { lease })), "fresh")
      assertSome(yield* run(first!, Cache.get("rates")), "fresh")
    }).pipe(Effect.scoped))

  it.live("the facade: invalidate, and cached with staleWhileRevalidate across two instances", () =>
    Effect.gen(function*() {
      const server = yield* ascii
      const [first, second] = [0, 1].map(() =>
        new MemcachedCache({ servers: server.address, protocol: "meta", serializer: "json" })
      )
      yield* Effect.addFinalizer(() => Effect.promise(() => Promise.all([first!.close(), second!.close()])))
      let runs = 0
      const quote = (rc: MemcachedCache) =>
        rc.cached(async () => {
          runs++
          await new Promise((resolve) => setTimeout(resolve, 600))
          return "new"
        }, { key: "quote", lease: { staleWhileRevalidate: true } })
      yield* Effect.promise(() => first!.set("quote", "old"))
      assert.isTrue(yield* Effect.promise(() => first!.invalidate("quote")))
      const refreshing = quote(first!)()
      yield* Effect.sleep("150 millis")
      const started = Date.now()
      assert.strictEqual(yield* Effect.promise(() => quote(second!)()), "old")
      assert.isBelow(Date.now() - started, 450, "the stale value did not wait for the refresh")
      assert.strictEqual(yield* Effect.promise(() => refreshing), "new")
      assert.strictEqual(runs, 1)
    }).pipe(Effect.scoped))
})

describe("invalidate and staleWhileRevalidate elsewhere", () => {
  it.effect("in the fake, invalidate deletes and a leased getOrSet computes once", () =>
    Effect.gen(function*() {
      yield* Cache.set("k", "old")
      assert.isTrue(yield* Cache.invalidate("k"))
      assertNone(yield* Cache.get("k"))
      const lease = { staleWhileRevalidate: true }
      assert.strictEqual(yield* Cache.getOrSet("k", Effect.succeed("new"), { lease }), "new")
      assert.strictEqual(yield* Cache.getOrSet("k", Effect.die("not again"), { lease }), "new")
      assert.isFalse(yield* Cache.invalidate("k2"))
    }).pipe(Effect.provide(MemcachedTest)))

  it.effect("a staleWhileRevalidate that is not a boolean is an InvalidArgument naming it", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Cache.getOrSet("k", Effect.succeed(1), { lease: { staleWhileRevalidate: "yes" as unknown as boolean } })
      )
      assert.instanceOf(error, InvalidArgument)
      assert.strictEqual(error.argument, "lease.staleWhileRevalidate")
    }).pipe(Effect.provide(MemcachedTest)))

  it.live("over binary, invalidate deletes: the next leased getOrSet recomputes", () =>
    Effect.gen(function*() {
      const server = yield* startMemcached()
      const runtime = ManagedRuntime.make(
        Cache.layerMemcached({ servers: server.address }).pipe(Layer.provide(Serializer.structured))
      )
      yield* Effect.addFinalizer(() => Effect.promise(() => runtime.dispose()))
      yield* Effect.promise(() => runtime.runPromise(Cache.set("b", "old")))
      assert.isTrue(yield* Effect.promise(() => runtime.runPromise(Cache.invalidate("b"))))
      assertNone(yield* Effect.promise(() => runtime.runPromise(Cache.get("b"))))
      const value = yield* Effect.promise(() =>
        runtime.runPromise(Cache.getOrSet("b", Effect.succeed("new"), { lease: { staleWhileRevalidate: true } }))
      )
      assert.strictEqual(value, "new")
    }).pipe(Effect.scoped))
})
