/**
 * `tsx bench/profile.ts [--duration=MS] [--targets=workload:side,…] [--interval=µs] [--top=N] [--no-alloc] [--src]`:
 * runs single workloads (one side each, one child process each, its own memcached) under `node --cpu-prof` (an Effect 4
 * side's own process: see `isV4`), then reads the main thread's `.cpuprofile` and summarises the samples taken while
 * the workload was measured (the bench writes those windows, as process.hrtime µs, to the file in
 * BENCH_PROFILE_WINDOWS): time per operation by area (Effect runtime, memjs, our src, Node internals, GC…) and the top
 * self-time functions. A second run per target (none for an Effect 4 side) samples allocations (V8's sampling heap
 * profiler, collected objects included) and reports bytes per operation by function.
 * Profiles go to bench/profiles/<stamp>/, the summary to stdout and bench/results/profile-<stamp>.md.
 */
import { spawn } from "node:child_process"
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { benchDir, fileStamp, repoDir } from "./support/env.js"
import type { Window } from "./support/repetition.js"

interface CallFrame {
  readonly functionName: string
  readonly url: string
  readonly lineNumber: number
  readonly columnNumber: number
}

interface ProfileNode {
  readonly id: number
  readonly callFrame: CallFrame
  readonly children?: ReadonlyArray<number>
}

interface CpuProfile {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly startTime: number
  readonly endTime: number
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

const DEFAULT_TARGETS = [
  "get-c16:cache",
  "get-c16:memjs",
  "get-c16:facade",
  "get-c256:cache",
  "get-c256:memjs",
  "get-500k-c16:cache",
  "get-500k-c16:memjs",
  "set-500k-c16:cache",
  "set-500k-c16:memjs",
  "getmany-100:cache",
  "getmany-100:memjs"
]

const args = new Map(
  process.argv.slice(2).map((arg) => {
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg)
    if (!match) throw new Error(`unknown argument ${arg}`)
    return [match[1]!, match[2] ?? ""] as const
  })
)
const durationMs = Number(args.get("duration") ?? 4000)
const intervalUs = Number(args.get("interval") ?? 250)
const targets = (args.get("targets") ?? DEFAULT_TARGETS.join(",")).split(",").filter((t) => t !== "")
const topN = Number(args.get("top") ?? 18)
const allocations = !args.has("no-alloc")
const fromSource = args.has("src")

const log = (line: string) => process.stderr.write(`${line}\n`)

/**
 * Whether `side` is one of the Effect 4 line's: it needs effect 4 and Node 24 in a process of its own, so its process,
 * not the coordinator's, is profiled.
 */
const isV4 = (side: string) => side.endsWith("-v4")

const childArgs = (workload: string, side: string, sideNodeFlags: ReadonlyArray<string> = []) => [
  "--import",
  "tsx",
  path.join(benchDir, "run.ts"),
  `--only=${workload}`,
  `--sides=${side}`,
  // Either dialect's sides (cache-meta, …) may be named.
  "--protocol=both",
  "--reps=1",
  `--duration=${durationMs}`,
  "--warmup=1000",
  // One side alone: nothing to take turns with, so one slice.
  `--slice=${durationMs}`,
  "--no-write",
  // The profile is of the coordinator's process, where the side then runs, unless the side needs its own.
  ...(sideNodeFlags.length > 0 ? [`--node-flags=${sideNodeFlags.join(",")}`] : ["--in-process"]),
  ...(fromSource ? ["--src"] : [])
]

const spawnChild = (name: string, nodeArgs: ReadonlyArray<string>, env: Record<string, string>): Promise<void> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, nodeArgs, {
      cwd: repoDir,
      env: { ...process.env, ...env },
      stdio: ["ignore", "ignore", "pipe"]
    })
    let stderr = ""
    child.stderr.setEncoding("utf8")
    child.stderr.on("data", (chunk: string) => {
      stderr += chunk
      for (const line of chunk.split("\n")) if (line.startsWith("[")) log(`  ${line}`)
    })
    child.once("error", reject)
    child.once(
      "exit",
      (code) => code === 0 ? resolve() : reject(new Error(`profile child for ${name} exited with ${code}:\n${stderr}`))
    )
  })

