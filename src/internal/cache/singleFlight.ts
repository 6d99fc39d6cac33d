/**
 * Single flight: concurrent callers of one key in this process share one run of an Effect. The first caller runs it;
 * the others wait for its exit and get the same one. A run that was interrupted is not shared: a waiter then starts
 * over, and may run it itself. Used by `Cache.getOrSet` (per key) and by namespaces (per version read). Shared by
 * both Effect lines: what differs between them comes from `#effect-line`.
 *
 * @internal
 */
import type { Exit } from "#effect-line"
import { Deferred, Effect, isInterrupted, makeDeferred } from "#effect-line"

/** @internal Runs `effect` for `key`, or joins the run already going for `key`. */
export type SingleFlight<K> = <A, E, R>(key: K, effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>

/** @internal A single-flight map of its own: runs of different maps never join. */
export const makeSingleFlight = <K>(): SingleFlight<K> => {
  // Each key's run has its own `A` and `E`: whoever joins a key asks for the same types as the run it joins.
  const flights = new Map<K, Deferred.Deferred<unknown, unknown>>()
  const run = <A, E, R>(key: K, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.suspend((): Effect.Effect<A, E, R> => {
      const running = flights.get(key)
      if (running) {
        return Effect.flatMap(
          Effect.exit(Deferred.await(running)),
          (exit) => isInterrupted(exit) ? run(key, effect) : exit as Exit.Exit<A, E>
        )
      }
      const deferred = makeDeferred<unknown, unknown>()
      flights.set(key, deferred)
      return Effect.onExit(effect, (exit) => {
        if (flights.get(key) === deferred) flights.delete(key)
        return Deferred.done(deferred, exit)
      })
    })
  return run
}
