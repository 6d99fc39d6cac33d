/**
 * A side as the coordinator (run.ts) drives it: in a process of its own (the default, `remote.ts`), or in the
 * coordinator's process (`--in-process`). Either way the side is opened here: its client, its own keys written with
 * its own client (so that it reads back what its serializer wrote), a sanity read, then workers per workload.
 */
import { constants, PerformanceObserver } from "node:perf_hooks"
import type { Library } from "./library.js"
import { makeSide, type OurSideOptions, type Side, type SideId, sideInfo } from "./sides.js"
import { Recorder } from "./stats.js"
import type { Workers } from "./workers.js"
import { type DataSet, makeDataSets, workloads } from "./workloads.js"

/** What a side did in one slice. */
export interface SliceResult {
  readonly ops: number
  readonly wallMs: number
  /** The side's process's CPU during the slice (in-process: the coordinator's, which then runs only this side). */
  readonly userUs: number
  readonly systemUs: number
  /** process.hrtime µs (for bench/profile.ts, which counts only samples inside the slices). */
  readonly start: number
  readonly end: number
}

/** A side's figures over one repetition. */
export interface RepetitionReport {
  readonly p50: number
  readonly p99: number
  readonly misses: number
  /** GC pauses of the side's process (main thread) within its slices, in µs, and how many were full (mark-compact). */
  readonly gcUs: number
  readonly majorGcs: number
  /**
   * In a process of its own: its CPU from the start of the repetition's first slice to the end of its last, the waits
   * between slices included (its GC threads may finish there what its slices started). Undefined in-process, where
   * those waits are the other sides' time.
   */
  readonly spanCpu: { readonly userUs: number; readonly systemUs: number } | undefined
}

export interface Contestant {
  readonly id: SideId
  readonly label: string
  /** Starts the workers of a workload (by id); they wait for slices. */
  readonly begin: (workload: string) => Promise<void>
  /** Runs the workers for `ms` unmeasured; resolves to the misses. */
  readonly warm: (ms: number) => Promise<number>
  /** Starts a repetition: latencies, misses and the CPU span start afresh. */
  readonly reset: () => Promise<void>
  readonly slice: (ms: number) => Promise<SliceResult>
  readonly report: () => Promise<RepetitionReport>
  /** Stops the workload's workers. */
  readonly end: () => Promise<void>
  readonly close: () => Promise<void>
}

/** A side's server, data, and (`OurSideOptions`) how our sides are built. */
export interface SideOptions extends OurSideOptions {
  readonly address: string
  readonly buffers: boolean
  /** Keys of 100 B values. */
  readonly keys: number
}

const PRELOAD_IN_FLIGHT = 64

const preload = async (side: Side, dataSets: ReadonlyMap<number, DataSet>) => {
  for (const data of dataSets.values()) {
    for (let i = 0; i < data.keys.length; i += PRELOAD_IN_FLIGHT) {
      await Promise.all(data.keys.slice(i, i + PRELOAD_IN_FLIGHT).map((key) => side.preload(key, data.value)))
    }
  }
}

const sanityCheck = async (side: Side, dataSets: ReadonlyMap<number, DataSet>) => {
  for (const data of dataSets.values()) {
    const length = await side.probe(data.keys[0]!)
    if (length !== data.size) {
      throw new Error(`${side.label}: get ${data.keys[0]} gave length ${String(length)}, expected ${data.size}`)
    }
  }
}

const hrtimeUs = () => Number(process.hrtime.bigint() / 1000n)

/** This process's GC pauses since the last repetition began, as `PerformanceObserver` reports them (a little later). */
const gcPauses: Array<{ readonly start: number; readonly duration: number; readonly major: boolean }> = []
let gcObserver: PerformanceObserver | undefined
const observeGc = () => {
  gcObserver ??= new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as { readonly detail?: { readonly kind?: number } }).detail?.kind
      gcPauses.push({
        start: entry.startTime,
        duration: entry.duration,
        major: kind === constants.NODE_PERFORMANCE_GC_MAJOR
      })
    }
  })
  gcObserver.observe({ entryTypes: ["gc"] })
}

/** The GC pauses that began within `windows` (`performance.now()` ms): total µs and the full ones. */
export const gcWithin = (
  pauses: ReadonlyArray<{ readonly start: number; readonly duration: number; readonly major: boolean }>,
  windows: ReadonlyArray<readonly [number, number]>
) => {
  let gcUs = 0
  let majorGcs = 0
  for (const pause of pauses) {
    if (!windows.some(([start, end]) => pause.start >= start && pause.start < end)) continue
    gcUs += pause.duration * 1000
    if (pause.major) majorGcs++
  }
  return { gcUs, majorGcs }
}