/** One run under --cpu-prof; returns the main thread's profile and the measured windows. */
const runCpuChild = async (workload: string, side: string, dir: string) => {
  const name = `${workload}-${side}`
  // With `--import tsx` the module hooks run on their own thread, which --cpu-prof profiles too: a fixed
  // --cpu-prof-name would let that thread's (idle) profile overwrite the main thread's. Node's default names carry
  // the thread id (CPU.<date>.<time>.<pid>.<tid>.<seq>.cpuprofile); the main thread is tid 0.
  const profileDir = path.join(dir, name)
  mkdirSync(profileDir, { recursive: true })
  const windows = path.join(dir, `${name}.windows.json`)
  const profiling = ["--cpu-prof", `--cpu-prof-dir=${profileDir}`, `--cpu-prof-interval=${intervalUs}`]
  // An Effect 4 side's own process is profiled; the coordinator writes the measured windows either way (process.hrtime
  // is CLOCK_MONOTONIC, the same clock in every process).
  await spawnChild(
    name,
    isV4(side) ? childArgs(workload, side, profiling) : [...profiling, ...childArgs(workload, side)],
    { BENCH_PROFILE_WINDOWS: windows }
  )
  const main = readdirSync(profileDir).find((file) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(file))
  if (!main) throw new Error(`no main-thread profile in ${profileDir}: ${readdirSync(profileDir).join(", ")}`)
  return { profile: path.join(profileDir, main), windows }
}

/** One run under V8's sampling heap profiler (collected objects included); returns the profile and the windows. */
const runAllocChild = async (workload: string, side: string, dir: string) => {
  const name = `${workload}-${side}`
  const windows = path.join(dir, `${name}.alloc-windows.json`)
  const profile = path.join(dir, `${name}.heapprofile`)
  await spawnChild(name, childArgs(workload, side), { BENCH_PROFILE_WINDOWS: windows, BENCH_ALLOC_PROFILE: profile })
  return { profile, windows }
}

type Area =
  | "Effect runtime"
  | "memjs"
  | "our src"
  | "bench harness"
  | "Node internals (JS)"
  | "native / VM"
  | "GC"
  | "idle"

const areaOf = (frame: CallFrame): Area => {
  const { url, functionName } = frame
  if (functionName === "(garbage collector)") return "GC"
  if (functionName === "(idle)") return "idle"
  if (url.includes("/node_modules/effect/")) return "Effect runtime"
  if (url.includes("/node_modules/memjs/")) return "memjs"
  if (url.includes(`${repoDir}/src/`) || url.includes(`${repoDir}/bench/.build/`)) return "our src"
  if (url.includes(`${repoDir}/bench/`)) return "bench harness"
  if (url.startsWith("node:")) return "Node internals (JS)"
  return "native / VM"
}

