/**
 * Runs Effects for Promise callers on long-lived fibers. `runtime.runPromise` forks a root fiber per call: for a cache call of a few microseconds, the fork and the garbage it
 * leaves cost more than the call itself. Here a call is handed to a parked worker fiber, which runs it, settles the
 * promise and parks again; a worker is forked only when none is parked, so no call ever waits for another. At most
 * `maxParked` workers stay parked between bursts; the others end with their call.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"

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
export const makePromiseRunner = <R>(context: Context.Context<R>, maxParked = 256): PromiseRunner<R> => {
  /** Wakes a parked worker with its next call, or with `undefined` to end it. */
  const parked: Array<(call: Call<R> | undefined) => void> = []
  let closed = false
  const fork = Effect.runForkWith(context)

  /**
   * A worker: the call it serves now, and the handlers that settle that call's promise, made once per worker. A call
   * costs the worker one `matchCauseEffect` frame and no closure, against a `flatMap` plus a `catchCause` with handlers
   * made per call and a `flatMap` for what comes next (see the Effect 3 line's twin for what it measured). The frame is
   * popped before the handler's next Effect runs, so a worker's stack stays flat however many calls it serves.
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
    readonly park: Effect.Effect<void, never, R> = Effect.callback<void, never, R>((resume) => {
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
