/**
 * Transport failures go to the Effect logger at debug level (`src/internal/engineFailure.ts`), once per failure, with
 * the server, reason and how many requests it ended, and nothing is logged when debug is off. Shared by both Effect
 * lines through `#line`; `effect4/test/failureLogs.test.ts` runs it on Effect 4.
 */
import {
  assert,
  captureLogs,
  closedPort,
  describe,
  Effect,
  Exit,
  firstFailure,
  it,
  Memcached,
  MemcachedError
} from "#line"

const getFrom = (servers: string) =>
  Effect.flatMap(Memcached, (memcached) => memcached.get("k")).pipe(Effect.provide(Memcached.layer({ servers })))

/** The error of a failed exit. */
const errorOf = (exit: Exit.Exit<unknown, unknown>) => {
  assert.isTrue(Exit.isFailure(exit))
  return Exit.isFailure(exit) ? firstFailure(exit.cause) : undefined
}

describe("transport failures in the Effect log", () => {
  it.live("a refused connection is a debug log naming the server and reason, per attempt; none when debug is off", () =>
    Effect.gen(function*() {
      const dead = `127.0.0.1:${yield* closedPort}`
      const [exit, logs] = yield* captureLogs(getFrom(dead), "Debug")
      const error = errorOf(exit)
      assert.instanceOf(error, MemcachedError)
      assert.strictEqual(error.reason, "Unavailable")
      // The get and the layer's one default retry of an Unavailable: two failures, one request each.
      assert.strictEqual(logs.length, 2, JSON.stringify(logs))
      for (const log of logs) {
        assert.strictEqual(log.message, "memcached request failed")
        assert.strictEqual(log.level, "Debug")
        assert.deepInclude(log.annotations, { server: dead, reason: "Unavailable", requests: 1 })
      }

      const [quiet, none] = yield* captureLogs(getFrom(dead), "Info")
      assert.instanceOf(errorOf(quiet), MemcachedError, "the caller still gets the error")
      assert.deepStrictEqual(none, [])
    }))
})
