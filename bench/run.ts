/**
 * `npm run bench`: raw memjs vs the `Cache` service vs the `MemcachedCache` facade, interleaved in one process against
 * one memcached (`-t 2`, loopback, free port) that the bench starts and stops itself.
 *
 * For each workload, every repetition gives each side its time in slices that take turns (memjs, (memjs·A/A,) Cache,
 * (Cache·rp,) facade, the order rotated each slice), so that machine drift hits all sides alike. Reported numbers are
 * medians over the repetitions. See bench/README.md.
 */
import * as Memjs from "memjs"
import { mkdirSync, writeFileSync } from "node:fs"
import * as inspector from "node:inspector/promises"
import * as path from "node:path"
import { benchDir, environment, fileStamp, getGc, type Options, parseOptions } from "./support/env.js"
import { heapReport, runHeap } from "./support/heap.js"
import { loadLibrary } from "./support/library.js"
import { startMemcached } from "./support/memcached.js"
import { type Running, runRepetition, sliceCount, type Window } from "./support/repetition.js"
import type { Cell } from "./support/report.js"
import {
  checkTargets,
  markdownTable,
  rawMarkdown,
  summarize,
  targetsMarkdown,
  targetsText,
  textTable
} from "./support/report.js"
import { makeSide, type Side, sideLabels } from "./support/sides.js"
import { formatNumber, Recorder } from "./support/stats.js"
import { type DataSet, makeDataSets, workloads } from "./support/workloads.js"

const log = (line: string) => process.stderr.write(`${line}\n`)

const elapsed = (since: number) => {
  const seconds = Math.floor((performance.now() - since) / 1000)
  return `${String(Math.floor(seconds / 60)).padStart(2, "0")}:${String(seconds % 60).padStart(2, "0")}`
}

