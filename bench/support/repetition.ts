/**
 * One repetition of a workload: every side runs for the cell's time, in short slices that take turns (memjs, Cache,
 * facade, memjs, Cache, …, the order rotated each slice), and each side's figures are summed over its slices. This
 * host's speed swings by up to 2× within a second or two; with slices of 100 ms, a swing falls on every side alike
 * instead of on whichever side's whole cell it hit.
 */
import { machineCpu, processCpu, tcpOutSegments } from "./env.js"
import type { Gc } from "./env.js"
import type { Cell } from "./report.js"
import type { Side } from "./sides.js"
import type { Workers } from "./workers.js"
import type { Workload } from "./workloads.js"

/** A side with its workers for the workload being measured. */
export interface Running {
  readonly side: Side
  readonly workers: Workers
}

/** A measured slice, as process.hrtime µs (for bench/profile.ts, which counts only samples inside them). */
export interface Window {
  readonly workload: string
  readonly side: string
  readonly start: number
  readonly end: number
  readonly ops: number
}

/** What one side did over its slices in one repetition. */
class Tally {
  ops = 0
  wallMs = 0
  userUs = 0
  systemUs = 0
  /** memcached's CPU; NaN when it could not be read. */
  serverUs = 0
  /** The whole machine's busy and total CPU, for the share other processes used. */
  machineBusyUs = 0
  machineTotalUs = 0
  /** TCP segments; NaN when they could not be read. */
  segments = 0
}

const difference = (before: number | undefined, after: number | undefined) =>
  before === undefined || after === undefined ? Number.NaN : after - before

/** Runs a side's workers for one slice, until `sliceMs` from now, and adds what they did to `tally`. */
const runSlice = async (
  { side, workers }: Running,
  workload: Workload,
  sliceMs: number,
  serverPid: number,
  tally: Tally,
  windows: Array<Window>
) => {
  // The /proc reads come before and after the CPU and wall-clock readings, so their cost is not counted.
  const segments0 = tcpOutSegments()
  const machine0 = machineCpu()
  const server0 = processCpu(serverPid)
  const cpu0 = process.cpuUsage()
  const hr0 = process.hrtime.bigint()
  const start = performance.now()
  const ops = await workers.run(start + sliceMs)
  tally.wallMs += performance.now() - start
  const hr1 = process.hrtime.bigint()
  tally.ops += ops
  const cpu = process.cpuUsage(cpu0)
  const segments1 = tcpOutSegments()
  const machine1 = machineCpu()
  const server1 = processCpu(serverPid)
  tally.userUs += cpu.user
  tally.systemUs += cpu.system
  tally.serverUs += difference(server0, server1)
  tally.machineBusyUs += difference(machine0?.busy, machine1?.busy)
  tally.machineTotalUs += difference(machine0?.total, machine1?.total)
  tally.segments += difference(segments0, segments1)
  windows.push({ workload: workload.id, side: side.id, start: Number(hr0 / 1000n), end: Number(hr1 / 1000n), ops })
}

const toCell = (workload: Workload, { side, workers: { recorder } }: Running, rep: number, tally: Tally): Cell => {
  const { ops, wallMs } = tally
  const cpuUs = tally.userUs + tally.systemUs
  // memcached's CPU comes in 10 ms clock ticks: under one tick in all, it says nothing.
  const serverUs = tally.serverUs > 0 ? tally.serverUs : Number.NaN
  // Whatever else ran on the machine meanwhile, as a share of all its CPUs: a noise indicator.
  const otherCpuPct = Math.max(
    0,
    (tally.machineBusyUs - cpuUs - (Number.isNaN(serverUs) ? 0 : serverUs)) / tally.machineTotalUs
  ) * 100
  const { p50, p99 } = recorder.percentiles()
  return {
    workload,
    side: side.id,
    rep,
    ops,
    wallMs,
    opsPerSec: ops / (wallMs / 1000),
    p50,
    p99,
    cpuPerOpUs: cpuUs / ops,
    sysPerOpUs: tally.systemUs / ops,
    serverCpuPerOpUs: serverUs / ops,
    otherCpuPct,
    segmentsPerOp: tally.segments / ops,
    misses: recorder.misses
  }
}

/** How many slices a cell of `durationMs` is cut into. */
export const sliceCount = (workload: Workload, durationMs: number, sliceMs: number): number =>
  Math.max(1, Math.round(durationMs / Math.max(sliceMs, workload.minSliceMs ?? 0)))

/**
 * Runs one repetition of `workload` on every side: a full gc first (quick runs: a young-generation one, ~1 ms instead
 * of ~30 ms), then `slices` rounds of one slice per side, with a young-generation gc before each slice so that no
 * side's garbage is collected on another's time. Returns one cell per side, and adds each slice to `windows`.
 */
export const runRepetition = async (
  running: ReadonlyArray<Running>,
  workload: Workload,
  rep: number,
  options: { readonly durationMs: number; readonly slices: number; readonly quick: boolean },
  serverPid: number,
  gc: Gc | undefined,
  windows: Array<Window>
): Promise<Array<Cell>> => {
  const tallies = running.map(() => new Tally())
  for (const { workers } of running) workers.recorder.reset()
  gc?.(options.quick ? { type: "minor" } : undefined)
  const sliceMs = options.durationMs / options.slices
  for (let slice = 0; slice < options.slices; slice++) {
    for (let turn = 0; turn < running.length; turn++) {
      const index = (slice + turn) % running.length
      if (slice > 0 || turn > 0) gc?.({ type: "minor" })
      await runSlice(running[index]!, workload, sliceMs, serverPid, tallies[index]!, windows)
    }
  }
  return running.map((side, index) => toCell(workload, side, rep, tallies[index]!))
}
