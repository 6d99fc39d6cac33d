/**
 * `npm run bench`: our `Cache` service and `MemcachedCache` facade against the Node clients users would pick instead
 * (raw memjs, memcache-client, memcache), each side in a process of its own (or all in this one, `--in-process`),
 * against one memcached (`-t 2`, loopback, free port) that the bench starts and stops itself.
 *
 * For each workload, every repetition gives each side its time in slices that take turns (the order rotated each
 * slice), so that machine drift hits all sides alike. Reported numbers are medians over the repetitions. See
 * bench/README.md.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import * as inspector from "node:inspector/promises"
import * as path from "node:path"
import { type Contestant, openContestant, type SideOptions, withDeadlines } from "./support/contestant.js"
import { benchDir, environment, fileStamp, getGc, type Options, parseOptions } from "./support/env.js"
import { heapReport, runHeap } from "./support/heap.js"
import { compileLibrary, DEFAULTS, type Library, loadLibrary } from "./support/library.js"
import { startMemcached } from "./support/memcached.js"
import { spawnContestant } from "./support/remote.js"
import { runRepetition, sliceCount, type Window } from "./support/repetition.js"
import type { Cell } from "./support/report.js"
import {
  checkTargets,
  compareTwins,
  type Comparison,
  comparisonMarkdown,
  comparisonText,
  judgedSides,
  markdownTable,
  rawMarkdown,
  summarize,
  targetsMarkdown,
  targetsText,
  textTable,
  type Twins
} from "./support/report.js"
import { metaSides, type SideId, sideInfo, sideLabels, tlsSides } from "./support/sides.js"
import { formatNumber } from "./support/stats.js"
import { type BenchCertificate, makeCertificate } from "./support/tls.js"
import { compileV4Library, describeV4Line, isV4Side } from "./support/v4-line.js"
import { makeDataSets, workloads } from "./support/workloads.js"

const log = (line: string) => process.stderr.write(`${line}\n`)

const elapsed = (since: number) => {
  const seconds = Math.floor((performance.now() - since) / 1000)
  return `${String(Math.floor(seconds / 60)).padStart(2, "0")}:${String(seconds % 60).padStart(2, "0")}`
}

/**
 * Internal (bench/profile.ts): with BENCH_ALLOC_PROFILE=<file>, V8's sampling heap profiler runs over the measured
 * cells, counting objects that the GC already collected too, and its profile is written to that file. Warm-ups run
 * before it starts; with one workload and one side, it sees exactly the measured operations.
 */
const startAllocationSampling = async () => {
  const file = process.env["BENCH_ALLOC_PROFILE"]
  if (file === undefined) return undefined
  const session = new inspector.Session()
  session.connect()
  await session.post("HeapProfiler.startSampling", {
    samplingInterval: 512,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true
  } as inspector.HeapProfiler.StartSamplingParameterType)
  return {
    stop: async () => {
      const { profile } = await session.post("HeapProfiler.stopSampling")
      writeFileSync(file, JSON.stringify(profile))
      session.disconnect()
    }
  }
}

/**
 * Opens every side: each in a process of its own, started together, or (`--in-process`) here, one by one. The TLS
 * sides connect to `tls`.
 */
const openContestants = async (
  options: Options,
  address: string,
  tls: SideOptions["tls"]
): Promise<Array<Contestant>> => {
  const sideOptions: SideOptions = {
    address,
    serializer: options.serializer,
    tracing: options.tracing,
    buffers: options.buffers,
    keys: options.keys,
    tls
  }
  if (!options.inProcess) {
    if (
      options.sides.some((side) =>
        side !== "memjs" && side !== "memjs-aa" && side !== "memcache-client" && side !== "memcache"
      )
    ) {
      compileLibrary(options.fromSource, log)
    }
    if (options.sides.some(isV4Side)) compileV4Library(options.fromSource, log)
    const opened = await Promise.allSettled(
      options.sides.map((id) =>
        spawnContestant({ ...sideOptions, id, fromSource: options.fromSource }, options.nodeFlags)
      )
    )
    const failed = opened.find((result) => result.status === "rejected")
    const contestants = opened.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []))
    if (failed) {
      for (const contestant of contestants) await contestant.close()
      throw failed.reason
    }
    return contestants
  }
  let lib: Promise<Library> | undefined
  const library = () => (lib ??= loadLibrary(options.fromSource, log))
  const contestants: Array<Contestant> = []
  try {
    for (const id of options.sides) contestants.push(await openContestant(library, id, sideOptions, false))
  } catch (error) {
    for (const contestant of contestants) await contestant.close()
    throw error
  }
  return contestants
}

