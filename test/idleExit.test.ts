/**
 * Idle connections do not hold the process (as undici's idle sockets and pg's `allowExitOnIdle` do); requests in
 * flight still do. Child processes run facade scripts (test/fixtures) against a real memcached that never call
 * close().
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { asciiSet } from "./support/asciiClient.js"
import { runFixture } from "./support/fixtures.js"
import { startMemcached } from "./support/MemcachedServer.js"

describe("a script that never calls close()", () => {
  it.scopedLive("exits by itself once its last call has settled", () =>
    Effect.gen(function*() {
      const server = yield* startMemcached()
      const child = yield* runFixture("facade-no-close.mts", [server.address])
      const got = yield* child.printed("got left open")
      const exitedAt = yield* child.exited
      assert.isDefined(exitedAt, `the child had to be killed: idle sockets held it. ${child.stderr()}`)
      assert.isBelow(exitedAt! - got, 1000)
      assert.strictEqual(child.stdout(), "got left open\nexit\n")
      assert.strictEqual(child.stderr(), "")
    }), 20_000)

  it.scopedLive("with a call in flight, does not exit before it settles", () =>
    Effect.gen(function*() {
      const server = yield* startMemcached()
      yield* asciiSet(server.address, "in-flight", 0, "worth the wait")
      const child = yield* runFixture("facade-in-flight.mts", [server.address])
      yield* child.printed("ready")
      yield* server.stop()
      child.process.stdin.write("go\n")
      yield* Effect.sleep("1500 millis")
      assert.strictEqual(child.process.exitCode, null, `it exited with the get in flight: ${child.stdout()}`)
      assert.strictEqual(child.stdout(), "ready\n")
      const resumed = performance.now()
      yield* server.resume()
      const settled = yield* child.printed("settled worth the wait")
      const exitedAt = yield* child.exited
      assert.isDefined(exitedAt, "the child had to be killed")
      assert.isAbove(settled, resumed)
      assert.isBelow(exitedAt! - settled, 1000)
      assert.strictEqual(child.stdout(), "ready\nsettled worth the wait\nexit\n")
    }), 20_000)
})
