/**
 * `tsx bench/pretenuring.ts [--seconds=N]`: Effect 3 alone (no memcached, no library), before and after a burst of
 * short-lived fibers. 16 fibers each run an `Effect.async` resumed on the next `setImmediate`, back to back, and the
 * script reports CPU µs per operation and GC. It runs five times, each in a fresh Node process: as is; after 10,000
 * `Effect.runPromise` calls 64 at a time (what the bench's preload does, and what a server's requests do); after the
 * same burst with `--no-allocation-site-pretenuring`; after the same burst with the 16 fibers on a scheduler that
 * queues each task as a microtask instead of Effect's default one; and after the same burst with the 16 fibers on
 * Effect's default scheduler told no fiber, so that they share one runner as before Effect 3.20 (since 3.20 it keeps
 * a runner per fiber). It needs no package but `effect`: copied into a project of its own, it runs against any
 * `effect` 3 release (docs/effect3-scheduler-runners.md). See bench/README.md, "Effect 3 after a burst of fibers".
 */
import { Effect, Scheduler } from "effect"
import { spawnSync } from "node:child_process"
import { constants, PerformanceObserver } from "node:perf_hooks"
import { fileURLToPath } from "node:url"

const FIBERS = 16
const BURST = 10_000
const BURST_IN_FLIGHT = 64

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

/** A scheduler that queues each task as a microtask: none of the default scheduler's per-task arrays. */
const microtasks: Scheduler.Scheduler = {
  scheduleTask: (task) => queueMicrotask(task),
  shouldYield: (fiber) => (fiber.currentOpCount > 2048 ? 0 : false)
}

/**
 * Effect's default scheduler, told no fiber: since Effect 3.20 it keeps a runner per fiber it is told of, and one
 * runner for every task it is not told the fiber of. Before 3.20 it had that one runner only.
 */
const oneRunner: Scheduler.Scheduler = {
  scheduleTask: (task, priority) => Scheduler.defaultScheduler.scheduleTask(task, priority),
  shouldYield: (fiber) => Scheduler.defaultScheduler.shouldYield(fiber)
}

/** The 16 fibers' scheduler in a run: Effect's default one unless the run says otherwise. */
const schedulers: Readonly<Record<string, Scheduler.Scheduler | undefined>> = { microtasks, "one-runner": oneRunner }

/** The measured run, in this process: prints one JSON line. */
const measure = async (burst: boolean, scheduler: Scheduler.Scheduler | undefined, seconds: number) => {
  if (burst) {
    for (let i = 0; i < BURST; i += BURST_IN_FLIGHT) {
      await Promise.all(Array.from({ length: BURST_IN_FLIGHT }, () => Effect.runPromise(Effect.promise(nextTurn))))
    }
  }
  let waiting: Array<() => void> = []
  const flush = () => {
    const resumes = waiting
    waiting = []
    for (const resume of resumes) resume()
  }
  const op = Effect.async<void>((resume) => {
    if (waiting.length === 0) setImmediate(flush)
    waiting.push(() => resume(Effect.void))
  })
  let gcMs = 0
  let majors = 0
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcMs += entry.duration
      const kind = (entry as { readonly detail?: { readonly kind?: number } }).detail?.kind
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors++
    }
  })
  observer.observe({ entryTypes: ["gc"] })
  let ops = 0
  const end = performance.now() + seconds * 1000
  const loop = Effect.gen(function*() {
    while (performance.now() < end) {
      yield* op
      ops++
    }
  })
  const worker = scheduler === undefined ? loop : Effect.withScheduler(loop, scheduler)
  const cpu = process.cpuUsage()
  await Effect.runPromise(Effect.all(Array.from({ length: FIBERS }, () => worker), { concurrency: "unbounded" }))
  const used = process.cpuUsage(cpu)
  await nextTurn()
  observer.disconnect()
  process.stdout.write(
    JSON.stringify({ ops, cpuUs: (used.user + used.system) / ops, gcUs: (gcMs * 1000) / ops, majors })
  )
}

const args = new Map(process.argv.slice(2).map((arg) => arg.replace(/^--/, "").split("=") as [string, string]))
const seconds = Number(args.get("seconds") ?? 3)
if (args.has("child")) {
  const child = args.get("child")!
  await measure(child !== "none", schedulers[child], seconds)
} else {
  const runs = [
    { label: "no burst", child: "none", flags: [] },
    { label: "after a burst", child: "burst", flags: [] },
    {
      label: "after a burst, --no-allocation-site-pretenuring",
      child: "burst",
      flags: ["--no-allocation-site-pretenuring"]
    },
    { label: "after a burst, tasks queued as microtasks", child: "microtasks", flags: [] },
    { label: "after a burst, one runner for every fiber", child: "one-runner", flags: [] }
  ]
  process.stdout.write(`Effect 3, ${FIBERS} fibers, Effect.async resumed on setImmediate, ${seconds} s per run\n`)
  for (const run of runs) {
    const child = spawnSync(
      process.execPath,
      [
        ...run.flags,
        "--import",
        "tsx",
        fileURLToPath(import.meta.url),
        `--child=${run.child}`,
        `--seconds=${seconds}`
      ],
      { encoding: "utf8" }
    )
    if (child.status !== 0) throw new Error(`${run.label}: ${child.stderr}`)
    const { cpuUs, gcUs, majors, ops } = JSON.parse(child.stdout) as Record<string, number>
    process.stdout.write(
      `${run.label.padEnd(50)} ${cpuUs!.toFixed(2)} µs CPU/op  GC ${
        gcUs!.toFixed(2)
      } µs/op  ${majors} full GCs  (${ops} ops)\n`
    )
  }
}
