/**
 * The facade's runner of Effects for Promise callers (`src/internal/promiseRunner.ts`, forked by
 * `src/internal/sharedScheduler.ts` on this line): each call settles its own
 * promise, whichever parked worker serves it, and a failure rejects with the error itself.
 */
import { Context, Data, DefaultServices, Effect, Runtime, Tracer } from "effect"
import { setTimeout as sleep } from "node:timers/promises"
import { assert, describe, it } from "vitest"
import { makePromiseRunner } from "../src/internal/promiseRunner.js"
import { forkOn, SharedScheduler } from "../src/internal/sharedScheduler.js"

class Boom extends Data.TaggedError("Boom")<{ readonly n: number }> {}

const rejection = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(() => assert.fail("expected a rejection"), (error) => error)

describe("promiseRunner", () => {
  it("settles every call with its own result while workers are reused, in bursts with failures and defects", async () => {
    const runner = makePromiseRunner(forkOn(Runtime.defaultRuntime), 8)
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

  it("runs its fibers on one shared scheduler that still lets the event loop turn", async () => {
    const runner = makePromiseRunner(forkOn(Runtime.defaultRuntime))
    let fired = false
    setTimeout(() => fired = true, 0)
    // A fiber that keeps yielding: the timer must fire while it runs (after 2,048 microtasks in a row at most).
    let yields = 0
    const spin: Effect.Effect<number> = Effect.suspend(() =>
      fired || yields > 1_000_000
        ? Effect.succeed(yields)
        : Effect.zipRight(Effect.zipRight(Effect.yieldNow(), Effect.sync(() => yields++)), spin)
    )
    const loops = await runner.run(Effect.zipRight(Effect.yieldNow(), spin))
    assert.isTrue(fired)
    assert.isBelow(loops, 1_000_000)
    // Concurrent workers take turns: two fibers yielding 100 times each interleave.
    const order: Array<string> = []
    const turns = (name: string) =>
      Effect.forEach(
        Array.from({ length: 100 }),
        () => Effect.zipRight(Effect.yieldNow(), Effect.sync(() => order.push(name))),
        {
          discard: true
        }
      )
    await Promise.all([runner.run(turns("a")), runner.run(turns("b"))])
    assert.strictEqual(order.length, 200)
    assert.isTrue(order.slice(0, 100).includes("b"))
    runner.close()
  })

  it("uses the shared scheduler only on a runtime without a tracer, whose spans would need each caller's context", async () => {
    const schedulerOf = (runtime: Runtime.Runtime<never>) =>
      makePromiseRunner(forkOn(runtime)).run(Effect.withFiberRuntime((fiber) => Effect.succeed(fiber.currentScheduler)))
    assert.instanceOf(await schedulerOf(Runtime.defaultRuntime), SharedScheduler)
    const native = Context.get(DefaultServices.liveServices, Tracer.Tracer)
    const traced = Effect.runSync(Effect.withTracer(Effect.runtime<never>(), Tracer.make({ ...native })))
    assert.notInstanceOf(await schedulerOf(traced), SharedScheduler)
  })
})