const describeSide = (side: SideId, serializer: string): string => {
  const chosen = serializer === DEFAULTS ? "" : `, serializer: "${serializer}"`
  switch (side) {
    case "memjs":
    case "memjs-aa":
      return `raw memjs, promise API (\`Client.create(addr, { logger })\`)${
        side === "memjs-aa" ? "; a second one, the A/A control" : ""
      }`
    case "memcache-client":
      return "electrode's memcache-client, `new MemcacheClient({ server: addr })`; getMany is `get([keys])`"
    case "memcache":
      return "jaredwray's memcache, `new Memcache(addr)`; getMany is `gets(keys)`"
    case "cache":
      return `the \`Cache\` service (${
        serializer === DEFAULTS
          ? "`MemcachedLive`, configured with `MEMCACHED_SERVERS` only"
          : `\`Cache.layerMemcached({ servers })\` + \`Serializer.${serializer}\``
      }); the workload runs inside Effect as N fibers, each running one operation after another`
    case "cache-rp":
      return "the same `Cache` service, one `runtime.runPromise(…)` per operation from async code"
    case "facade":
      return `\`new MemcachedCache({ servers${chosen} })\`, promise API`
    case "defaults":
      return "`new MemcachedCache({ servers })`, promise API: the facade at its defaults"
    case "cache-tls":
      return `the \`Cache\` side over TLS, to the same memcached's TLS port (${
        serializer === DEFAULTS ? "`MemcachedLive` with `MEMCACHED_TLS_CA_FILE`" : "`tls: { ca }`"
      })`
    case "facade-tls":
      return "the facade side over TLS, `new MemcachedCache({ servers, tls: { ca } })`"
    case "cache-meta":
      return `the \`Cache\` side over memcached's meta protocol (${
        serializer === DEFAULTS
          ? "`MemcachedLive` with `MEMCACHED_PROTOCOL=meta`"
          : `\`Cache.layerMemcached({ servers, protocol: "meta" })\` + \`Serializer.${serializer}\``
      })`
    case "facade-meta":
      return `\`new MemcachedCache({ servers, protocol: "meta"${chosen} })\`, the facade side over meta`
    case "defaults-meta":
      return "`new MemcachedCache({ servers, protocol: \"meta\" })`: the facade at its defaults but the protocol"
    case "cache-v4":
    case "facade-v4":
    case "defaults-v4":
    case "cache-meta-v4":
    case "facade-meta-v4":
    case "defaults-meta-v4":
      return `the Effect 4 line's (effect4/) counterpart of ${describeSide(side.slice(0, -3) as SideId, serializer)}`
  }
}

