/**
 * Runs Effects for Promise callers on long-lived fibers. `runtime.runPromise` forks a root fiber per call (on the
 * Effect 3 line it copies every fiber ref of the runtime): for a cache call of a few microseconds, the fork and the
 * garbage it leaves cost more than the call itself. Here a call is handed to a parked worker fiber, which runs it,
 * settles the promise and parks again; a worker is forked only when none is parked, so no call ever waits for another.
 * At most `maxParked` workers stay parked between bursts; the others end with their call. Shared by both Effect lines:
 * what differs between them comes from `#effect-line`, and each line's facade says how a worker is forked.
 *
 * @internal
 */
import { callback, Cause, Effect } from "#effect-line"

/** One call and its promise's settlers (a class, as every object made per call: see `engine/item.ts`). */
class Call<R> {
  constructor(
    readonly effect: Effect.Effect<unknown, unknown, R>,
    readonly resolve: (value: unknown) => void,
    readonly reject: (error: unknown) => void
  ) {}
}

/** @internal */
export interface PromiseRunner<R> {
  /** Runs `effect`; the promise rejects with `Cause.squash` of a failure. */
  readonly run: <A, E>(effect: Effect.Effect<A, E, R>) => Promise<A>
  /** Ends the parked workers; calls in flight finish on their own, and later calls fork their own fiber. */
  readonly close: () => void
}

/** @internal */
export const makePromiseRunner = <R>(
  fork: (effect: Effect.Effect<void, never, R>) => unknown,
  maxParked = 256
): PromiseRunner<R> => {
  /** Wakes a parked worker with its next call, or with `undefined` to end it. */
  const parked: Array<(call: Call<R> | undefined) => void> = []
  let closed = false

  /**
   * A worker: the call it serves now, and the handlers that settle that call's promise, made once per worker. A call
   * costs the worker one `matchCauseEffect` frame and no closure; a `flatMap` plus a `catchAllCause` with handlers
   * made per call, and a `flatMap` for what comes next, cost 0.5–0.9 µs more per facade get at 16 in flight on Effect 3
   * (`npm run bench:cpu`). The frame is popped before the handler's next Effect runs, so a worker's stack stays flat
   * however many calls it serves.
   */
  class Worker {
    call: Call<R> | undefined = undefined
    readonly handlers = {
      onSuccess: (value: unknown): Effect.Effect<void, never, R> => {
        const call = this.call!
        this.call = undefined
        call.resolve(value)
        return this.next()
      },
      onFailure: (cause: Cause.Cause<unknown>): Effect.Effect<void, never, R> => {
        const call = this.call!
        this.call = undefined
        call.reject(Cause.squash(cause))
        return this.next()
      }
    }
    readonly park: Effect.Effect<void, never, R> = callback<void, never, R>((resume) => {
      parked.push((call) => resume(call ? this.serve(call) : Effect.void))
    })

    next(): Effect.Effect<void, never, R> {
      return closed || parked.length >= maxParked ? Effect.void : this.park
    }

    serve(call: Call<R>): Effect.Effect<void, never, R> {
      this.call = call
      return Effect.matchCauseEffect(call.effect, this.handlers)
    }
  }

  const run = <A, E>(effect: Effect.Effect<A, E, R>): Promise<A> =>
    new Promise<A>((resolve, reject) => {
      const call = new Call(effect, resolve as (value: unknown) => void, reject)
      const worker = parked.pop()
      if (worker) worker(call)
      else fork(new Worker().serve(call))
    })

  const close = () => {
    closed = true
    for (const worker of parked.splice(0)) worker(undefined)
  }

  return { run, close }
}
