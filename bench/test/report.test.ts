import { assert, describe, it } from "@effect/vitest"
import { gcWithin } from "../support/contestant.js"
import { defaultSides, parseOptions, parseProtocols, tracingList, tracingModes } from "../support/env.js"
import { toCell } from "../support/repetition.js"
import {
  bestPeer,
  type Cell,
  checkTargets,
  compareTwins,
  comparisonText,
  peersOf,
  ratioByRep,
  summarize
} from "../support/report.js"
import { metaSides, type SideId, tlsSides } from "../support/sides.js"
import { isV4Side } from "../support/v4-line.js"
import { workloads } from "../support/workloads.js"

const workload = (id: string) => workloads.find((w) => w.id === id)!

/** A cell with the figures that matter here; the rest are zeros. */
const cell = (
  id: string,
  side: SideId,
  rep: number,
  opsPerSec: number,
  extra: Partial<Pick<Cell, "p50" | "cpuPerOpUs">> = {}
): Cell => ({
  workload: workload(id),
  side,
  rep,
  ops: opsPerSec,
  wallMs: 1000,
  opsPerSec,
  p50: extra.p50 ?? 100,
  p99: 200,
  cpuPerOpUs: extra.cpuPerOpUs ?? 10,
  sysPerOpUs: 0,
  serverCpuPerOpUs: 0,
  otherCpuPct: 0,
  segmentsPerOp: 0,
  gcPerOpUs: 0,
  majorGcs: 0,
  misses: 0
})

const sides: ReadonlyArray<SideId> = ["memjs", "memcache-client", "memcache", "cache", "facade"]