const runBench = async (options: Options) => {
  const startedAt = new Date()
  const t0 = performance.now()
  // In one process, a gc before each slice keeps one side's garbage off another's time; in a process per side, each
  // side pays for its own garbage, as a user's process does.
  const gc = options.inProcess ? getGc() : undefined
  const selected = options.only ? workloads.filter((w) => options.only!.includes(w.id)) : workloads
  const totalCells = selected.length * options.sides.length * options.reps
  const mode = options.inProcess
    ? "every side in this process"
    : `one process per side${options.nodeFlags.length > 0 ? ` (node ${options.nodeFlags.join(" ")})` : ""}`
  log(
    `bench: ${
      options.quick ? "quick" : "full"
    } mode, ${mode}, ${selected.length} workloads × ${options.sides.length} sides × ${options.reps} reps ` +
      `= ${totalCells} cells of ${options.durationMs} ms, in slices of ${options.sliceMs} ms that take turns ` +
      `(+ ${options.warmupMs} ms warm-up per workload and side)` +
      (options.inProcess && !gc ? "; no gc() between cells" : "")
  )
  const certificate: BenchCertificate | undefined = options.tls ? makeCertificate() : undefined
  const server = await startMemcached({ reqsPerEvent: options.reqsPerEvent, tls: certificate }).catch((error) => {
    certificate?.remove()
    throw error
  })
  log(`bench: ${server.version} on ${server.address} (pid ${server.pid}): ${server.args.join(" ")}`)
  const tls = certificate && server.tlsAddress
    ? { address: server.tlsAddress, caFile: certificate.certFile }
    : undefined
  const env = {
    ...environment(server),
    measured: options.fromSource
      ? "src/ through tsx (esbuild, keepNames; --src)"
      : "src/ compiled by tsc (bench/.build/dist)",
    mode,
    serializer: options.serializer === DEFAULTS ? "defaults (what users get)" : options.serializer,
    protocol: options.protocols.join(" and "),
    tracing: options.tracing
  }
  const windows: Array<Window> = []
  let contestants: Array<Contestant> = []
  try {
    contestants = (await openContestants(options, server.address, tls)).map((contestant) => withDeadlines(contestant))
    log(`bench: ${contestants.map((side) => side.label).join(", ")} connected, keys written (${elapsed(t0)})`)

    // One warm-up over a mixed workload per side first, so that the first workload does not pay for the JIT. Each
    // side's process has its own JIT to warm: they warm up together, for longer.
    const warmUp = async (contestant: Contestant, ms: number) => {
      await contestant.begin("mix-c64")
      await contestant.warm(ms)
      await contestant.end()
    }
    if (options.inProcess) { for (const contestant of contestants) await warmUp(contestant, options.warmupMs * 3) }
    else await Promise.all(contestants.map((contestant) => warmUp(contestant, Math.max(500, options.warmupMs * 5))))
    const cells: Array<Cell> = []
    let done = 0
    let allocation: Awaited<ReturnType<typeof startAllocationSampling>>
    for (const workload of selected) {
      for (const contestant of contestants) await contestant.begin(workload.id)
      for (const contestant of contestants) {
        const misses = await contestant.warm(options.warmupMs)
        if (misses > 0) throw new Error(`${contestant.label} ${workload.id}: ${misses} misses in warm-up`)
      }
      // Started after the first workload's warm-ups: with one workload (bench/profile.ts), it sees only measured cells.
      allocation ??= await startAllocationSampling()
      const slices = sliceCount(workload, options.durationMs, options.sliceMs)
      for (let rep = 0; rep < options.reps; rep++) {
        const repetition = await runRepetition(
          contestants,
          workload,
          rep,
          { durationMs: options.durationMs, slices, quick: options.quick },
          server.pid,
          gc,
          windows
        )
        for (const cell of repetition) {
          cells.push(cell)
          done++
          log(
            `[${String(done).padStart(String(totalCells).length)}/${totalCells} ${elapsed(t0)}] ${
              workload.id.padEnd(12)
            } ` +
              `rep ${rep + 1}/${options.reps}  ${sideLabels[cell.side].padEnd(15)} ${
                formatNumber(cell.opsPerSec).padStart(8)
              } ` +
              `${workload.unit === "batch" ? "batches/s" : "ops/s"}  p50 ${formatNumber(cell.p50)} µs  p99 ${
                formatNumber(cell.p99)
              } µs  cpu ${formatNumber(cell.cpuPerOpUs)} µs/op (sys ${formatNumber(cell.sysPerOpUs)}, gc ${
                formatNumber(cell.gcPerOpUs)
              }, ${cell.majorGcs} full)  memcached ${formatNumber(cell.serverCpuPerOpUs)} µs/op  ${
                formatNumber(cell.segmentsPerOp)
              } segs/op  other load ${cell.otherCpuPct.toFixed(0)}%` +
              (cell.misses ? `  ${cell.misses} MISSES` : "")
          )
        }
      }
      for (const contestant of contestants) await contestant.end()
    }

    await allocation?.stop()
    const summaries = summarize(cells, selected, options.sides)
    const targets = checkTargets(cells, summaries, options.sides)
    const comparisons: ReadonlyArray<{ title: string; twins: Twins; rows: ReadonlyArray<Comparison> }> = [
      { title: "TLS against plain", twins: { twin: "plain", side: "TLS" }, pairs: tlsSides },
      { title: "meta against binary", twins: { twin: "binary", side: "meta" }, pairs: metaSides }
    ].map(({ pairs, ...rest }) => ({ ...rest, rows: compareTwins(cells, selected, options.sides, pairs) }))
      .filter(({ rows }) => rows.length > 0)
    const seconds = (performance.now() - t0) / 1000
    const busiest = Math.max(...cells.map((cell) => cell.otherCpuPct).filter((value) => !Number.isNaN(value)))
    const noisy = busiest > 10
      ? `WARNING: other processes used up to ${busiest.toFixed(0)}% of the machine's CPU during the run; ` +
        "the numbers are noisy (see the `other load` column).\n"
      : ""
    const notes = [
      ...(options.reqsPerEvent === undefined
        ? []
        : [
          `NOTE: memcached ran with -R ${options.reqsPerEvent}, not its default (20); the targets are judged at the default.`
        ]),
      ...(options.serializer === DEFAULTS
        ? []
        : [
          `NOTE: ${
            judgedSides(options.sides).filter((side) => !side.startsWith("defaults")).map((side) => sideLabels[side])
              .join(
                " and "
              )
          } ran with serializer ${options.serializer}; the targets are judged at defaults` +
          (options.sides.includes("defaults") ? " (the defaults side)." : ".")
        ]),
      ...(options.tracing === "none"
        ? []
        : [
          `NOTE: our sides ran traced (--tracing=${options.tracing}: see bench/support/tracing.ts); the targets are ` +
          "judged untraced."
        ]),
      ...(options.inProcess ? ["NOTE: every side ran in one process (--in-process)."] : []),
      ...(options.sides.some(isV4Side) ? [`NOTE: ${describeV4Line(options.fromSource || options.inProcess)}.`] : [])
    ].map((line) => `${line}\n`).join("")
    // The targets are ratios to the peers: a run without peers (`--tls`, `--protocol=both`) has none to judge.
    const judged = options.sides.some((side) => sideInfo[side].peer)
    process.stdout.write(
      `\n${textTable(summaries)}\n\n` +
        (judged
          ? `Targets of issue 20 (medians of ${options.reps} repetitions; ranges over them):\n${
            targetsText(targets)
          }\n\n`
          : "") +
        comparisons.map(({ rows, title, twins }) =>
          `${title} (medians of ${options.reps} repetitions; ranges over them):\n${comparisonText(rows, twins)}\n\n`
        ).join("") +
        `${env.node}, effect ${env.effect}, memjs ${env.memjs}, memcache-client ${
          env["memcache-client"]
        }, memcache ${env.memcache}, ${env.memcached}, ${env.cpu}; measured ${env.measured}, ${mode}, serializer ${env.serializer}, protocol ${env.protocol}, tracing ${env.tracing}; ` +
        `load average ${env.loadavg} at the start; ${seconds.toFixed(0)} s\n` +
        noisy + notes
    )

    if (options.windowsFile) writeFileSync(options.windowsFile, JSON.stringify(windows))
    if (options.write) {
      const markdown = [
        `# effect-memcached benchmark, ${startedAt.toISOString()}${options.quick ? " (quick)" : ""}`,
        "",
        `Medians of ${options.reps} repetitions of ${options.durationMs} ms per workload and side, ${mode}. Each ` +
        `repetition runs in slices of ${options.sliceMs} ms (longer for 500 KiB values) that take turns ` +
        `(${options.sides.map((s) => sideLabels[s]).join(", ")}, the order rotated each slice), after ` +
        `${options.warmupMs} ms of warm-up per workload and side${
          gc
            ? `, with a ${
              options.quick ? "young-generation" : "full"
            } gc before every repetition and a young-generation one before every slice`
            : ""
        }. Run took ${seconds.toFixed(0)} s.`,
        "",
        ...(noisy ? [`> ${noisy.trim()}`, ""] : []),
        ...(notes ? [`> ${notes.trim().split("\n").join("\n> ")}`, ""] : []),
        ...options.sides.map((side) => `- **${sideLabels[side]}**: ${describeSide(side, options.serializer)}.`),
        "",
        `Values: ${options.buffers ? "Buffers" : "ASCII strings"} (100 B unless stated) under ` +
        `${formatNumber(options.keys)} keys (10 KiB: 256, 500 KiB: 32); each side writes its own keys with its own ` +
        "client before the run. Gets always hit. " +
        "`ops/s` counts operations, or batches for getMany. " +
        "`× memjs` is ops/s over memjs's and `× best peer` over the best peer's (memjs, memcache-client, memcache; for " +
        "getMany the native multi-gets), repetition by repetition: the median (and the range). p50/p99 are per-operation latencies. `CPU µs/op` is the side's process's user+system CPU " +
        "(`process.cpuUsage`, every thread) per operation" +
        (options.inProcess
          ? ", counted within its slices"
          : ", from the start of its first slice in a repetition to the end of its last") +
        "; memcached's CPU per operation is `memcached µs/op`. `spread` is " +
        "(max − min) / median of ops/s over the repetitions. `other load` is the largest share of the machine's CPU " +
        "that other processes used during a repetition (from /proc/stat): above ~10% the numbers are noisy.",
        "",
        markdownTable(summaries),
        "",
        ...(judged ? ["## Targets of issue 20", "", targetsMarkdown(targets), ""] : []),
        ...comparisons.flatMap(({ rows, title, twins }) => [
          `## ${title[0]!.toUpperCase()}${title.slice(1)}`,
          "",
          comparisonMarkdown(rows, twins),
          ""
        ]),
        "## Environment",
        "",
        ...Object.entries(env).map(([key, value]) => `- ${key}: ${value}`),
        "",
        "<details><summary>Every repetition</summary>",
        "",
        rawMarkdown(cells),
        "",
        "</details>",
        ""
      ].join("\n")
      const dir = path.join(benchDir, "results")
      mkdirSync(dir, { recursive: true })
      const name = `${fileStamp(startedAt)}${options.quick ? "-quick" : ""}.md`
      writeFileSync(path.join(dir, name), markdown)
      writeFileSync(path.join(dir, options.quick ? "latest-quick.md" : "latest.md"), markdown)
      log(`bench: wrote bench/results/${name} and bench/results/${options.quick ? "latest-quick.md" : "latest.md"}`)
    }
  } finally {
    for (const contestant of contestants) await contestant.close().catch(() => {})
    await server.stop()
    certificate?.remove()
  }
}