/**
 * Opens side `id` in this process and writes its keys; `library` is loaded for our sides only. `ownProcess`: this
 * process runs this side alone, so the report counts the CPU over the whole repetition (`RepetitionReport.spanCpu`).
 */
export const openContestant = async (
  library: () => Promise<Library>,
  id: SideId,
  options: SideOptions,
  ownProcess: boolean
): Promise<Contestant> => {
  const side = await makeSide(library, id, options.address, options)
  const dataSets = makeDataSets(options.buffers, sideInfo[id].tag, options.keys)
  try {
    await preload(side, dataSets)
    await sanityCheck(side, dataSets)
  } catch (error) {
    await side.close().catch(() => {})
    throw error
  }
  observeGc()
  const recorder = new Recorder()
  /** This repetition's slices (`performance.now()` ms); in a process of its own, one window over all of them. */
  let windows: Array<[number, number]> = []
  let workers: Workers | undefined
  let spanStart: NodeJS.CpuUsage | undefined
  let spanEnd: NodeJS.CpuUsage | undefined
  const running = () => {
    if (workers === undefined) throw new Error(`${side.label}: no workload started`)
    return workers
  }
  return {
    id,
    label: side.label,
    begin: async (workloadId) => {
      const workload = workloads.find((w) => w.id === workloadId)
      if (workload === undefined) throw new Error(`unknown workload ${workloadId}`)
      workers = side.start(workload, dataSets.get(workload.size)!, recorder)
    },
    warm: async (ms) => {
      recorder.reset()
      await side.ready?.()
      await running().run(performance.now() + ms)
      return recorder.misses
    },
    reset: async () => {
      recorder.reset()
      spanStart = spanEnd = undefined
      windows = []
      gcPauses.length = 0
    },
    slice: async (ms) => {
      const current = running()
      await side.ready?.()
      const cpu0 = process.cpuUsage()
      spanStart ??= cpu0
      const start = hrtimeUs()
      const wall0 = performance.now()
      const ops = await current.run(wall0 + ms)
      const wall1 = performance.now()
      const wallMs = wall1 - wall0
      const end = hrtimeUs()
      spanEnd = process.cpuUsage()
      if (ownProcess && windows.length > 0) windows[0]![1] = wall1
      else windows.push([wall0, wall1])
      return {
        ops,
        wallMs,
        userUs: spanEnd.user - cpu0.user,
        systemUs: spanEnd.system - cpu0.system,
        start,
        end
      }
    },
    report: async () => ({
      ...recorder.percentiles(),
      misses: recorder.misses,
      ...gcWithin(gcPauses, windows),
      spanCpu: ownProcess && spanStart && spanEnd
        ? { userUs: spanEnd.user - spanStart.user, systemUs: spanEnd.system - spanStart.system }
        : undefined
    }),
    end: async () => {
      await workers?.stop()
      workers = undefined
    },
    close: () => side.close()
  }
}

/** How long a call may take beyond its own duration (a slice drains its last operations) before the run fails. */
export const CALL_LIMIT_MS = 60_000

/**
 * `contestant` with a deadline on every call, so that a side whose operation never settles (a client that lost a
 * reply) fails the run with its name instead of hanging it.
 */
export const withDeadlines = (contestant: Contestant, limitMs = CALL_LIMIT_MS): Contestant => {
  const guard = <A>(what: string, durationMs: number, call: () => Promise<A>): Promise<A> => {
    let timer: ReturnType<typeof setTimeout> | undefined
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${contestant.label}: ${what} did not end within ${durationMs + limitMs} ms`)),
        durationMs + limitMs
      )
    })
    return Promise.race([call(), limit]).finally(() => clearTimeout(timer))
  }
  return {
    ...contestant,
    begin: (workload) => guard(`starting ${workload}`, 0, () => contestant.begin(workload)),
    warm: (ms) => guard(`a warm-up of ${ms} ms`, ms, () => contestant.warm(ms)),
    reset: () => guard("reset", 0, contestant.reset),
    slice: (ms) => guard(`a slice of ${ms} ms`, ms, () => contestant.slice(ms)),
    report: () => guard("report", 0, contestant.report),
    end: () => guard("stopping its workers", 0, contestant.end)
  }
}
