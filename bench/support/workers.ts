/**
 * A side's workers for one workload: N loops, each running one operation after another, that stay alive from slice to
 * slice (see `repetition.ts`) and wait between slices. Starting 256 fibers afresh for every 100 ms slice cost the
 * `Cache` side about 1.4 µs per get at 256 in flight (more GC, fiber start and exit), a cost of the harness that no
 * application with long-lived callers pays; workers that wait keep every slice in the steady state.
 */
import type { Recorder } from "./stats.js"

/** The workers of one side for one workload. */
export interface Workers {
  /** Where the workers record each operation's latency and misses. */
  readonly recorder: Recorder
  /** Runs every worker until `deadline` (`performance.now()`); resolves to the operations started. */
  readonly run: (deadline: number) => Promise<number>
  /** Ends the workers, which must be waiting for a slice. */
  readonly stop: () => Promise<void>
}

const deferred = <A>() => {
  let resolve!: (value: A) => void
  const promise = new Promise<A>((done) => (resolve = done))
  return { promise, resolve }
}

/** The slices that a side's workers share: the gate they wait at, the deadline, the operation counter. */
export class Slices {
  deadline = 0
  next = 0
  /** Slices started so far. */
  round = 0
  #stopped = false
  #gate = deferred<boolean>()
  #running = 0
  #settle: ((ops: number) => void) | undefined
  #fail: ((error: unknown) => void) | undefined

  constructor(readonly concurrency: number) {}

  /**
   * Resolves to true once a slice after the `done` first ones has started (at once if one has: a fiber may start
   * after the slice it was made for), or to false once the workers are stopped.
   */
  waitForSlice(done: number): Promise<boolean> {
    if (this.#stopped) return Promise.resolve(false)
    return this.round > done ? Promise.resolve(true) : this.#gate.promise
  }

  /** A worker's slice is over; the last one settles `run`. */
  finished(): void {
    if (--this.#running === 0) this.#settle?.(this.next)
  }

  /** An operation failed: the slice fails with it. */
  failed(error: unknown): void {
    this.#fail?.(error)
  }

  run(deadline: number): Promise<number> {
    this.deadline = deadline
    this.next = 0
    this.#running = this.concurrency
    this.round++
    const opened = this.#gate
    this.#gate = deferred()
    return new Promise((resolve, reject) => {
      this.#settle = resolve
      this.#fail = reject
      opened.resolve(true)
    })
  }

  stop(): void {
    this.#stopped = true
    this.#gate.resolve(false)
  }
}

/** `concurrency` async loops over `op`, recording each operation's latency. */
export const promiseWorkers = (
  op: (i: number) => Promise<unknown>,
  concurrency: number,
  recorder: Recorder
): Workers => {
  const slices = new Slices(concurrency)
  const worker = async () => {
    let done = 0
    while (await slices.waitForSlice(done)) {
      done = slices.round
      while (performance.now() < slices.deadline) {
        const i = slices.next++
        const start = performance.now()
        await op(i)
        recorder.add(performance.now() - start)
      }
      slices.finished()
    }
  }
  const all = Promise.all(Array.from({ length: concurrency }, () => worker().catch((error) => slices.failed(error))))
  return {
    recorder,
    run: (deadline) => slices.run(deadline),
    stop: async () => {
      slices.stop()
      await all
    }
  }
}