const runHeapMode = async (options: Options) => {
  const gc = getGc()
  if (!gc) throw new Error("--heap needs gc(): run node with --expose-gc")
  const startedAt = new Date()
  const server = await startMemcached()
  log(`bench --heap: ${server.version} on ${server.address}; ${formatNumber(options.heapOps)} Cache operations`)
  try {
    const result = await runHeap(
      await loadLibrary(options.fromSource, log),
      server.address,
      options.serializer,
      makeDataSets(options.buffers, "hp", options.keys).get(100)!,
      options.heapOps,
      gc,
      log
    )
    const env = environment(server)
    const report = heapReport(
      result,
      `# effect-memcached heap check, ${startedAt.toISOString()}\n\n${env.node}, effect ${env.effect}, memjs ${env.memjs}, ` +
        `${env.memcached}; source: ${env.source}; serializer ${options.serializer}; measured ${
          options.fromSource ? "src/ through tsx" : "src/ compiled by tsc"
        }`
    )
    process.stdout.write(`\n${report}\n`)
    if (options.write) {
      const dir = path.join(benchDir, "results")
      mkdirSync(dir, { recursive: true })
      const name = `heap-${fileStamp(startedAt)}.md`
      writeFileSync(path.join(dir, name), `${report}\n`)
      log(`bench: wrote bench/results/${name}`)
    }
  } finally {
    await server.stop()
  }
}

const main = async () => {
  const options = parseOptions(process.argv.slice(2))
  if (options.heap) await runHeapMode(options)
  else await runBench(options)
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    log(`bench failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`)
    process.exit(1)
  }
)
