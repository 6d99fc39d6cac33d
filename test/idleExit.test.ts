/**
 * Idle connections do not hold the process (as undici's idle sockets and pg's `allowExitOnIdle` do); requests in
 * flight still do. Child processes run facade scripts (test/fixtures) against a real memcached that never call
 * close().
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type { ChildProcessWithoutNullStreams } from "node:child_process"
import { asciiSet } from "./support/asciiClient.js"
import { spawnFixture } from "./support/fixtures.js"
import { startMemcached } from "./support/MemcachedServer.js"

interface Child {
  readonly process: ChildProcessWithoutNullStreams
  /** Everything the child printed so far. */
  readonly stdout: () => string
  readonly stderr: () => string
  /** Waits until the child printed `line` (a whole line); dies after 10 s. */
  readonly printed: (line: string) => Effect.Effect<number>
  /** Resolves with the time it exited; killed (by its own handle) after 10 s, then with `undefined`. */
  readonly exited: Effect.Effect<number | undefined>
}

/** Starts a fixture with `node --import tsx`, killed with the test's scope if it is still running. */
const runFixture = (script: string, args: ReadonlyArray<string>) =>
  Effect.acquireRelease(
    Effect.sync((): Child => {
      const child = spawnFixture(script, args)
      let stdout = ""
      let stderr = ""
      const lines = new Map<string, number>()
      child.stdout.setEncoding("utf8")
      child.stderr.setEncoding("utf8")
      child.stdout.on("data", (chunk: string) => {
        stdout += chunk
        for (const line of stdout.split("\n").slice(0, -1)) if (!lines.has(line)) lines.set(line, performance.now())
      })
      child.stderr.on("data", (chunk: string) => {
        stderr += chunk
      })
      const exit = new Promise<number | undefined>((resolve) => {
        const killer = setTimeout(() => child.kill("SIGKILL"), 10_000)
        child.once("exit", (_, signal) => {
          clearTimeout(killer)
          resolve(signal === "SIGKILL" ? undefined : performance.now())
        })
      })
      const printed = (line: string) =>
        Effect.gen(function*() {
          const deadline = performance.now() + 10_000
          while (!lines.has(line)) {
            if (performance.now() > deadline || child.exitCode !== null) {
              return yield* Effect.dieMessage(`the child never printed ${JSON.stringify(line)}: ${stdout} ${stderr}`)
            }
            yield* Effect.sleep("10 millis")
          }
          return lines.get(line)!
        })
      return {
        process: child,
        stdout: () => stdout,
        stderr: () => stderr,
        printed,
        exited: Effect.promise(() => exit)
      }
    }),
    (child) => Effect.sync(() => child.process.exitCode === null && child.process.kill("SIGKILL"))
  )

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
