/**
 * Aggregation (medians over repetitions, ratios to memjs and to the best peer), the stdout table, the targets of
 * issue 20, a side against its twin (TLS against plain, meta against binary) and the Markdown report.
 */
import { type SideId, sideInfo, sideLabels } from "./sides.js"
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
  /** GC pauses of the side's main thread per operation, and the full (mark-compact) collections among them. */
  readonly gcPerOpUs: number
  readonly majorGcs: number
  readonly misses: number
}

/** A ratio's median over the repetitions and its range (each repetition's ratio, its slices taken in turns). */
export interface Ratio {
  readonly median: number
  readonly min: number
  readonly max: number
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
  /** Ops/s over memjs's, repetition by repetition: the median (NaN without memjs). */
  readonly ratio: number
  /** CPU per operation over memjs's (NaN without memjs). */
  readonly cpuRatio: number
  /** Ops/s over the best peer's, repetition by repetition; undefined when no peer ran this workload. */
  readonly vsBest: Ratio | undefined
}

/**
 * The peers a workload is judged against: every peer, but for getMany those with a native multi-get (issue 20's
 * target; memjs's getMany is 100 concurrent gets).
 */
export const peersOf = (workload: Workload, sides: ReadonlyArray<SideId>): ReadonlyArray<SideId> =>
  sides.filter((side) => sideInfo[side].peer && (workload.op !== "getMany" || sideInfo[side].nativeMultiGet))

/** The peer with the highest median ops/s in `workload`, or undefined when none ran it. */
export const bestPeer = (cells: ReadonlyArray<Cell>, workload: Workload, sides: ReadonlyArray<SideId>) => {
  let best: { side: SideId; opsPerSec: number } | undefined
  for (const side of peersOf(workload, sides)) {
    const opsPerSec = median(cellsOf(cells, workload, side).map((cell) => cell.opsPerSec))
    if (!Number.isNaN(opsPerSec) && (best === undefined || opsPerSec > best.opsPerSec)) best = { side, opsPerSec }
  }
  return best?.side
}

/** The peer with the lowest median p50 in `workload`, or undefined. */
export const fastestPeer = (cells: ReadonlyArray<Cell>, workload: Workload, sides: ReadonlyArray<SideId>) => {
  let best: { side: SideId; p50: number } | undefined
  for (const side of peersOf(workload, sides)) {
    const p50 = median(cellsOf(cells, workload, side).map((cell) => cell.p50))
    if (!Number.isNaN(p50) && (best === undefined || p50 < best.p50)) best = { side, p50 }
  }
  return best?.side
}

const cellsOf = (cells: ReadonlyArray<Cell>, workload: Workload, side: SideId) =>
  cells.filter((cell) => cell.workload.id === workload.id && cell.side === side)

/** `value(mine) / value(theirs)` for each repetition both ran: median, min and max. */
export const ratioByRep = (
  mine: ReadonlyArray<Cell>,
  theirs: ReadonlyArray<Cell>,
  value: (cell: Cell) => number
): Ratio | undefined => {
  const ratios: Array<number> = []
  for (const cell of mine) {
    const other = theirs.find((candidate) => candidate.rep === cell.rep)
    if (other !== undefined) ratios.push(value(cell) / value(other))
  }
  if (ratios.length === 0) return undefined
  return { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) }
}

export const summarize = (
  cells: ReadonlyArray<Cell>,
  workloads: ReadonlyArray<Workload>,
  sides: ReadonlyArray<SideId>
): Array<Summary> => {
  const out: Array<Summary> = []
  for (const workload of workloads) {
    const memjs = cellsOf(cells, workload, "memjs")
    const memjsCpu = median(memjs.map((cell) => cell.cpuPerOpUs))
    const best = bestPeer(cells, workload, sides)
    for (const side of sides) {
      const mine = cellsOf(cells, workload, side)
      if (mine.length === 0) continue
      const opsPerSec = median(mine.map((cell) => cell.opsPerSec))
      const cpuPerOpUs = median(mine.map((cell) => cell.cpuPerOpUs))
      out.push({
        workload,
        side,
        reps: mine.length,
        opsPerSec,
        minOpsPerSec: Math.min(...mine.map((cell) => cell.opsPerSec)),
        maxOpsPerSec: Math.max(...mine.map((cell) => cell.opsPerSec)),
        p50: median(mine.map((cell) => cell.p50)),
        p99: median(mine.map((cell) => cell.p99)),
        cpuPerOpUs,
        sysPerOpUs: median(mine.map((cell) => cell.sysPerOpUs)),
        segmentsPerOp: median(mine.map((cell) => cell.segmentsPerOp)),
        serverCpuPerOpUs: median(mine.map((cell) => cell.serverCpuPerOpUs)),
        otherCpuPct: Math.max(...mine.map((cell) => cell.otherCpuPct)),
        misses: mine.reduce((total, cell) => total + cell.misses, 0),
        ratio: ratioByRep(mine, memjs, (cell) => cell.opsPerSec)?.median ?? Number.NaN,
        cpuRatio: cpuPerOpUs / memjsCpu,
        vsBest: best === undefined ? undefined : ratioByRep(mine, cellsOf(cells, workload, best), (c) => c.opsPerSec)
      })
    }
  }
  return out
}