describe("bench report", () => {
  it("the best peer is the fastest peer by median, never one of our sides or the A/A control", () => {
    const cells = [
      ...[100, 100, 100].map((ops, rep) => cell("get-c16", "memjs", rep, ops)),
      ...[90, 150, 140].map((ops, rep) => cell("get-c16", "memcache-client", rep, ops)),
      ...[120, 120, 120].map((ops, rep) => cell("get-c16", "memcache", rep, ops)),
      ...[500, 500, 500].map((ops, rep) => cell("get-c16", "cache", rep, ops)),
      ...[900, 900, 900].map((ops, rep) => cell("get-c16", "memjs-aa", rep, ops))
    ]
    assert.strictEqual(bestPeer(cells, workload("get-c16"), [...sides, "memjs-aa"]), "memcache-client")
  })

  it("getMany is judged against the native multi-gets only", () => {
    assert.deepStrictEqual(peersOf(workload("getmany-100"), sides), ["memcache-client", "memcache"])
    assert.deepStrictEqual(peersOf(workload("get-c16"), sides), ["memjs", "memcache-client", "memcache"])
  })

  it("ratios pair the repetitions and give their median and range", () => {
    const mine = [cell("get-c16", "cache", 0, 110), cell("get-c16", "cache", 1, 90), cell("get-c16", "cache", 2, 150)]
    const theirs = [
      cell("get-c16", "memjs", 0, 100),
      cell("get-c16", "memjs", 1, 100),
      cell("get-c16", "memjs", 2, 100)
    ]
    assert.deepStrictEqual(ratioByRep(mine, theirs, (c) => c.opsPerSec), { median: 1.1, min: 0.9, max: 1.5 })
    assert.isUndefined(ratioByRep(mine, [], (c) => c.opsPerSec))
  })

  it("summaries and targets use the best peer per cell, and CPU against memjs", () => {
    const cells = [
      ...[0, 1, 2].map((rep) => cell("get-c16", "memjs", rep, 100, { cpuPerOpUs: 10 })),
      ...[0, 1, 2].map((rep) => cell("get-c16", "memcache", rep, 200, { cpuPerOpUs: 8 })),
      ...[0, 1, 2].map((rep) => cell("get-c16", "cache", rep, 210 + rep * 10, { cpuPerOpUs: 6 })),
      ...[0, 1, 2].map((rep) => cell("get-c16", "facade", rep, 150, { cpuPerOpUs: 9 }))
    ]
    const judged: ReadonlyArray<SideId> = ["memjs", "memcache", "cache", "facade"]
    const summaries = summarize(cells, [workload("get-c16")], judged)
    const cache = summaries.find((s) => s.side === "cache")!
    assert.closeTo(cache.ratio, 2.2, 1e-9)
    assert.closeTo(cache.vsBest!.median, 1.1, 1e-9)
    assert.closeTo(cache.vsBest!.min, 1.05, 1e-9)
    assert.closeTo(cache.cpuRatio, 0.6, 1e-9)
    const targets = checkTargets(cells, summaries, judged)
    const versusBest = targets.find((t) => t.target.startsWith("get-c16 ≥"))!
    assert.include(versusBest.target, "memcache")
    assert.deepStrictEqual(versusBest.bySide.map((entry) => [entry.side, entry.pass]), [["cache", true], [
      "facade",
      false
    ]])
    const cpu = targets.find((t) => t.target.startsWith("get-c16 CPU"))!
    assert.deepStrictEqual(cpu.bySide.map((entry) => entry.pass), [true, false])
    // Workloads that did not run are reported as such, not as met.
    const getMany = targets.find((t) => t.target.startsWith("getmany-100"))!
    assert.deepStrictEqual(getMany.bySide.map((entry) => [entry.measured, entry.pass]), [["not run", undefined], [
      "not run",
      undefined
    ]])
  })

  it("the sequential p50 target compares with the peer of the lowest p50", () => {
    const cells = [
      ...[0, 1, 2].map((rep) => cell("get-seq", "memjs", rep, 100, { p50: 30 })),
      ...[0, 1, 2].map((rep) => cell("get-seq", "memcache-client", rep, 100, { p50: 20 })),
      ...[0, 1, 2].map((rep) => cell("get-seq", "cache", rep, 100, { p50: 23 }))
    ]
    const judged: ReadonlyArray<SideId> = ["memjs", "memcache-client", "cache"]
    const target = checkTargets(cells, summarize(cells, [workload("get-seq")], judged), judged)
      .find((t) => t.target.startsWith("get-seq p50"))!
    assert.include(target.target, "memcache-client")
    assert.strictEqual(target.bySide[0]!.pass, false) // 1.15× the best peer's
  })

  it("a side against its twin pairs their repetitions, for the pairs that ran", () => {
    const cells = [
      ...[100, 100, 100].map((ops, rep) => cell("get-c16", "cache", rep, ops, { cpuPerOpUs: 10 })),
      ...[90, 120, 100].map((ops, rep) => cell("get-c16", "cache-meta", rep, ops, { cpuPerOpUs: 8 + rep })),
      ...[50, 50, 50].map((ops, rep) => cell("get-c16", "facade", rep, ops)),
      ...[50, 50, 50].map((ops, rep) => cell("get-c16", "facade-tls", rep, ops))
    ]
    const sides: ReadonlyArray<SideId> = ["cache", "cache-meta", "facade", "facade-tls"]
    const meta = compareTwins(cells, [workload("get-c16")], sides, metaSides)
    assert.deepStrictEqual(meta.map((row) => [row.side, row.twin]), [["cache-meta", "cache"]])
    assert.deepStrictEqual(meta[0]!.ops, { median: 1, min: 0.9, max: 1.2 })
    assert.deepStrictEqual(meta[0]!.cpu, { median: 0.9, min: 0.8, max: 1 })
    assert.strictEqual(meta[0]!.twinCpuUs, 10)
    assert.strictEqual(meta[0]!.sideCpuUs, 9)
    assert.match(comparisonText(meta, { twin: "binary", side: "meta" }), /Cache·meta vs Cache\s+1\.00× \(0\.90–1\.20\)/)
    // facade-meta did not run: no row for it; the TLS pair is another table's.
    assert.deepStrictEqual(
      compareTwins(cells, [workload("get-c16")], sides, tlsSides).map((row) => row.side),
      ["facade-tls"]
    )
  })

  it("a side in a process of its own is charged its CPU over the whole repetition", () => {
    const tally = {
      ops: 1000,
      wallMs: 100,
      userUs: 4000,
      systemUs: 1000,
      serverUs: 0,
      machineBusyUs: 0,
      machineTotalUs: 1,
      segments: 0
    }
    const report = { p50: 1, p99: 2, misses: 0, gcUs: 500, majorGcs: 1 }
    const inProcess = toCell(workload("get-c16"), { id: "memjs" }, 0, tally, { ...report, spanCpu: undefined })
    const ownProcess = toCell(workload("get-c16"), { id: "memjs" }, 0, tally, {
      ...report,
      spanCpu: { userUs: 6000, systemUs: 2000 }
    })
    assert.strictEqual(inProcess.cpuPerOpUs, 5)
    assert.strictEqual(ownProcess.cpuPerOpUs, 8)
    assert.strictEqual(ownProcess.sysPerOpUs, 2)
    assert.strictEqual(ownProcess.gcPerOpUs, 0.5)
  })

  it("a side's GC is the pauses that began within its slices", () => {
    const pauses = [
      { start: 5, duration: 1, major: false },
      { start: 12, duration: 2, major: true },
      { start: 25, duration: 4, major: true },
      { start: 31, duration: 8, major: false }
    ]
    assert.deepStrictEqual(gcWithin(pauses, [[10, 20], [30, 40]]), { gcUs: 10_000, majorGcs: 1 })
    assert.deepStrictEqual(gcWithin(pauses, []), { gcUs: 0, majorGcs: 0 })
  })
})

