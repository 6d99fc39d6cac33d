import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, ManagedRuntime } from "effect"
import { effectWorkers } from "../support/fiber-workers.js"
import { Recorder } from "../support/stats.js"
import { promiseWorkers, type Workers } from "../support/workers.js"

/** Runs `slices` slices of `millis` each and returns the operations each one reported. */
const runSlices = async (workers: Workers, slices: number, millis: number) => {
  const counts: Array<number> = []
  for (let i = 0; i < slices; i++) counts.push(await workers.run(performance.now() + millis))
  return counts
}

/** The bench's workers (bench/support/workers.ts): they stay alive between slices and wait at a gate. */
describe("bench workers", () => {
  it("promise workers run every slice, count what they started, and stop while waiting", async () => {
    const recorder = new Recorder()
    const started: Array<number> = []
    const workers = promiseWorkers(
      (i) => new Promise<void>((resolve) => setImmediate(() => (started.push(i), resolve()))),
      4,
      recorder
    )
    const counts = await runSlices(workers, 3, 50)
    await workers.stop()
    // How many fit in a slice depends on the machine's load; that each slice settles and counts exactly what its
    // workers started does not.
    assert.isAbove(started.length, 0)
    assert.strictEqual(started.length, counts.reduce((a, b) => a + b, 0))
    assert.strictEqual(recorder.count, started.length)
  })

  it("fiber workers settle the first slice even when the fibers start after it opened", async () => {
    const runtime = ManagedRuntime.make(Layer.empty)
    const recorder = new Recorder()
    let started = 0
    // `run` is called at once, before the forked fibers have had a turn: the slice must still settle (the first gate
    // hung here), with the operations of the fibers that joined it.
    const workers = effectWorkers(
      runtime,
      () => Effect.sync(() => void started++).pipe(Effect.zipLeft(Effect.yieldNow())),
      8,
      recorder
    )
    const counts = await runSlices(workers, 3, 50)
    await workers.stop()
    await runtime.dispose()
    assert.isAbove(started, 0)
    assert.strictEqual(started, counts.reduce((a, b) => a + b, 0))
  })

  it("a failing operation fails the slice instead of hanging it", async () => {
    const runtime = ManagedRuntime.make(Layer.empty)
    const workers = effectWorkers(runtime, () => Effect.fail("boom"), 2, new Recorder())
    // A deadline far off: the slice must end with the failure, not with the deadline.
    const outcome = await workers.run(performance.now() + 10_000).then(() => "settled", (error: unknown) => error)
    await runtime.dispose()
    assert.strictEqual(outcome, "boom")
  })
})
