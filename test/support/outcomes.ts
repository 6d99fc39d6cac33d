/**
 * Helpers to look at how an effect ended, and how long it took.
 */
import { Cause, Effect, Exit } from "effect"
import { monitorEventLoopDelay } from "node:perf_hooks"

/** Runs `effect` and returns its exit with the wall time it took. */
export const elapsed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const start = performance.now()
    const exit = yield* Effect.exit(effect)
    return { exit, millis: performance.now() - start }
  })

/** The typed failure of an exit; anything else (a success, a defect) fails the test. */
export const failureOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isFailure(exit) && exit.cause._tag === "Fail") return exit.cause.error
  throw new Error(`expected a typed failure, got ${Exit.isFailure(exit) ? Cause.pretty(exit.cause) : "a success"}`)
}

/**
 * Watches this process's event loop for the rest of the scope. `maxMillis()` is the longest the loop has been blocked
 * so far: on a loaded machine, a timer due in 500 ms fires that much later, so a bound on wall time adds it.
 */
export const eventLoopLag = Effect.acquireRelease(
  Effect.sync(() => {
    const histogram = monitorEventLoopDelay({ resolution: 10 })
    histogram.enable()
    return histogram
  }),
  (histogram) => Effect.sync(() => histogram.disable())
).pipe(Effect.map((histogram) => ({ maxMillis: () => histogram.max / 1e6 })))