const shortUrl = (url: string) =>
  url
    .replace(/^file:\/\//, "")
    .replace(`${repoDir}/`, "")
    .replace(/^bench\/\.build\/dist\//, "dist/")
    .replace(/^bench\/\.build\/v4\//, "v4/")
    .replace(/^effect4\/node_modules\/effect\/dist\//, "effect/")
    .replace(/^node_modules\/effect\/dist\/esm\/internal\//, "effect/internal/")
    .replace(/^node_modules\/effect\/dist\/esm\//, "effect/")
    .replace(/^node_modules\/memjs\/lib\/memjs\//, "memjs/")

interface Summary {
  readonly name: string
  readonly ops: number
  readonly windowMs: number
  readonly sampledMs: number
  readonly areas: ReadonlyArray<readonly [Area, number]>
  readonly top: ReadonlyArray<{ readonly fn: string; readonly where: string; readonly area: Area; readonly ms: number }>
  readonly timebaseOk: boolean
}

const summarizeProfile = (name: string, profile: CpuProfile, windows: ReadonlyArray<Window>): Summary => {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  // Timestamps: V8's profiler clock and process.hrtime are both CLOCK_MONOTONIC on Linux; check that the windows
  // fall inside the profile, else fall back to the whole profile.
  const timebaseOk = windows.length > 0 &&
    windows.every((w) => w.start >= profile.startTime && w.end <= profile.endTime + 1_000_000)
  const inWindow = (t: number) => !timebaseOk || windows.some((w) => t >= w.start && t <= w.end)
  const selfUs = new Map<number, number>()
  let t = profile.startTime
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0
    t += delta
    // A sample's weight is the time until the next sample.
    const weight = profile.timeDeltas[i + 1] ?? intervalUs
    if (!inWindow(t)) continue
    const id = profile.samples[i]!
    selfUs.set(id, (selfUs.get(id) ?? 0) + weight)
  }
  const areas = new Map<Area, number>()
  const functions = new Map<string, { fn: string; where: string; area: Area; us: number }>()
  let sampled = 0
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame
    const area = areaOf(frame)
    sampled += us
    areas.set(area, (areas.get(area) ?? 0) + us)
    const fn = frame.functionName || "(anonymous)"
    const where = frame.url ? `${shortUrl(frame.url)}:${frame.lineNumber + 1}` : ""
    const key = `${fn}@${where}`
    const entry = functions.get(key) ?? { fn, where, area, us: 0 }
    entry.us += us
    functions.set(key, entry)
  }
  const windowUs = timebaseOk
    ? windows.reduce((total, w) => total + (w.end - w.start), 0)
    : profile.endTime - profile.startTime
  return {
    name,
    ops: windows.reduce((total, w) => total + w.ops, 0),
    windowMs: windowUs / 1000,
    sampledMs: sampled / 1000,
    areas: [...areas].sort((a, b) => b[1] - a[1]).map(([area, us]) => [area, us / 1000] as const),
    top: [...functions.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, topN)
      .map(({ fn, where, area, us }) => ({ fn, where, area, ms: us / 1000 })),
    timebaseOk
  }
}

interface HeapNode {
  readonly callFrame: CallFrame
  readonly selfSize: number
  readonly children: ReadonlyArray<HeapNode>
}

interface AllocationSummary {
  readonly ops: number
  readonly bytes: number
  readonly areas: ReadonlyArray<readonly [Area, number]>
  readonly top: ReadonlyArray<
    { readonly fn: string; readonly where: string; readonly area: Area; readonly bytes: number }
  >
}

const summarizeAllocation = (head: HeapNode, windows: ReadonlyArray<Window>): AllocationSummary => {
  const areas = new Map<Area, number>()
  const functions = new Map<string, { fn: string; where: string; area: Area; bytes: number }>()
  let bytes = 0
  const walk = (node: HeapNode) => {
    if (node.selfSize > 0) {
      const frame = node.callFrame
      const area = areaOf(frame)
      bytes += node.selfSize
      areas.set(area, (areas.get(area) ?? 0) + node.selfSize)
      const fn = frame.functionName || "(anonymous)"
      const where = frame.url ? `${shortUrl(frame.url)}:${frame.lineNumber + 1}` : ""
      const key = `${fn}@${where}`
      const entry = functions.get(key) ?? { fn, where, area, bytes: 0 }
      entry.bytes += node.selfSize
      functions.set(key, entry)
    }
    for (const child of node.children) walk(child)
  }
  walk(head)
  return {
    ops: windows.reduce((total, w) => total + w.ops, 0),
    bytes,
    areas: [...areas].sort((a, b) => b[1] - a[1]),
    top: [...functions.values()].sort((a, b) => b.bytes - a.bytes).slice(0, topN)
  }
}

const allocationMarkdown = (summary: AllocationSummary): string => {
  const perOp = (bytes: number) => (summary.ops > 0 ? Math.round(bytes / summary.ops).toLocaleString("en-US") : "–")
  return [
    `Allocation (V8 sampling heap profiler, separate run, collected objects included): **${
      perOp(summary.bytes)
    } bytes ` +
    `per op** over ${summary.ops.toLocaleString("en-US")} ops.`,
    "",
    "| area | bytes/op | % |",
    "|---|---:|---:|",
    ...summary.areas.map(([area, bytes]) =>
      `| ${area} | ${perOp(bytes)} | ${((bytes / summary.bytes) * 100).toFixed(1)} |`
    ),
    "",
    "| bytes/op | % | allocating function | where | area |",
    "|---:|---:|---|---|---|",
    ...summary.top.map((entry) =>
      `| ${perOp(entry.bytes)} | ${
        ((entry.bytes / summary.bytes) * 100).toFixed(1)
      } | \`${entry.fn}\` | ${entry.where} | ${entry.area} |`
    ),
    ""
  ].join("\n")
}

const markdownOf = (summary: Summary): string => {
  const perOp = (ms: number) => (summary.ops > 0 ? ((ms * 1000) / summary.ops).toFixed(2) : "–")
  const busy = summary.areas.filter(([area]) => area !== "idle").reduce((total, [, ms]) => total + ms, 0)
  const lines = [
    `### ${summary.name}`,
    "",
    `${summary.ops.toLocaleString("en-US")} ops in ${summary.windowMs.toFixed(0)} ms ` +
    `(${Math.round(summary.ops / (summary.windowMs / 1000)).toLocaleString("en-US")} ops/s under the profiler); ` +
    `busy ${((busy / summary.windowMs) * 100).toFixed(0)}% of the window, ${
      perOp(busy)
    } µs CPU per op on the main thread` +
    (summary.timebaseOk ? "" : " — **windows not found in the profile: whole profile used**"),
    "",
    "| area | ms | % of busy | µs/op |",
    "|---|---:|---:|---:|",
    ...summary.areas.map(([area, ms]) =>
      `| ${area} | ${ms.toFixed(0)} | ${area === "idle" ? "" : ((ms / busy) * 100).toFixed(1)} | ${perOp(ms)} |`
    ),
    "",
    "| self ms | % busy | µs/op | function | where | area |",
    "|---:|---:|---:|---|---|---|",
    ...summary.top
      .filter((entry) => entry.area !== "idle")
      .map((entry) =>
        `| ${entry.ms.toFixed(0)} | ${((entry.ms / busy) * 100).toFixed(1)} | ${
          perOp(entry.ms)
        } | \`${entry.fn}\` | ${entry.where} | ${entry.area} |`
      ),
    ""
  ]
  return lines.join("\n")
}

const main = async () => {
  const stamp = fileStamp(new Date())
  const dir = path.join(benchDir, "profiles", stamp)
  mkdirSync(dir, { recursive: true })
  const sections: Array<string> = []
  for (const target of targets) {
    const [workload, side] = target.split(":")
    if (!workload || !side) throw new Error(`bad target ${target}: use workload:side`)
    log(`profile: ${workload} on ${side} (${durationMs} ms under --cpu-prof)`)
    const files = await runCpuChild(workload, side, dir)
    const profile = JSON.parse(readFileSync(files.profile, "utf8")) as CpuProfile
    const windows = JSON.parse(readFileSync(files.windows, "utf8")) as Array<Window>
    const summary = summarizeProfile(`${workload} — ${side}`, profile, windows)
    let markdown = markdownOf(summary)
    if (allocations && isV4(side)) {
      // The sampling heap profiler runs inside the coordinator's process (BENCH_ALLOC_PROFILE), where no v4 side runs.
      markdown += "\nNo allocation profile: the Effect 4 sides run in a process of their own.\n"
    } else if (allocations) {
      log(`profile: ${workload} on ${side} (${durationMs} ms under the sampling heap profiler)`)
      const alloc = await runAllocChild(workload, side, dir)
      const head = (JSON.parse(readFileSync(alloc.profile, "utf8")) as { head: HeapNode }).head
      const allocWindows = JSON.parse(readFileSync(alloc.windows, "utf8")) as Array<Window>
      markdown += `\n${allocationMarkdown(summarizeAllocation(head, allocWindows))}`
    }
    process.stdout.write(`${markdown}\n`)
    sections.push(markdown)
  }
  const results = path.join(benchDir, "results")
  mkdirSync(results, { recursive: true })
  const out = path.join(results, `profile-${stamp}.md`)
  writeFileSync(
    out,
    `# CPU profiles, ${stamp}\n\n` +
      `node --cpu-prof (interval ${intervalUs} µs), ${durationMs} ms per workload after 1 s warm-up, one side per ` +
      `process, measuring ${
        fromSource ? "src/ through tsx (--src)" : "src/ compiled by tsc (bench/.build/dist, shown as dist/)"
      }; ` +
      `only samples inside the measured window count. Self time by area and the top functions; ` +
      `µs/op is main-thread time per operation (the native write frame includes time descheduled in the syscall). ` +
      `Allocation bytes count JS heap objects only, not Buffer backing stores. ` +
      `Raw profiles: bench/profiles/${stamp}/ (open in Chrome DevTools).\n\n` +
      sections.join("\n")
  )
  log(`profile: wrote ${path.relative(repoDir, out)}`)
}

main().catch((error: unknown) => {
  log(`profile failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`)
  process.exit(1)
})