const spreadOf = (summary: Summary) => ((summary.maxOpsPerSec - summary.minOpsPerSec) / summary.opsPerSec) * 100

/** `1.05× (0.98–1.10)`: the median and the range over the repetitions. */
export const formatRange = (ratio: Ratio | undefined): string =>
  ratio === undefined
    ? "–"
    : `${formatRatio(ratio.median)} (${ratio.min.toFixed(2)}–${ratio.max.toFixed(2)})`

const HEADERS = [
  "workload",
  "side",
  "ops/s",
  "× memjs",
  "× best peer (range)",
  "p50 µs",
  "p99 µs",
  "CPU µs/op",
  "CPU × memjs",
  "spread",
  "memcached µs/op",
  "other load"
] as const

const rowOf = (summary: Summary): Array<string> => [
  summary.workload.id,
  sideLabels[summary.side],
  formatNumber(summary.opsPerSec) + (summary.workload.unit === "batch" ? " b/s" : ""),
  formatRatio(summary.ratio),
  formatRange(summary.vsBest),
  formatNumber(summary.p50),
  formatNumber(summary.p99),
  formatNumber(summary.cpuPerOpUs),
  formatRatio(summary.cpuRatio),
  formatPercent(spreadOf(summary)) + (summary.misses > 0 ? ` (${summary.misses} misses!)` : ""),
  formatNumber(summary.serverCpuPerOpUs),
  formatPercent(summary.otherCpuPct)
]

const rightAligned = new Set([2, 3, 4, 5, 6, 7, 8, 9, 10, 11])

