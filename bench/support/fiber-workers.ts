/**
 * The `Cache` side's workers: fibers. Apart from workers.ts so that the peers' processes never load Effect.
 */
import { Cause, Effect, Fiber, type ManagedRuntime } from "effect"
import type { Recorder } from "./stats.js"
import { Slices, type Workers } from "./workers.js"

/**
 * `concurrency` fibers on `runtime`, each running `op` one after another: the Effect-native counterpart of
 * `promiseWorkers`. (`Effect.forEach(indices, op, { concurrency: N })` would fork a fiber and yield once per
 * operation, about 3 µs per operation of the harness's own on this machine, charged to the Cache side only.)
 */
export const effectWorkers = <R>(
  runtime: ManagedRuntime.ManagedRuntime<R, unknown>,
  op: (i: number) => Effect.Effect<unknown, unknown, R>,
  concurrency: number,
  recorder: Recorder
): Workers => {
  const slices = new Slices(concurrency)
  const worker = Effect.gen(function*() {
    let done = 0
    while (yield* Effect.promise(() => slices.waitForSlice(done))) {
      done = slices.round
      while (performance.now() < slices.deadline) {
        const i = slices.next++
        const start = performance.now()
        yield* op(i)
        recorder.add(performance.now() - start)
      }
      slices.finished()
    }
  })
  const fiber = runtime.runFork(
    Effect.all(Array.from({ length: concurrency }, () => worker), { concurrency: "unbounded", discard: true }).pipe(
      Effect.tapErrorCause((cause) => Effect.sync(() => slices.failed(Cause.squash(cause))))
    )
  )
  return {
    recorder,
    run: (deadline) => slices.run(deadline),
    stop: async () => {
      slices.stop()
      await runtime.runPromise(Fiber.join(fiber))
    }
  }
}
