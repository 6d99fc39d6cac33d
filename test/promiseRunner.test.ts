/**
 * The facade's runner of Effects for Promise callers (`src/internal/promiseRunner.ts`): each call settles its own
 * promise, whichever parked worker serves it, and a failure rejects with the error itself.
 */
import { Data, Effect, Runtime } from "effect"
import { setTimeout as sleep } from "node:timers/promises"
import { assert, describe, it } from "vitest"
import { makePromiseRunner } from "../src/internal/promiseRunner.js"

class Boom extends Data.TaggedError("Boom")<{ readonly n: number }> {}

const rejection = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(() => assert.fail("expected a rejection"), (error) => error)

describe("promiseRunner", () => {
  it("settles every call with its own result while workers are reused, in bursts with failures and defects", async () => {
    const runner = makePromiseRunner(Runtime.defaultRuntime, 8)
    for (let burst = 0; burst < 5; burst++) {
      const calls = Array.from({ length: 40 }, (_, n) => {
        // Answers arrive out of order: each call waits a different time.
        const wait = Effect.sleep(`${(n * 7) % 5} millis`)
        if (n % 10 === 3) return rejection(runner.run(Effect.zipRight(wait, Effect.fail(new Boom({ n })))))
        if (n % 10 === 7) return rejection(runner.run(Effect.zipRight(wait, Effect.die(`defect ${n}`))))
        return runner.run(Effect.as(wait, `value ${burst}:${n}`))
      })
      const settled = await Promise.all(calls)
      settled.forEach((result, n) => {
        if (n % 10 === 3) {
          assert.instanceOf(result, Boom)
          assert.strictEqual((result as Boom).n, n)
        } else if (n % 10 === 7) {
          assert.strictEqual(result, `defect ${n}`)
        } else {
          assert.strictEqual(result, `value ${burst}:${n}`)
        }
      })
    }
    // Sequential calls are served by parked workers, one after another.
    for (let n = 0; n < 1000; n++) assert.strictEqual(await runner.run(Effect.succeed(n)), n)
    runner.close()
    await sleep(1)
    // After close, a call still runs (on a fiber of its own).
    assert.strictEqual(await runner.run(Effect.succeed("after close")), "after close")
    assert.instanceOf(await rejection(runner.run(Effect.fail(new Boom({ n: -1 })))), Boom)
  })
})
