/**
 * Cross-process stampede protection (`getOrSet(key, compute, { lease })`) against one real memcached, with several
 * independent runtimes: each has its own `Memcached.layer`, memjs client and single-flight map, as separate processes
 * would. Computations are counted in a counter shared by the test. Shared by both Effect lines: everything
 * line-specific comes from `#line` (see `support/contract.ts`); `effect4/test/lease.test.ts` runs it on Effect 4.
 */
import {
  assert,
  assertNone,
  Cache,
  Data,
  describe,
  Effect,
  Exit,
  it,
  Layer,
  type LeaseOptions,
  ManagedRuntime,
  Memcached,
  MemcachedTest,
  type RunningServer,
  Serializer,
  startMemcached
} from "#line"

class Boom extends Data.TaggedError("Boom")<{}> {}

const N = 8

/** N independent runtimes against `server`, disposed with the test's scope. */
const runtimes = (server: RunningServer) =>
  Effect.acquireRelease(
    Effect.sync(() =>
      Array.from({ length: N }, () =>
        ManagedRuntime.make(
          Cache.layerMemcached({ servers: server.address }).pipe(Layer.provide(Serializer.structured))
        ))
    ),
    (all) => Effect.promise(() => Promise.all(all.map((runtime) => runtime.dispose())))
  )

/** Every runtime runs `getOrSet(key, compute(i), options)` at once; their exits, in order, and each one's duration. */
const stampede = <A, E>(
  all: ReadonlyArray<ManagedRuntime.ManagedRuntime<Cache | Memcached, unknown>>,
  key: string,
  compute: (i: number) => Effect.Effect<A, E>,
  lease: boolean | LeaseOptions | undefined
) =>
  Effect.promise(() =>
    Promise.all(all.map(async (runtime, i) => {
      const started = Date.now()
      const exit = await runtime.runPromiseExit(Cache.getOrSet(key, compute(i), { ttl: "1 minute", lease }))
      return { exit, millis: Date.now() - started }
    }))
  )

const valueOf = <A>(exit: Exit.Exit<A, unknown>): A => {
  assert.isTrue(Exit.isSuccess(exit), String(exit))
  return (exit as Exit.Success<A, unknown>).value
}