/** Writes every key of every data set once, through raw memjs, so that each get hits. */
const preload = async (address: string, dataSets: ReadonlyMap<number, DataSet>) => {
  const client = Memjs.Client.create(address, { logger: { log: () => {} }, retries: 1 })
  try {
    for (const data of dataSets.values()) {
      for (let i = 0; i < data.keys.length; i += 16) {
        await Promise.all(data.keys.slice(i, i + 16).map((key) => client.set(key, data.value, { expires: 0 })))
      }
    }
  } finally {
    client.close()
  }
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

const sanityCheck = async (sides: ReadonlyArray<Side>, dataSets: ReadonlyMap<number, DataSet>) => {
  for (const side of sides) {
    for (const data of dataSets.values()) {
      const length = await side.probe(data.keys[0]!)
      if (length !== data.size) {
        throw new Error(`${side.label}: get ${data.keys[0]} gave length ${String(length)}, expected ${data.size}`)
      }
    }
  }
}

const runBench = async (options: Options) => {
  const startedAt = new Date()
  const t0 = performance.now()
  const gc = getGc()
  const selected = options.only ? workloads.filter((w) => options.only!.includes(w.id)) : workloads
  const totalCells = selected.length * options.sides.length * options.reps
  log(
    `bench: ${
      options.quick ? "quick" : "full"
    } mode, ${selected.length} workloads × ${options.sides.length} sides × ${options.reps} reps ` +
      `= ${totalCells} cells of ${options.durationMs} ms, in slices of ${options.sliceMs} ms that take turns ` +
      `(+ ${options.warmupMs} ms warm-up per workload and side)` +
      (gc ? "" : "; no gc() between cells")
  )
  const server = await startMemcached({ reqsPerEvent: options.reqsPerEvent })
  log(`bench: ${server.version} on ${server.address} (pid ${server.pid}): ${server.args.join(" ")}`)
  const env = {
    ...environment(server),
    measured: options.fromSource
      ? "src/ through tsx (esbuild, keepNames; --src)"
      : "src/ compiled by tsc (bench/.build/dist)"
  }
  const windows: Array<Window> = []
  const sides: Array<Side> = []
  try {
    const dataSets = makeDataSets(options.buffers)
    await preload(server.address, dataSets)
    const lib = await loadLibrary(options.fromSource, log)
    for (const id of options.sides) sides.push(await makeSide(lib, id, server.address, options.serializer))
    await sanityCheck(sides, dataSets)
    log(`bench: ${sides.map((side) => side.label).join(", ")} connected, keys written (${elapsed(t0)})`)

    const recorders = sides.map(() => new Recorder())
    // One warm-up over a mixed workload per side first, so that the first workload does not pay for the JIT.
    const warmMix = workloads.find((w) => w.id === "mix-c64")!
    for (const [index, side] of sides.entries()) {
      const workers = side.start(warmMix, dataSets.get(warmMix.size)!, recorders[index]!)
      await workers.run(performance.now() + options.warmupMs * 3)
      await workers.stop()
    }
    const cells: Array<Cell> = []
    let done = 0
    let allocation: Awaited<ReturnType<typeof startAllocationSampling>>
    for (const workload of selected) {
      const data = dataSets.get(workload.size)!
      const running: Array<Running> = sides.map((side, index) => ({
        side,
        workers: side.start(workload, data, recorders[index]!)
      }))
      for (const { side, workers } of running) {
        const recorder = workers.recorder
        recorder.reset()
        await workers.run(performance.now() + options.warmupMs)
        if (recorder.misses > 0) throw new Error(`${side.label} ${workload.id}: ${recorder.misses} misses in warm-up`)
      }
      // Started after the first workload's warm-ups: with one workload (bench/profile.ts), it sees only measured cells.
      allocation ??= await startAllocationSampling()
      const slices = sliceCount(workload, options.durationMs, options.sliceMs)
      for (let rep = 0; rep < options.reps; rep++) {
        const repetition = await runRepetition(
          running,
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
              `rep ${rep + 1}/${options.reps}  ${sideLabels[cell.side].padEnd(8)} ${
                formatNumber(cell.opsPerSec).padStart(8)
              } ` +
              `${workload.unit === "batch" ? "batches/s" : "ops/s"}  p50 ${formatNumber(cell.p50)} µs  p99 ${
                formatNumber(cell.p99)
              } µs  cpu ${formatNumber(cell.cpuPerOpUs)} µs/op (sys ${formatNumber(cell.sysPerOpUs)})  memcached ${
                formatNumber(cell.serverCpuPerOpUs)
              } µs/op  ${formatNumber(cell.segmentsPerOp)} segs/op  other load ${cell.otherCpuPct.toFixed(0)}%` +
              (cell.misses ? `  ${cell.misses} MISSES` : "")
          )
        }
      }
      for (const { workers } of running) await workers.stop()
    }

    await allocation?.stop()
    const summaries = summarize(cells, selected, options.sides)
    const targets = checkTargets(summaries)
    const seconds = (performance.now() - t0) / 1000
    const busiest = Math.max(...cells.map((cell) => cell.otherCpuPct).filter((value) => !Number.isNaN(value)))
    const noisy = busiest > 10
      ? `WARNING: other processes used up to ${busiest.toFixed(0)}% of the machine's CPU during the run; ` +
        "the numbers are noisy (see the `other load` column).\n"
      : ""
    const tuned = options.reqsPerEvent === undefined
      ? ""
      : `NOTE: memcached ran with -R ${options.reqsPerEvent}, not its default (20); the targets are judged at the ` +
        "default.\n"
    process.stdout.write(
      `\n${textTable(summaries)}\n\nTargets (medians of ${options.reps} repetitions):\n${targetsText(targets)}\n\n` +
        `${env.node}, effect ${env.effect}, memjs ${env.memjs}, ${env.memcached}, ${env.cpu}; measured ${env.measured}; ` +
        `${seconds.toFixed(0)} s\n` +
        noisy + tuned
    )

    if (options.windowsFile) writeFileSync(options.windowsFile, JSON.stringify(windows))
    if (options.write) {
      const markdown = [
        `# effect-memcached benchmark, ${startedAt.toISOString()}${options.quick ? " (quick)" : ""}`,
        "",
        `Medians of ${options.reps} repetitions of ${options.durationMs} ms per workload and side. Each ` +
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
        ...(tuned ? [`> ${tuned.trim()}`, ""] : []),
        "- **memjs**: raw memjs, promise API (`Client.create(addr, { logger, retries: 1 })`).",
        `- **Cache**: the \`Cache\` service (\`Cache.layerMemcached({ servers })\` + \`Serializer.${options.serializer}\`${
          options.serializer === "bytes" ? ": Buffers back, as raw memjs gives" : ""
        }); the whole workload runs ` +
        "inside Effect as N fibers, each running one operation after another (as the memjs side runs N async loops).",
        ...(options.sides.includes("cache-rp")
          ? ["- **Cache·rp**: the same service, one `runtime.runPromise(…)` per operation from async code."]
          : []),
        `- **facade**: \`new MemcachedCache({ servers, serializer: "${options.serializer}" })\`, promise API.`,
        "",
        `Values: ${options.buffers ? "Buffers" : "ASCII strings"} (100 B unless stated). Gets always hit. ` +
        "`ops/s` counts operations, or batches for getMany (raw memjs: 100 concurrent gets per batch). " +
        "`× memjs` is the median ops/s over memjs's median ops/s. p50/p99 are per-operation latencies. " +
        "`CPU µs/op` is the client process's user+system CPU (`process.cpuUsage`) per operation; memcached runs in " +
        "its own process and is not counted; its CPU per operation is `memcached µs/op`. `spread` is " +
        "(max − min) / median of ops/s over the repetitions. `other load` is the largest share of the machine's CPU " +
        "that other processes used during a repetition (from /proc/stat): above ~10% the numbers are noisy.",
        "",
        markdownTable(summaries),
        "",
        "## Targets",
        "",
        targetsMarkdown(targets),
        "",
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
    for (const side of sides) await side.close().catch(() => {})
    await server.stop()
  }
}

const runHeapMode = async (options: Options) => {
  const gc = getGc()
  if (!gc) throw new Error("--heap needs gc(): run node with --expose-gc")
  const startedAt = new Date()
  const server = await startMemcached()
  log(`bench --heap: ${server.version} on ${server.address}; ${formatNumber(options.heapOps)} Cache operations`)
  try {
    const data = makeDataSets(options.buffers).get(100)!
    await preload(server.address, new Map([[100, data]]))
    const result = await runHeap(
      await loadLibrary(options.fromSource, log),
      server.address,
      data,
      options.heapOps,
      gc,
      log
    )
    const env = environment(server)
    const report = heapReport(
      result,
      `# effect-memcached heap check, ${startedAt.toISOString()}\n\n${env.node}, effect ${env.effect}, memjs ${env.memjs}, ` +
        `${env.memcached}; source: ${env.source}; measured ${
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
