/**
 * One repetition of a workload: every side runs for the cell's time, in short slices that take turns (memjs,
 * memcache-client, …, facade, then again rotated by one), and each side's figures are summed over its slices. This
 * host's speed swings by up to 2× within a second or two; with slices of 100 ms, a swing falls on every side alike
 * instead of on whichever side's whole cell it hit.
 */
import type { Contestant, RepetitionReport } from "./contestant.js"
import { machineCpu, processCpu, tcpOutSegments } from "./env.js"
import type { Gc } from "./env.js"
import type { Cell } from "./report.js"
import type { Workload } from "./workloads.js"

/** A measured slice, as process.hrtime µs (for bench/profile.ts, which counts only samples inside them). */
export interface Window {
  readonly workload: string
  readonly side: string
  readonly start: number
  readonly end: number
  readonly ops: number
}

/** What one side did over its slices in one repetition. */
export class Tally {
  ops = 0
  wallMs = 0
  /** The side's CPU within its slices. */
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

/** Runs one slice of a side, until `sliceMs` from now, and adds what it did to `tally`. */
const runSlice = async (
  contestant: Contestant,
  workload: Workload,
  sliceMs: number,
  serverPid: number,
  tally: Tally,
  windows: Array<Window>
) => {
  // The /proc reads come before and after the slice, whose own CPU and wall-clock readings are the side's.
  const segments0 = tcpOutSegments()
  const machine0 = machineCpu()
  const server0 = processCpu(serverPid)
  const slice = await contestant.slice(sliceMs)
  const segments1 = tcpOutSegments()
  const machine1 = machineCpu()
  const server1 = processCpu(serverPid)
  tally.ops += slice.ops
  tally.wallMs += slice.wallMs
  tally.userUs += slice.userUs
  tally.systemUs += slice.systemUs
  tally.serverUs += difference(server0, server1)
  tally.machineBusyUs += difference(machine0?.busy, machine1?.busy)
  tally.machineTotalUs += difference(machine0?.total, machine1?.total)
  tally.segments += difference(segments0, segments1)
  windows.push({ workload: workload.id, side: contestant.id, start: slice.start, end: slice.end, ops: slice.ops })
}

/**
 * A side's cell. Its CPU is the span's when the side ran in a process of its own (`RepetitionReport.spanCpu`), else
 * the sum over its slices.
 */
export const toCell = (
  workload: Workload,
  contestant: Pick<Contestant, "id">,
  rep: number,
  tally: Tally,
  report: RepetitionReport
): Cell => {
  const { ops, wallMs } = tally
  const windowCpuUs = tally.userUs + tally.systemUs
  const cpuUs = report.spanCpu ? report.spanCpu.userUs + report.spanCpu.systemUs : windowCpuUs
  const systemUs = report.spanCpu ? report.spanCpu.systemUs : tally.systemUs
  // memcached's CPU comes in 10 ms clock ticks: under one tick in all, it says nothing.
  const serverUs = tally.serverUs > 0 ? tally.serverUs : Number.NaN
  // Whatever else ran on the machine during the slices, as a share of all its CPUs: a noise indicator.
  const otherCpuPct = Math.max(
    0,
    (tally.machineBusyUs - windowCpuUs - (Number.isNaN(serverUs) ? 0 : serverUs)) / tally.machineTotalUs
  ) * 100
  return {
    workload,
    side: contestant.id,
    rep,
    ops,
    wallMs,
    opsPerSec: ops / (wallMs / 1000),
    p50: report.p50,
    p99: report.p99,
    cpuPerOpUs: cpuUs / ops,
    sysPerOpUs: systemUs / ops,
    serverCpuPerOpUs: serverUs / ops,
    otherCpuPct,
    segmentsPerOp: tally.segments / ops,
    gcPerOpUs: report.gcUs / ops,
    majorGcs: report.majorGcs,
    misses: report.misses
  }
}

/** How many slices a cell of `durationMs` is cut into. */
export const sliceCount = (workload: Workload, durationMs: number, sliceMs: number): number =>
  Math.max(1, Math.round(durationMs / Math.max(sliceMs, workload.minSliceMs ?? 0)))

/**
 * Runs one repetition of `workload` on every side: `slices` rounds of one slice per side. With `gc` (every side in
 * this process), a full gc first (quick runs: a young-generation one, ~1 ms instead of ~30 ms) and a young-generation
 * one before each slice, so that no side's garbage is collected on another's time. Returns one cell per side, and
 * adds each slice to `windows`.
 */
export const runRepetition = async (
  running: ReadonlyArray<Contestant>,
  workload: Workload,
  rep: number,
  options: { readonly durationMs: number; readonly slices: number; readonly quick: boolean },
  serverPid: number,
  gc: Gc | undefined,
  windows: Array<Window>
): Promise<Array<Cell>> => {
  const tallies = running.map(() => new Tally())
  for (const contestant of running) await contestant.reset()
  gc?.(options.quick ? { type: "minor" } : undefined)
  const sliceMs = options.durationMs / options.slices
  for (let slice = 0; slice < options.slices; slice++) {
    for (let turn = 0; turn < running.length; turn++) {
      const index = (slice + turn) % running.length
      if (slice > 0 || turn > 0) gc?.({ type: "minor" })
      await runSlice(running[index]!, workload, sliceMs, serverPid, tallies[index]!, windows)
    }
  }
  const cells: Array<Cell> = []
  for (const [index, contestant] of running.entries()) {
    cells.push(toCell(workload, contestant, rep, tallies[index]!, await contestant.report()))
  }
  return cells
}
