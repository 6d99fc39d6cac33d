/** Aggregation (medians over repetitions), the stdout table, the target check and the Markdown report. */
import type { SideId } from "./sides.js"
import { sideLabels } from "./sides.js"
import { formatNumber, formatPercent, formatRatio, median } from "./stats.js"
import type { Workload } from "./workloads.js"

/** One measured repetition of one workload on one side. */
export interface Cell {
  readonly workload: Workload
  readonly side: SideId
  readonly rep: number
  readonly ops: number
  readonly wallMs: number
  readonly opsPerSec: number
  readonly p50: number
  readonly p99: number
  readonly cpuPerOpUs: number
  readonly sysPerOpUs: number
  /** memcached's CPU per operation. */
  readonly serverCpuPerOpUs: number
  /** CPU used by other processes during the cell, as a share of the machine. */
  readonly otherCpuPct: number
  /** TCP segments (both directions, machine-wide) per operation. */
  readonly segmentsPerOp: number
  readonly misses: number
}

export interface Summary {
  readonly workload: Workload
  readonly side: SideId
  readonly reps: number
  readonly opsPerSec: number
  readonly minOpsPerSec: number
  readonly maxOpsPerSec: number
  readonly p50: number
  readonly p99: number
  readonly cpuPerOpUs: number
  readonly sysPerOpUs: number
  readonly segmentsPerOp: number
  readonly serverCpuPerOpUs: number
  readonly otherCpuPct: number
  readonly misses: number
  /** Median ops/s over memjs's median ops/s for the same workload. */
  readonly ratio: number
}

export const summarize = (
  cells: ReadonlyArray<Cell>,
  workloads: ReadonlyArray<Workload>,
  sides: ReadonlyArray<SideId>
): Array<Summary> => {
  const out: Array<Summary> = []
  for (const workload of workloads) {
    const memjs = cells.filter((cell) => cell.workload.id === workload.id && cell.side === "memjs")
    const memjsOps = median(memjs.map((cell) => cell.opsPerSec))
    for (const side of sides) {
      const mine = cells.filter((cell) => cell.workload.id === workload.id && cell.side === side)
      if (mine.length === 0) continue
      const opsPerSec = median(mine.map((cell) => cell.opsPerSec))
      out.push({
        workload,
        side,
        reps: mine.length,
        opsPerSec,
        minOpsPerSec: Math.min(...mine.map((cell) => cell.opsPerSec)),
        maxOpsPerSec: Math.max(...mine.map((cell) => cell.opsPerSec)),
        p50: median(mine.map((cell) => cell.p50)),
        p99: median(mine.map((cell) => cell.p99)),
        cpuPerOpUs: median(mine.map((cell) => cell.cpuPerOpUs)),
        sysPerOpUs: median(mine.map((cell) => cell.sysPerOpUs)),
        segmentsPerOp: median(mine.map((cell) => cell.segmentsPerOp)),
        serverCpuPerOpUs: median(mine.map((cell) => cell.serverCpuPerOpUs)),
        otherCpuPct: Math.max(...mine.map((cell) => cell.otherCpuPct)),
        misses: mine.reduce((total, cell) => total + cell.misses, 0),
        ratio: opsPerSec / memjsOps
      })
    }
  }
  return out
}

const spreadOf = (summary: Summary) => ((summary.maxOpsPerSec - summary.minOpsPerSec) / summary.opsPerSec) * 100

const HEADERS = [
  "workload",
  "side",
  "ops/s",
  "× memjs",
  "p50 µs",
  "p99 µs",
  "CPU µs/op",
  "spread",
  "memcached µs/op",
  "other load"
] as const

const rowOf = (summary: Summary): Array<string> => [
  summary.workload.id,
  sideLabels[summary.side],
  formatNumber(summary.opsPerSec) + (summary.workload.unit === "batch" ? " b/s" : ""),
  formatRatio(summary.ratio),
  formatNumber(summary.p50),
  formatNumber(summary.p99),
  formatNumber(summary.cpuPerOpUs),
  formatPercent(spreadOf(summary)) + (summary.misses > 0 ? ` (${summary.misses} misses!)` : ""),
  formatNumber(summary.serverCpuPerOpUs),
  formatPercent(summary.otherCpuPct)
]

const rightAligned = new Set([2, 3, 4, 5, 6, 7, 8, 9])