describe("getOrSet with a lease (real memcached, independent runtimes)", () => {
  it.live(`${N} runtimes missing one key at once compute it once; the lease is released`, () =>
    Effect.gen(function*() {
      const server = yield* startMemcached()
      const all = yield* runtimes(server)
      let computations = 0
      const compute = () =>
        Effect.sync(() => ++computations).pipe(Effect.tap(() => Effect.sleep("300 millis")), Effect.as("expensive"))
      const results = yield* stampede(all, "report", compute, {
        ttl: "5 seconds",
        wait: "3 seconds",
        poll: "20 millis"
      })
      assert.deepStrictEqual(results.map(({ exit }) => valueOf(exit)), Array(N).fill("expensive"))
      assert.strictEqual(computations, 1)
      assertNone(
        yield* Effect.promise(() => all[0].runPromise(Effect.flatMap(Memcached, (m) => m.get("report:lease"))))
      )
    }).pipe(Effect.scoped))

  it.live(`without a lease, the same ${N} runtimes each compute (the stampede the lease prevents)`, () =>
    Effect.gen(function*() {
      const server = yield* startMemcached()
      const all = yield* runtimes(server)
      let computations = 0
      const compute = () =>
        Effect.sync(() => ++computations).pipe(Effect.tap(() => Effect.sleep("300 millis")), Effect.as("expensive"))
      yield* stampede(all, "report", compute, undefined)
      assert.isAbove(computations, 1)
    }).pipe(Effect.scoped))

  it.live("a holder slower than `wait`: the others stop waiting and compute themselves", () =>
    Effect.gen(function*() {
      const server = yield* startMemcached()
      const all = yield* runtimes(server)
      let computations = 0
      const compute = () =>
        Effect.suspend(() =>
          ++computations === 1
            ? Effect.as(Effect.sleep("2 seconds"), "from the slow holder")
            : Effect.succeed("computed after waiting")
        )
      const results = yield* stampede(all, "slow", compute, {
        ttl: "10 seconds",
        wait: "300 millis",
        poll: "20 millis"
      })
      const values = results.map(({ exit }) => valueOf(exit))
      const holder = values.indexOf("from the slow holder")
      assert.notStrictEqual(holder, -1)
      results.forEach(({ millis }, i) => {
        if (i === holder) return
        assert.strictEqual(values[i], "computed after waiting")
        assert.isAtLeast(millis, 250, "it waited about `wait`")
        assert.isBelow(millis, 1500, "and did not wait for the holder")
      })
      assert.isAbove(computations, 1)
    }).pipe(Effect.scoped))

  it.live("a lease whose holder died (never released) delays the others by `wait` only", () =>
    Effect.gen(function*() {
      const server = yield* startMemcached()
      const all = yield* runtimes(server)
      yield* Effect.promise(() =>
        all[0].runPromise(
          Effect.flatMap(Memcached, (m) => m.add("orphan:lease", new Uint8Array([49]), { ttl: "30 seconds" }))
        )
      )
      let computations = 0
      const results = yield* stampede(all.slice(0, 3), "orphan", () => Effect.sync(() => ++computations), {
        wait: "400 millis",
        poll: "25 millis"
      })
      for (const { exit, millis } of results) {
        valueOf(exit)
        assert.isAtLeast(millis, 350)
        assert.isBelow(millis, 2000)
      }
      assert.isAtLeast(computations, 1)
    }).pipe(Effect.scoped))

  it.live("a holder that fails releases the lease: its error is its own, and one waiting runtime computes instead", () =>
    Effect.gen(function*() {
      const server = yield* startMemcached()
      const all = yield* runtimes(server)
      let computations = 0
      const compute = () =>
        Effect.suspend(() =>
          ++computations === 1
            ? Effect.andThen(Effect.sleep("200 millis"), Effect.fail(new Boom()))
            : Effect.as(Effect.sleep("200 millis"), "second try")
        )
      const results = yield* stampede(all, "fails", compute, { wait: "5 seconds", poll: "20 millis" })
      const failures = results.filter(({ exit }) => Exit.isFailure(exit))
      assert.strictEqual(failures.length, 1)
      for (const { exit } of results) if (Exit.isSuccess(exit)) assert.strictEqual(exit.value, "second try")
      assert.strictEqual(computations, 2)
    }).pipe(Effect.scoped))
})

describe("getOrSet with a lease (in-memory fake)", () => {
  it.effect("without contention it computes, stores and releases the lease; `lease: true` takes the defaults", () =>
    Effect.gen(function*() {
      const cache = yield* Cache
      const memcached = yield* Memcached
      assert.strictEqual(yield* cache.getOrSet("k", Effect.succeed(0), { lease: true }), 0)
      assert.strictEqual(yield* cache.getOrSet("k", Effect.die("not again"), { lease: true }), 0)
      assertNone(yield* memcached.get("k:lease"))
      const failed = yield* Effect.flip(cache.getOrSet("f", Effect.fail(new Boom()), { lease: true }))
      assert.instanceOf(failed, Boom)
      assertNone(yield* memcached.get("f:lease"))
    }).pipe(Effect.provide(MemcachedTest)))

  it.effect("a key too long for its lease key is computed without a lease", () =>
    Effect.gen(function*() {
      const key = "k".repeat(248)
      assert.strictEqual(yield* Cache.getOrSet(key, Effect.succeed("v"), { lease: true }), "v")
      assert.strictEqual(yield* Cache.getOrFail(key), "v")
    }).pipe(Effect.provide(MemcachedTest)))
})
