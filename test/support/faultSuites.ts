/**
 * When memcached misbehaves, in either wire dialect: down, silent, killed and restarted, frozen, or closed under load.
 * Every case runs against real memcached processes that these suites start, kill, freeze and restart; over meta the
 * servers speak no binary (`-B ascii`). `test/faults.test.ts` runs them over binary, `test/faults.meta.test.ts` over
 * meta.
 */
import { assert, describe, it } from "@effect/vitest"
import { type Duration, Effect, Exit, Fiber, Layer, Option, Schedule, Scope } from "effect"
import { Cache, MemcachedCache, MemcachedError, type MemcachedOptions, Serializer } from "../../src/index.js"
import { asciiGet, asciiStats } from "./asciiClient.js"
import { type RunningServer, startMemcached as startServer } from "./MemcachedServer.js"
import { closedPort, silentServer } from "./network.js"
import { elapsed, eventLoopLag, failureOf } from "./outcomes.js"
import { build } from "./services.js"

/** Runs the fault suites with every layer and facade over `protocol`. */
export const faultSuites = (protocol: "binary" | "meta"): void => {
  /** Builds `Cache.layerMemcached(options)` over `protocol` with the bytes serializer in the current scope. */
  const open = (options: MemcachedOptions) =>
    build(Cache.layerMemcached({ ...options, protocol }).pipe(Layer.provide(Serializer.bytes)))

  /** A real memcached; over meta, one that speaks no binary. */
  const startMemcached = () => startServer(protocol === "meta" ? { extraArgs: ["-B", "ascii"] } : {})

  /** Runs `workers` side by side, freezes the server (SIGSTOP) after `before` for `frozen`, and waits for them all. */
  const throughFreeze = (
    server: RunningServer,
    workers: ReadonlyArray<Effect.Effect<void>>,
    before: Duration.DurationInput,
    frozen: Duration.DurationInput
  ) =>
    Effect.gen(function*() {
      const running = yield* Effect.fork(Effect.all(workers, { concurrency: "unbounded", discard: true }))
      yield* Effect.sleep(before)
      yield* server.stop()
      yield* Effect.sleep(frozen)
      yield* server.resume()
      yield* Fiber.join(running)
    })

  const randomValue = (size: number, seed: string) => {
    const bytes = Buffer.alloc(size)
    const head = Buffer.from(`${seed}:${Math.random()}:`)
    for (let offset = 0; offset < size; offset += head.length) head.copy(bytes, offset)
    return bytes
  }

  describe(`${protocol}: a server that is down or silent`, () => {
    it.scopedLive("refused: Unavailable at once, and the layer still builds", () =>
      Effect.gen(function*() {
        const port = yield* closedPort
        const { cache } = yield* open({ servers: `127.0.0.1:${port}`, timeout: "1 second" })
        const { exit, millis } = yield* elapsed(cache.get("refused"))
        const error = failureOf(exit)
        assert.instanceOf(error, MemcachedError)
        assert.strictEqual(error.reason, "Unavailable")
        assert.strictEqual(error.server, `127.0.0.1:${port}`)
        assert.isBelow(millis, 200)
      }))

    it.scopedLive("silent: Timeout within the deadline, for every concurrent caller", () =>
      Effect.gen(function*() {
        const silent = yield* silentServer
        const { cache } = yield* open({ servers: silent.address, timeout: "300 millis" })
        const results = yield* Effect.all(Array.from({ length: 20 }, (_, i) => elapsed(cache.get(`silent-${i}`))), {
          concurrency: "unbounded"
        })
        for (const { exit, millis } of results) {
          const error = failureOf(exit)
          assert.instanceOf(error, MemcachedError)
          assert.strictEqual(error.reason, "Timeout")
          assert.isAbove(millis, 280)
          assert.isBelow(millis, 450)
        }
      }))

    it.scopedLive("a request made while an earlier one's deadline is pending still gets its own full deadline", () =>
      Effect.gen(function*() {
        // One timer watches every request of a connection: the answered first get armed it for its own deadline.
        const server = yield* startMemcached()
        const { cache } = yield* open({ servers: server.address, timeout: "400 millis" })
        yield* cache.get("armed")
        yield* Effect.sleep("200 millis")
        yield* server.stop()
        const { exit, millis } = yield* elapsed(cache.get("frozen"))
        yield* server.resume()
        const error = failureOf(exit)
        assert.instanceOf(error, MemcachedError)
        assert.strictEqual(error.reason, "Timeout")
        assert.isAbove(millis, 380)
        assert.isBelow(millis, 600)
        // and a later request, once the timer found nothing left to watch, gets a deadline too
        yield* server.stop()
        const again = yield* elapsed(cache.get("frozen-again"))
        yield* server.resume()
        const late = failureOf(again.exit)
        assert.instanceOf(late, MemcachedError)
        assert.strictEqual(late.reason, "Timeout")
        assert.isAbove(again.millis, 380)
        assert.isBelow(again.millis, 600)
      }))

    it.scopedLive("checkOnStart fails the layer when a server does not answer", () =>
      Effect.gen(function*() {
        const silent = yield* silentServer
        const { exit, millis } = yield* elapsed(
          open({ servers: silent.address, timeout: "200 millis", checkOnStart: true })
        )
        const error = failureOf(exit)
        assert.instanceOf(error, MemcachedError)
        assert.strictEqual(error.reason, "Timeout")
        assert.isBelow(millis, 600) // the 200 ms deadline, not memjs's own (seconds); slack for a loaded machine
      }))
  })

  describe(`${protocol}: retries`, () => {
    it.scopedLive("a retry schedule re-sends idempotent operations only, each attempt with its own deadline", () =>
      Effect.gen(function*() {
        const silent = yield* silentServer
        const { memcached } = yield* open({
          servers: silent.address,
          timeout: "200 millis",
          retry: Schedule.recurs(2),
          ejectAfter: Infinity
        })
        const read = yield* elapsed(memcached.get("retried"))
        const readError = failureOf(read.exit)
        assert.instanceOf(readError, MemcachedError)
        assert.strictEqual(readError.reason, "Timeout")
        assert.isAbove(read.millis, 3 * 200 - 30)
        assert.isBelow(read.millis, 3 * 200 + 250)

        const increment = yield* elapsed(memcached.increment("retried", 1))
        const incrementError = failureOf(increment.exit)
        assert.instanceOf(incrementError, MemcachedError)
        assert.strictEqual(incrementError.reason, "Timeout")
        assert.isTrue(incrementError.outcomeUnknown)
        assert.isBelow(increment.millis, 200 + 150)
      }))

    it.scopedLive("by default a Timeout is not retried, so the deadline holds", () =>
      Effect.gen(function*() {
        const silent = yield* silentServer
        const { memcached } = yield* open({ servers: silent.address, timeout: "200 millis" })
        const { exit, millis } = yield* elapsed(memcached.set("once", Buffer.from("x")))
        const error = failureOf(exit)
        assert.instanceOf(error, MemcachedError)
        assert.strictEqual(error.reason, "Timeout")
        assert.isBelow(millis, 200 + 150)
      }))
  })

  describe(`${protocol}: a server that is killed, frozen or restarted`, () => {
    it.scopedLive(
      "SIGKILL and restart under load: every op settles in time, no wrong value, quick recovery",
      () =>
        Effect.gen(function*() {
          const server = yield* startMemcached()
          const { memcached } = yield* open({ servers: server.address, timeout: "500 millis" })
          const lag = yield* eventLoopLag
          const started = performance.now()
          let restartedAt = Infinity
          let firstSuccessAfterRestart = Infinity
          let wrong = 0
          let killedAt = Infinity
          let successesBeforeKill = 0
          let failures = 0
          let slowest = 0

          const worker = (id: number) =>
            Effect.gen(function*() {
              // until 3.5 s from the start and at least 2 s after the restart, however long a loaded machine made it take
              for (let n = 0; performance.now() < Math.max(started + 3500, restartedAt + 2000); n++) {
                const key = `kill-${id}-${n}`
                const value = randomValue(n % 3 === 0 ? 40_000 : 64 + (n % 7) * 100, key)
                const write = yield* elapsed(memcached.set(key, value, { ttl: "1 minute" }))
                const read = yield* elapsed(memcached.get(key))
                slowest = Math.max(slowest, write.millis, read.millis)
                const exits: ReadonlyArray<Exit.Exit<unknown, unknown>> = [write.exit, read.exit]
                for (const exit of exits) {
                  if (Exit.isFailure(exit)) {
                    failures++
                    assert.instanceOf(failureOf(exit), MemcachedError)
                  } else {
                    if (performance.now() < killedAt) successesBeforeKill++
                    if (performance.now() > restartedAt) {
                      firstSuccessAfterRestart = Math.min(firstSuccessAfterRestart, performance.now())
                    }
                  }
                }
                if (Exit.isSuccess(read.exit) && Option.isSome(read.exit.value)) {
                  if (!Buffer.from(read.exit.value.value.value).equals(value)) {
                    wrong++
                  }
                }
                // a caller backs off after a failure; without it, ejected servers' fast failures make this loop spin
                if (Exit.isFailure(write.exit) || Exit.isFailure(read.exit)) yield* Effect.sleep("5 millis")
              }
            })

          const workers = yield* Effect.fork(Effect.all(Array.from({ length: 100 }, (_, id) => worker(id)), {
            concurrency: "unbounded",
            discard: true
          }))
          yield* Effect.sleep("900 millis")
          killedAt = performance.now()
          yield* server.kill("SIGKILL")
          yield* Effect.sleep("500 millis")
          yield* server.restart()
          restartedAt = performance.now()
          yield* Fiber.join(workers)

          assert.strictEqual(wrong, 0)
          assert.isAbove(failures, 0, "the kill should have been felt")
          assert.isAbove(successesBeforeKill, 0) // work went on before the kill, and (below) soon after the restart
          // one attempt plus the default single retry, each with its own 500 ms deadline, and some slack; a loaded
          // machine's held event loop fires a timer late by as long as it was held, so each deadline adds the longest
          // hold seen
          const blocked = lag.maxMillis()
          assert.isBelow(slowest, 1300 + 2 * blocked)
          // at most one ejection period (1 s) plus slack
          assert.isBelow(firstSuccessAfterRestart - restartedAt, 1500 + blocked)
        }),
      20_000
    )

    it.scopedLive(
      "a short freeze while 100 readers fetch 60 KB values: no spliced or wrong value, healthy after",
      () =>
        Effect.gen(function*() {
          const server = yield* startMemcached()
          const { memcached } = yield* open({ servers: server.address, timeout: "300 millis" })
          const values = Array.from({ length: 20 }, (_, i) => randomValue(60_000, `big-${i}`))
          yield* Effect.forEach(values, (value, i) => memcached.set(`big-${i}`, value, { ttl: null }), {
            discard: true
          })
          const started = performance.now()
          let wrong = 0
          let hits = 0
          let failures = 0
          const reader = (id: number) =>
            Effect.gen(function*() {
              for (let n = 0; performance.now() - started < 2500; n++) {
                const i = (id + n) % values.length
                const exit = yield* Effect.exit(memcached.get(`big-${i}`))
                if (Exit.isFailure(exit)) {
                  failures++
                  yield* Effect.sleep("5 millis")
                } else if (Option.isSome(exit.value)) {
                  hits++
                  if (!Buffer.from(exit.value.value.value).equals(values[i]!)) wrong++
                }
              }
            })
          yield* throughFreeze(server, Array.from({ length: 100 }, (_, id) => reader(id)), "700 millis", "800 millis")
          assert.strictEqual(wrong, 0)
          assert.isAbove(failures, 0, "the freeze should have been felt")
          assert.isAbove(hits, 50) // reads did happen (the count depends on machine load)
          // healthy again within one ejection period (1 s) of the thaw
          const after = yield* memcached.get("big-3").pipe(
            Effect.retry(Schedule.spaced("100 millis").pipe(Schedule.upTo("2 seconds")))
          )
          assert.isTrue(Option.isSome(after) && Buffer.from(after.value.value).equals(values[3]!))
        }),
      20_000
    )

    it.scopedLive(
      "a freeze while 16 writers send 70–280 KB values: every value read back is one write, whole",
      () =>
        Effect.gen(function*() {
          const server = yield* startMemcached()
          const { memcached } = yield* open({ servers: server.address, timeout: "1 second" })
          /** Whether `bytes` is one `randomValue`: its first head (seed and random number) repeated to its length. */
          const whole = (bytes: Uint8Array) => {
            const text = Buffer.from(bytes).toString("latin1")
            const head = text.slice(0, text.indexOf(":", text.indexOf(":") + 1) + 1)
            return head.length > 0 && text === head.repeat(Math.ceil(text.length / head.length)).slice(0, text.length)
          }
          const started = performance.now()
          let wrong = 0
          let hits = 0
          let failures = 0
          const writer = (id: number) =>
            Effect.gen(function*() {
              for (let n = 0; performance.now() - started < 3500; n++) {
                const key = `large-${id}-${n % 3}`
                const value = randomValue(70_000 + ((id + n) % 8) * 30_000, key)
                const write = yield* Effect.exit(memcached.set(key, value, { ttl: "1 minute" }))
                const read = yield* Effect.exit(memcached.get(key))
                if (Exit.isFailure(write) || Exit.isFailure(read)) {
                  failures++
                  yield* Effect.sleep("5 millis")
                } else if (Option.isSome(read.value)) {
                  hits++
                  if (!whole(read.value.value.value)) wrong++
                }
              }
            })
          yield* throughFreeze(server, Array.from({ length: 16 }, (_, id) => writer(id)), "800 millis", "1300 millis")
          assert.strictEqual(wrong, 0)
          assert.isAbove(failures, 0, "the freeze should have been felt")
          assert.isAbove(hits, 10) // writes and reads did happen (the count depends on machine load)
        }),
      20_000
    )

    it.scopedLive("an increment during a freeze: Timeout that says its outcome is unknown, sent once only", () =>
      Effect.gen(function*() {
        const server = yield* startMemcached()
        const { memcached } = yield* open({ servers: server.address, timeout: "300 millis" })
        yield* memcached.set("counter", Buffer.from("100"), { ttl: null })
        yield* server.stop()
        const { exit, millis } = yield* elapsed(memcached.increment("counter", 1))
        const error = failureOf(exit)
        assert.instanceOf(error, MemcachedError)
        assert.strictEqual(error.reason, "Timeout")
        assert.isTrue(error.outcomeUnknown)
        assert.include(error.message, "may or may not have been applied")
        assert.isBelow(millis, 450)
        yield* server.resume()
        yield* Effect.sleep("200 millis")
        const value = yield* asciiGet(server.address, "counter")
        assert.strictEqual(Option.getOrThrow(value).bytes.toString(), "101")
      }))

    it.scopedLive("an increment against a refused connection is known not to have been applied", () =>
      Effect.gen(function*() {
        const port = yield* closedPort
        const { memcached } = yield* open({ servers: `127.0.0.1:${port}` })
        const error = failureOf(yield* Effect.exit(memcached.increment("counter", 1)))
        assert.instanceOf(error, MemcachedError)
        assert.strictEqual(error.reason, "Unavailable")
        assert.isUndefined(error.outcomeUnknown)
      }))
  })

  describe(`${protocol}: closing`, () => {
    it.live("closing the scope settles in-flight operations; later ones fail and never reconnect", () =>
      Effect.gen(function*() {
        const serverScope = yield* Scope.make()
        const server = yield* Scope.extend(startMemcached(), serverScope)
        const scope = yield* Scope.make()
        const { memcached } = yield* Scope.extend(open({ servers: server.address, timeout: "1 second" }), scope)
        yield* memcached.set("in-flight", Buffer.alloc(10_000, 1), { ttl: null })
        const fibers = yield* Effect.forEach(
          Array.from({ length: 100 }, (_, i) => i),
          () => Effect.fork(elapsed(memcached.get("in-flight")))
        )
        yield* Scope.close(scope, Exit.void)
        const results = yield* Fiber.joinAll(fibers)
        for (const { exit, millis } of results) {
          if (Exit.isFailure(exit)) assert.instanceOf(failureOf(exit), MemcachedError)
          assert.isBelow(millis, 500)
        }
        const connectionsBefore = Number((yield* asciiStats(server.address)).curr_connections)
        const later = failureOf(yield* Effect.exit(memcached.get("in-flight")))
        assert.instanceOf(later, MemcachedError)
        assert.strictEqual(later.reason, "Unavailable")
        assert.include(later.message, "closed")
        // the least of a few reads: each read's own stats connection may linger into the next one's count
        let connectionsAfter = Infinity
        for (let i = 0; i < 5; i++) {
          yield* Effect.sleep("30 millis")
          connectionsAfter = Math.min(connectionsAfter, Number((yield* asciiStats(server.address)).curr_connections))
        }
        assert.isAtMost(connectionsAfter, connectionsBefore)
        yield* Scope.close(serverScope, Exit.void)
      }))

    it.live("closing while the server is frozen settles everything within the grace period", () =>
      Effect.gen(function*() {
        const serverScope = yield* Scope.make()
        const server = yield* Scope.extend(startMemcached(), serverScope)
        const scope = yield* Scope.make()
        const { memcached } = yield* Scope.extend(open({ servers: server.address, timeout: "5 seconds" }), scope)
        yield* memcached.set("frozen", Buffer.from("x"))
        yield* server.stop()
        const fibers = yield* Effect.forEach(
          Array.from({ length: 100 }, (_, i) => i),
          () => Effect.fork(elapsed(memcached.get("frozen")))
        )
        yield* Effect.sleep("50 millis")
        yield* Scope.close(scope, Exit.void)
        const results = yield* Fiber.joinAll(fibers)
        for (const { exit, millis } of results) {
          const error = failureOf(exit)
          assert.instanceOf(error, MemcachedError)
          assert.isBelow(millis, 800)
        }
        yield* server.resume()
        yield* Scope.close(serverScope, Exit.void)
      }))
  })

  describe(`${protocol}: closing the Promise facade`, () => {
    it.scopedLive("close() with 1,000 calls in flight on a frozen server settles them all within the grace + 400 ms", () =>
      Effect.gen(function*() {
        const server = yield* startMemcached()
        const rc = new MemcachedCache({ servers: server.address, serializer: "raw", timeout: "10 seconds", protocol })
        yield* Effect.promise(() => rc.set("frozen", "x"))
        yield* server.stop()
        yield* Effect.addFinalizer(() => server.resume())
        let settled = 0
        let lastSettled = 0
        const outcomes = Array.from({ length: 1000 }, () =>
          rc.get("frozen").then(
            () => "resolved",
            (error: unknown) => error
          ).finally(() => {
            settled++
            lastSettled = performance.now()
          }))
        yield* Effect.sleep("50 millis")
        assert.strictEqual(settled, 0)
        const closing = performance.now()
        yield* Effect.promise(() => rc.close())
        const closed = performance.now()
        const results = yield* Effect.promise(() => Promise.all(outcomes))
        for (const result of results) {
          assert.instanceOf(result, MemcachedError)
          assert.strictEqual((result as MemcachedError).reason, "Unavailable")
          assert.include((result as MemcachedError).message, "closed")
        }
        // the documented grace is 250 ms; the old code took 530-1270 ms here
        assert.isAtLeast(closed - closing, 240, "close() waits for the grace period")
        assert.isBelow(lastSettled - closing, 250 + 400)
        assert.isBelow(closed - closing, 250 + 400)
      }))
  })
}