export const textTable = (summaries: ReadonlyArray<Summary>): string => {
  const rows = summaries.map(rowOf)
  const widths = HEADERS.map((header, i) => Math.max(header.length, ...rows.map((row) => row[i]!.length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells.map((cell, i) => (rightAligned.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join("  ")
  const out = [line(HEADERS), widths.map((width) => "-".repeat(width)).join("  ")]
  let previous: string | undefined
  for (let i = 0; i < rows.length; i++) {
    const id = summaries[i]!.workload.id
    if (previous !== undefined && previous !== id) out.push("")
    previous = id
    out.push(line(rows[i]!))
  }
  return out.join("\n")
}

export const markdownTable = (summaries: ReadonlyArray<Summary>): string => {
  const out = [
    `| ${HEADERS.join(" | ")} |`,
    `|${HEADERS.map((_, i) => (rightAligned.has(i) ? "---:" : "---")).join("|")}|`
  ]
  for (const summary of summaries) {
    const row = rowOf(summary)
    row[0] = `${summary.workload.id}<br><sub>${summary.workload.title}</sub>`
    if (summary.side === "cache") row[1] = `**${row[1]}**`
    out.push(`| ${row.join(" | ")} |`)
  }
  return out.join("\n")
}

export interface TargetResult {
  readonly target: string
  readonly measured: string
  readonly pass: boolean | undefined
}

/** The goals from the issue, checked against this run's medians. */
export const checkTargets = (summaries: ReadonlyArray<Summary>): Array<TargetResult> => {
  const find = (workload: string, side: SideId) =>
    summaries.find((summary) => summary.workload.id === workload && summary.side === side)
  const results: Array<TargetResult> = []
  const ratioTarget = (side: SideId, workload: string, minimum: number) => {
    const summary = find(workload, side)
    results.push({
      target: `${sideLabels[side]} ${workload} ≥ ${minimum.toFixed(1)}× memjs`,
      measured: summary ? formatRatio(summary.ratio) : "not run",
      pass: summary ? summary.ratio >= minimum : undefined
    })
  }
  for (const side of ["cache", "facade"] as const) {
    const [at16, at256] = side === "cache" ? [1.2, 1.5] : [1.1, 1.3]
    for (const op of ["get", "set"]) {
      ratioTarget(side, `${op}-c16`, at16)
      ratioTarget(side, `${op}-c256`, at256)
    }
  }
  for (const side of ["cache", "facade"] as const) {
    const mine = find("get-seq", side)
    const memjs = find("get-seq", "memjs")
    const relative = mine && memjs ? mine.p50 / memjs.p50 : Number.NaN
    results.push({
      target: `${sideLabels[side]} sequential get p50 ≤ 1.15 × memjs p50`,
      measured: mine && memjs
        ? `${formatNumber(mine.p50)} µs vs ${formatNumber(memjs.p50)} µs (${formatRatio(relative)})`
        : "not run",
      pass: mine && memjs ? relative <= 1.15 : undefined
    })
  }
  for (const side of ["cache", "facade"] as const) {
    const summary = find("getmany-100", side)
    results.push({
      target: `${sideLabels[side]} getMany(100) ≥ 3,000 batches/s and ≥ 3× memjs`,
      measured: summary ? `${formatNumber(summary.opsPerSec)} batches/s, ${formatRatio(summary.ratio)}` : "not run",
      pass: summary ? summary.opsPerSec >= 3000 && summary.ratio >= 3 : undefined
    })
  }
  for (const side of ["cache", "facade"] as const) {
    ratioTarget(side, "get-500k-c16", 0.9)
    ratioTarget(side, "set-500k-c16", 0.9)
  }
  return results
}

const verdict = (pass: boolean | undefined) => (pass === undefined ? "–" : pass ? "yes" : "**no**")

export const targetsText = (results: ReadonlyArray<TargetResult>): string => {
  const width = Math.max(...results.map((result) => result.target.length))
  return results
    .map((result) =>
      `${result.target.padEnd(width)}  ${result.measured.padEnd(34)}  ${
        result.pass === undefined ? "–" : result.pass ? "met" : "NOT MET"
      }`
    )
    .join("\n")
}

export const targetsMarkdown = (results: ReadonlyArray<TargetResult>): string =>
  [
    "| target | measured | met |",
    "|---|---|---|",
    ...results.map((r) => `| ${r.target} | ${r.measured} | ${verdict(r.pass)} |`)
  ]
    .join("\n")

export const rawMarkdown = (cells: ReadonlyArray<Cell>): string => {
  const out = [
    "| workload | side | rep | ops | wall ms | ops/s | p50 µs | p99 µs | CPU µs/op | sys µs/op | memcached µs/op | TCP segs/op | other load |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  ]
  for (const cell of cells) {
    out.push(
      `| ${cell.workload.id} | ${sideLabels[cell.side]} | ${cell.rep + 1} | ${cell.ops} | ${cell.wallMs.toFixed(0)} | ${
        formatNumber(cell.opsPerSec)
      } | ${formatNumber(cell.p50)} | ${formatNumber(cell.p99)} | ${formatNumber(cell.cpuPerOpUs)} | ${
        formatNumber(cell.sysPerOpUs)
      } | ${formatNumber(cell.serverCpuPerOpUs)} | ${formatNumber(cell.segmentsPerOp)} | ${
        formatPercent(cell.otherCpuPct)
      } |`
    )
  }
  return out.join("\n")
}
