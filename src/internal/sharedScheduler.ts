/**
 * The Effect 3 facade's fork of its runner's fibers (`promiseRunner.ts`): on a scheduler shared by all of them when
 * the runtime has no tracer. The Effect 4 line forks with `Effect.runForkWith` alone.
 *
 * @internal
 */
import * as Context from "effect/Context"
import * as DefaultServices from "effect/DefaultServices"
import type * as Effect from "effect/Effect"
import * as FiberRefs from "effect/FiberRefs"
import * as Runtime from "effect/Runtime"
import * as Scheduler from "effect/Scheduler"
import * as Tracer from "effect/Tracer"

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

/** @internal Forks a fiber on `runtime`, on a `SharedScheduler` when the runtime has no tracer. */
export const forkOn = <R>(runtime: Runtime.Runtime<R>): (effect: Effect.Effect<void, never, R>) => unknown => {
  const services = FiberRefs.getOrDefault(runtime.fiberRefs, DefaultServices.currentServices)
  const untraced = Context.get(services, Tracer.Tracer) === Context.get(DefaultServices.liveServices, Tracer.Tracer)
  const options = untraced ? { scheduler: new SharedScheduler() } : {}
  return (effect) => Runtime.runFork(runtime)(effect, options)
}