const textLines = (headers: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>, right: Set<number>) => {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => row[i]!.length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells.map((cell, i) => (right.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join("  ").trimEnd()
  return { line, rule: widths.map((width) => "-".repeat(width)).join("  ") }
}

export const textTable = (summaries: ReadonlyArray<Summary>): string => {
  const rows = summaries.map(rowOf)
  const { line, rule } = textLines(HEADERS, rows, rightAligned)
  const out = [line(HEADERS), rule]
  let previous: string | undefined
  for (let i = 0; i < rows.length; i++) {
    const id = summaries[i]!.workload.id
    if (previous !== undefined && previous !== id) out.push("")
    previous = id
    out.push(line(rows[i]!))
  }
  return out.join("\n")
}

const isOurs = (side: SideId) => !sideInfo[side].peer && side !== "memjs-aa"

export const markdownTable = (summaries: ReadonlyArray<Summary>): string => {
  const out = [
    `| ${HEADERS.join(" | ")} |`,
    `|${HEADERS.map((_, i) => (rightAligned.has(i) ? "---:" : "---")).join("|")}|`
  ]
  for (const summary of summaries) {
    const row = rowOf(summary)
    row[0] = `${summary.workload.id}<br><sub>${summary.workload.title}</sub>`
    if (isOurs(summary.side)) row[1] = `**${row[1]}**`
    out.push(`| ${row.join(" | ")} |`)
  }
  return out.join("\n")
}

/** A side against its twin in one workload (TLS against plain, meta against binary), repetition by repetition. */
export interface Comparison {
  readonly workload: Workload
  readonly side: SideId
  readonly twin: SideId
  /** Ops/s and CPU per operation over the twin's. */
  readonly ops: Ratio
  readonly cpu: Ratio
  /** Medians of the CPU per operation, µs. */
  readonly twinCpuUs: number
  readonly sideCpuUs: number
}

/** Each side of `pairs` (side → its twin) that ran beside its twin, workload by workload. */
export const compareTwins = (
  cells: ReadonlyArray<Cell>,
  workloads: ReadonlyArray<Workload>,
  sides: ReadonlyArray<SideId>,
  pairs: Partial<Record<SideId, SideId>>
): Array<Comparison> =>
  workloads.flatMap((workload) =>
    sides.flatMap((side) => {
      const twin = pairs[side]
      if (twin === undefined || !sides.includes(twin)) return []
      const mine = cellsOf(cells, workload, side)
      const theirs = cellsOf(cells, workload, twin)
      const ops = ratioByRep(mine, theirs, (cell) => cell.opsPerSec)
      const cpu = ratioByRep(mine, theirs, (cell) => cell.cpuPerOpUs)
      if (ops === undefined || cpu === undefined) return []
      return [{
        workload,
        side,
        twin,
        ops,
        cpu,
        twinCpuUs: median(theirs.map((cell) => cell.cpuPerOpUs)),
        sideCpuUs: median(mine.map((cell) => cell.cpuPerOpUs))
      }]
    })
  )

/** How a comparison's table names the twin's side and the side's: `{ twin: "plain", side: "TLS" }`. */
export interface Twins {
  readonly twin: string
  readonly side: string
}

const comparisonHeaders = ({ side, twin }: Twins) => [
  "workload",
  "side",
  `ops/s × ${twin} (range)`,
  `CPU µs/op ${twin} → ${side}`,
  `CPU × ${twin} (range)`
]

const comparisonRow = (row: Comparison): Array<string> => [
  row.workload.id,
  `${sideLabels[row.side]} vs ${sideLabels[row.twin]}`,
  formatRange(row.ops),
  `${formatNumber(row.twinCpuUs)} → ${formatNumber(row.sideCpuUs)}`,
  formatRange(row.cpu)
]

export const comparisonText = (rows: ReadonlyArray<Comparison>, twins: Twins): string => {
  const headers = comparisonHeaders(twins)
  const cells = rows.map(comparisonRow)
  const { line, rule } = textLines(headers, cells, new Set([2, 3, 4]))
  return [line(headers), rule, ...cells.map(line)].join("\n")
}

export const comparisonMarkdown = (rows: ReadonlyArray<Comparison>, twins: Twins): string =>
  [
    `| ${comparisonHeaders(twins).join(" | ")} |`,
    `|---|---|---:|---:|---:|`,
    ...rows.map((row) => `| ${comparisonRow(row).join(" | ")} |`)
  ].join("\n")

/** One target, checked on each of our sides. */
export interface TargetResult {
  readonly target: string
  readonly bySide: ReadonlyArray<
    { readonly side: SideId; readonly measured: string; readonly pass: boolean | undefined }
  >
}

/** The sides the targets are checked on: ours, except `Cache·rp` (a variant of the `Cache` side). */
export const judgedSides = (sides: ReadonlyArray<SideId>): ReadonlyArray<SideId> =>
  sides.filter((side) => isOurs(side) && side !== "cache-rp")

/** The 100 B single-key workloads whose throughput and CPU the targets judge. */
const HUNDRED_BYTE_CELLS = ["get-c16", "get-c256", "set-c16", "set-c256", "mix-c64"]

/**
 * Issue 20's targets, as ratios in this run: ops/s ≥ 1.0× the best peer in every 100 B cell, sequential get p50 ≤ 1.1×
 * the best peer's, CPU per operation ≤ 0.7× memjs's, getMany(100) ≥ 2× the best native multi-get, 500 KiB get and set
 * ≥ 1.0× memjs. (The heap target is `npm run bench:heap`'s.)
 */
export const checkTargets = (
  cells: ReadonlyArray<Cell>,
  summaries: ReadonlyArray<Summary>,
  sides: ReadonlyArray<SideId>
): Array<TargetResult> => {
  const judged = judgedSides(sides)
  const summaryOf = (workload: string, side: SideId) =>
    summaries.find((summary) => summary.workload.id === workload && summary.side === side)
  const workloadOf = (id: string) => summaries.find((summary) => summary.workload.id === id)?.workload
  const results: Array<TargetResult> = []
  const check = (
    target: string,
    measure: (side: SideId) => { readonly measured: string; readonly pass: boolean } | undefined
  ) =>
    results.push({
      target,
      bySide: judged.map((side) => {
        const result = measure(side)
        return { side, measured: result?.measured ?? "not run", pass: result?.pass }
      })
    })
  const versusBest = (id: string, minimum: number) => {
    const workload = workloadOf(id)
    const best = workload && bestPeer(cells, workload, sides)
    check(`${id} ≥ ${minimum.toFixed(1)}× best peer${best ? ` (${sideLabels[best]})` : ""}`, (side) => {
      const ratio = summaryOf(id, side)?.vsBest
      return ratio && { measured: formatRange(ratio), pass: ratio.median >= minimum }
    })
  }
  for (const id of HUNDRED_BYTE_CELLS) versusBest(id, 1)
  const seq = workloadOf("get-seq")
  const fastest = seq && fastestPeer(cells, seq, sides)
  check(`get-seq p50 ≤ 1.1× best peer's${fastest ? ` (${sideLabels[fastest]})` : ""}`, (side) => {
    if (!seq || !fastest) return undefined
    const ratio = ratioByRep(cellsOf(cells, seq, side), cellsOf(cells, seq, fastest), (cell) => cell.p50)
    const mine = summaryOf("get-seq", side)
    return ratio && mine && {
      measured: `${formatNumber(mine.p50)} µs, ${formatRange(ratio)}`,
      pass: ratio.median <= 1.1
    }
  })
  for (const id of ["get-seq", ...HUNDRED_BYTE_CELLS]) {
    check(`${id} CPU/op ≤ 0.7× memjs's`, (side) => {
      const mine = summaryOf(id, side)
      if (mine === undefined || Number.isNaN(mine.cpuRatio)) return undefined
      return {
        measured: `${formatNumber(mine.cpuPerOpUs)} µs, ${formatRatio(mine.cpuRatio)}`,
        pass: mine.cpuRatio <= 0.7
      }
    })
  }
  versusBest("getmany-100", 2)
  for (const id of ["get-500k-c16", "set-500k-c16"]) {
    check(`${id} ≥ 1.0× memjs`, (side) => {
      const workload = workloadOf(id)
      const ratio = workload &&
        ratioByRep(cellsOf(cells, workload, side), cellsOf(cells, workload, "memjs"), (cell) => cell.opsPerSec)
      return ratio && { measured: formatRange(ratio), pass: ratio.median >= 1 }
    })
  }
  return results
}

const verdict = (pass: boolean | undefined) => (pass === undefined ? "" : pass ? " ✓" : " ✗")

const targetRows = (results: ReadonlyArray<TargetResult>) =>
  results.map((result) => [result.target, ...result.bySide.map((entry) => `${entry.measured}${verdict(entry.pass)}`)])

const targetHeaders = (results: ReadonlyArray<TargetResult>) => [
  "target (✓ met, ✗ not met)",
  ...(results[0]?.bySide.map((entry) => sideLabels[entry.side]) ?? [])
]

export const targetsText = (results: ReadonlyArray<TargetResult>): string => {
  const headers = targetHeaders(results)
  const rows = targetRows(results)
  const { line, rule } = textLines(headers, rows, new Set(headers.map((_, i) => i).slice(1)))
  return [line(headers), rule, ...rows.map(line)].join("\n")
}

export const targetsMarkdown = (results: ReadonlyArray<TargetResult>): string => {
  const headers = targetHeaders(results)
  return [
    `| ${headers.join(" | ")} |`,
    `|${headers.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`,
    ...targetRows(results).map((row) => `| ${row.join(" | ").replace(/✗/g, "**✗**")} |`)
  ].join("\n")
}

export const rawMarkdown = (cells: ReadonlyArray<Cell>): string => {
  const out = [
    "| workload | side | rep | ops | wall ms | ops/s | p50 µs | p99 µs | CPU µs/op | sys µs/op | GC µs/op | full GCs | memcached µs/op | TCP segs/op | other load |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  ]
  for (const cell of cells) {
    out.push(
      `| ${cell.workload.id} | ${sideLabels[cell.side]} | ${cell.rep + 1} | ${cell.ops} | ${cell.wallMs.toFixed(0)} | ${
        formatNumber(cell.opsPerSec)
      } | ${formatNumber(cell.p50)} | ${formatNumber(cell.p99)} | ${formatNumber(cell.cpuPerOpUs)} | ${
        formatNumber(cell.sysPerOpUs)
      } | ${formatNumber(cell.gcPerOpUs)} | ${cell.majorGcs} | ${formatNumber(cell.serverCpuPerOpUs)} | ${
        formatNumber(cell.segmentsPerOp)
      } | ${formatPercent(cell.otherCpuPct)} |`
    )
  }
  return out.join("\n")
}
