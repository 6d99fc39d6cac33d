/**
 * Runs Effects for Promise callers on long-lived fibers. `runtime.runPromise` forks a root fiber per call, and a root
 * fiber copies every fiber ref of the runtime: for a cache call of a few microseconds, the fork and the garbage it
 * leaves cost more than the call itself. Here a call is handed to a parked worker fiber, which runs it, settles the
 * promise and parks again; a worker is forked only when none is parked, so no call ever waits for another. At most
 * `maxParked` workers stay parked between bursts; the others end with their call.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as DefaultServices from "effect/DefaultServices"
import * as Effect from "effect/Effect"
import * as FiberRefs from "effect/FiberRefs"
import * as Runtime from "effect/Runtime"
import * as Scheduler from "effect/Scheduler"
import * as Tracer from "effect/Tracer"

/** One call and its promise's settlers (a class, as every object made per call: see `engine/item.ts`). */
class Call<R> {
  constructor(
    readonly effect: Effect.Effect<unknown, unknown, R>,
    readonly resolve: (value: unknown) => void,
    readonly reject: (error: unknown) => void
  ) {}
}

const resolved = Promise.resolve()

/**
 * @internal The scheduler of the runner's fibers: Effect's default one, with one queue for all of them. The default
 * keeps a queue per fiber (`SchedulerRunner.cached`), so every resumption of a fiber (a worker woken with a call, a
 * request's answer) cost a look-up, a queue and a promise of its own; here the fibers resumed in one turn run in one
 * microtask. As the default does, it runs tasks by priority, and after 2,048 microtasks in a row it lets the event
 * loop turn (`setTimeout`) before it goes on.
 *
 * Only for a runtime without a tracer: the default's microtask per fiber is made where the worker is woken, in its
 * caller's async context, and a tracer that keeps an async context of its own (`@effect/opentelemetry` over
 * AsyncLocalStorage) takes the parent of the call's span from there. One microtask for all would give every call
 * the first caller's parent.
 */
export class SharedScheduler implements Scheduler.Scheduler {
  readonly #tasks = new Scheduler.PriorityBuckets()
  #running = false

  shouldYield(fiber: Parameters<Scheduler.Scheduler["shouldYield"]>[0]): number | false {
    return Scheduler.defaultShouldYield(fiber)
  }

  scheduleTask(task: Scheduler.Task, priority: number): void {
    this.#tasks.scheduleTask(task, priority)
    if (!this.#running) {
      this.#running = true
      this.#later(0)
    }
  }

  #later(depth: number): void {
    if (depth >= 2048) setTimeout(() => this.#drain(0), 0)
    else resolved.then(() => this.#drain(depth + 1))
  }

  #drain(depth: number): void {
    const buckets = this.#tasks.buckets
    this.#tasks.buckets = []
    for (const [, tasks] of buckets) {
      for (let i = 0; i < tasks.length; i++) tasks[i]!()
    }
    if (this.#tasks.buckets.length === 0) this.#running = false
    else this.#later(depth)
  }
}

/** @internal */
export interface PromiseRunner<R> {
  /** Runs `effect`; the promise rejects with `Cause.squash` of a failure. */
  readonly run: <A, E>(effect: Effect.Effect<A, E, R>) => Promise<A>
  /** Ends the parked workers; calls in flight finish on their own, and later calls fork their own fiber. */
  readonly close: () => void
}

/** @internal */
export const makePromiseRunner = <R>(runtime: Runtime.Runtime<R>, maxParked = 256): PromiseRunner<R> => {
  /** Wakes a parked worker with its next call, or with `undefined` to end it. */
  const parked: Array<(call: Call<R> | undefined) => void> = []
  let closed = false
  const services = FiberRefs.getOrDefault(runtime.fiberRefs, DefaultServices.currentServices)
  const untraced = Context.get(services, Tracer.Tracer) === Context.get(DefaultServices.liveServices, Tracer.Tracer)
  const options = untraced ? { scheduler: new SharedScheduler() } : {}
  const fork = (effect: Effect.Effect<void, never, R>) => Runtime.runFork(runtime)(effect, options)

  /**
   * A worker: the call it serves now, and the handlers that settle that call's promise, made once per worker. A call
   * costs the worker one `matchCauseEffect` frame and no closure; a `flatMap` plus a `catchAllCause` with handlers
   * made per call, and a `flatMap` for what comes next, cost 0.5–0.9 µs more per facade get at 16 in flight
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
    readonly park: Effect.Effect<void, never, R> = Effect.async<void, never, R>((resume) => {
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