describe("bench options", () => {
  it("measure what users get unless told otherwise, and add the defaults side when our sides are not at defaults", () => {
    const options = parseOptions([])
    assert.strictEqual(options.serializer, "default")
    assert.isFalse(options.inProcess)
    // The v4 sides, when the v4 line can run here, come after these (v4-sides.test.ts).
    assert.deepStrictEqual(options.sides.filter((side) => !isV4Side(side)), [
      "memjs",
      "memcache-client",
      "memcache",
      "cache",
      "facade"
    ])
    assert.include(defaultSides("structured"), "defaults")
    assert.include(parseOptions(["--serializer=bytes"]).sides, "defaults")
    assert.isTrue(parseOptions(["--in-process"]).inProcess)
    assert.strictEqual(parseOptions(["--keys=500"]).keys, 500)
    assert.throws(() => parseOptions(["--sides=memjs,nope"]), /unknown side nope/)
  })

  it("--node-flags: Node options for every side's process, none unless told", () => {
    assert.deepStrictEqual(parseOptions([]).nodeFlags, [])
    assert.deepStrictEqual(
      parseOptions(["--node-flags=--no-allocation-site-pretenuring,--max-semi-space-size=32"]).nodeFlags,
      ["--no-allocation-site-pretenuring", "--max-semi-space-size=32"]
    )
    assert.throws(() => parseOptions(["--node-flags=expose-gc"]), /takes Node options/)
    assert.throws(() => parseOptions(["--node-flags=--expose-gc", "--in-process"]), /not with --in-process/)
  })

  it("--tracing: untraced unless told, one mode for the bench, a list (or every mode) for bench:cpu", () => {
    assert.strictEqual(parseOptions([]).tracing, "none")
    assert.strictEqual(parseOptions(["--tracing"]).tracing, "none")
    for (const mode of tracingModes) assert.strictEqual(parseOptions([`--tracing=${mode}`]).tracing, mode)
    assert.strictEqual(parseOptions(["--tls", "--serializer=json", "--tracing=disabled"]).tracing, "disabled")
    assert.throws(() => parseOptions(["--tracing=on"]), /unknown tracing mode on/)
    assert.throws(() => parseOptions(["--tracing=otel,none"]), /unknown tracing mode otel,none/)
    assert.deepStrictEqual(tracingList(""), ["none", "otel", "sampled0", "disabled"])
    assert.deepStrictEqual(tracingList("otel,none"), ["otel", "none"])
    assert.throws(() => tracingList("none,off"), /unknown tracing mode off: one of none, otel, sampled0, disabled/)
  })

  it("--protocol: binary unless told; meta puts our sides over meta beside the peers, both pairs each with its twin", () => {
    assert.deepStrictEqual(parseOptions([]).protocols, ["binary"])
    assert.deepStrictEqual(parseProtocols("meta"), ["meta"])
    for (const both of ["both", "binary,meta", "meta,binary"]) {
      assert.deepStrictEqual(parseProtocols(both), ["binary", "meta"])
    }
    assert.throws(() => parseProtocols("ascii"), /unknown protocol ascii: binary, meta or both/)
    const v3 = (argv: ReadonlyArray<string>) => parseOptions(argv).sides.filter((side) => !isV4Side(side))
    assert.deepStrictEqual(v3(["--protocol=meta"]), [
      "memjs",
      "memcache-client",
      "memcache",
      "cache-meta",
      "facade-meta"
    ])
    assert.deepStrictEqual(v3(["--protocol=both"]), ["cache", "cache-meta", "facade", "facade-meta"])
    assert.deepStrictEqual(v3(["--protocol=both", "--serializer=json"]), [
      "cache",
      "cache-meta",
      "facade",
      "facade-meta",
      "defaults",
      "defaults-meta"
    ])
    assert.deepStrictEqual(defaultSides("default", false, true, ["meta"]), [
      "memjs",
      "memcache-client",
      "memcache",
      "cache-meta",
      "facade-meta"
    ])
    // --sides may add the peers; every side of ours must speak a protocol the run names.
    assert.deepStrictEqual(v3(["--protocol=both", "--sides=memjs,cache-meta,cache"]), ["memjs", "cache", "cache-meta"])
    assert.throws(
      () => parseOptions(["--sides=cache-meta"]),
      /side cache-meta speaks meta, which --protocol=binary leaves out/
    )
    assert.throws(() => parseOptions(["--protocol=meta", "--sides=memjs,cache"]), /side cache speaks binary/)
    assert.throws(() => parseOptions(["--protocol=both", "--tls"]), /cannot go with --tls/)
    assert.throws(() => parseOptions(["--protocol=meta", "--heap"]), /cannot go with --heap/)
    assert.deepStrictEqual(parseOptions(["--protocol=binary", "--tls"]).sides, [
      "cache",
      "facade",
      "cache-tls",
      "facade-tls"
    ])
  })
})
