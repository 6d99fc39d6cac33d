/** Command line, environment description and a `gc()` that works without `--expose-gc`. */
import { spawnSync } from "node:child_process"
import { readFileSync } from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as v8 from "node:v8"
import * as vm from "node:vm"
import { allSides, metaSides, type Protocol, protocolOf, protocols, type SideId, tlsSides } from "./sides.js"
import { v4DefaultSides } from "./v4-line.js"
import { DEFAULT_KEYS, workloads } from "./workloads.js"

export const benchDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
export const repoDir = path.resolve(benchDir, "..")

/** `--tracing`: how our sides are traced (see tracing.ts, which builds each mode's tracer). */
export const tracingModes = ["none", "otel", "sampled0", "disabled"] as const
export type TracingMode = (typeof tracingModes)[number]

const isTracingMode = (mode: string): mode is TracingMode => (tracingModes as ReadonlyArray<string>).includes(mode)

/** `bench:cpu`'s `--tracing=MODE,MODE`, in that order; empty (a bare `--tracing`): every mode. */
export const tracingList = (list: string): ReadonlyArray<TracingMode> =>
  list === "" ? tracingModes : list.split(",").map((mode) => {
    if (!isTracingMode(mode)) throw new Error(`unknown tracing mode ${mode}: one of ${tracingModes.join(", ")}`)
    return mode
  })

export interface Options {
  readonly quick: boolean
  readonly heap: boolean
  readonly heapOps: number
  readonly only: ReadonlyArray<string> | undefined
  readonly sides: ReadonlyArray<SideId>
  readonly reps: number
  readonly durationMs: number
  /** A cell is run in slices of this length that take turns with the other sides' (see repetition.ts). */
  readonly sliceMs: number
  readonly warmupMs: number
  readonly write: boolean
  readonly buffers: boolean
  /** Keys of 100 B values. */
  readonly keys: number
  /** Our sides' serializer: "default" (what users get) or a name from `Serializer.formats`. */
  readonly serializer: string
  /** How our sides are traced (see tracing.ts). */
  readonly tracing: TracingMode
  /** Every side in the coordinator's process, instead of one process per side. */
  readonly inProcess: boolean
  /** Node options for every side's process (`--node-flags`), before its own. */
  readonly nodeFlags: ReadonlyArray<string>
  /** Measure src/ through tsx instead of src/ compiled by tsc into bench/.build/dist. */
  readonly fromSource: boolean
  /** memcached's `-R`: requests it serves on one connection before it turns to the others; undefined: its default. */
  readonly reqsPerEvent: number | undefined
  /** memcached also listens with TLS, for the TLS sides (`Cache·tls`, `facade·tls`). */
  readonly tls: boolean
  /** The dialects our sides speak (`--protocol`): binary (the default), meta, or both, each side beside its twin. */
  readonly protocols: ReadonlyArray<Protocol>
  /** Internal (bench/profile.ts): where to write the measured windows, as process.hrtime µs. */
  readonly windowsFile: string | undefined
}

const USAGE = `npm run bench [-- options]

  --quick            short cells (BENCH_QUICK=1 does the same); < 30 s
  --heap             1,000,000 Cache operations (90/10 get/set, 64 in flight); heapUsed before/after gc
  --heap-ops=N       operations for --heap (default 1000000)
  --only=ID,ID       workloads: ${workloads.map((w) => w.id).join(", ")}
  --sides=ID,ID      ${allSides.join(", ")}
                     (default: memjs, memcache-client, memcache, cache, facade, and defaults when --serializer
                     names one). memjs-aa is a second raw memjs side, an A/A control for the method's own noise;
                     cache-rp runs Cache with one runPromise per operation; defaults is the facade at its defaults
                     (cache-v4, facade-v4, defaults-v4: the same three on the Effect 4 line, effect4/, on Node
                     >= 22.19, effect4's Node 24 when this one is older; runs without --sides add them unless
                     --in-process)
  --in-process       every side in this one process (gc between slices, CPU counted within each slice), instead
                     of one process per side (CPU over each repetition, as a user's process pays it)
  --reps=N           repetitions per workload and side (default 3)
  --duration=MS      measured time per cell (default 1000; quick 60)
  --slice=MS         each cell runs in slices of this length, taking turns with the other sides' slices
                     (default 100, 250 for 500 KiB values; quick 60, one slice); --slice=1000 runs whole cells
  --warmup=MS        warm-up per workload and side before the first repetition (default 300; quick 40);
                     each side also warms up on the mixed workload for 3× this at the start
  --buffers          values are Buffers instead of ASCII strings
  --keys=N           keys of 100 B values (default ${DEFAULT_KEYS}; more than the library's cache of 4,096
                     encoded keys, as in an application with many keys)
  --serializer=NAME  the Cache and facade sides' serializer: default (what users get: MemcachedLive's and
                     new MemcachedCache({ servers })'s), or one of Serializer.formats: bytes (Buffers back, as
                     raw memjs gives), raw (strings back: V8 builds a string per read), json, structured, …
  --tracing=MODE     how our sides are traced: none (no tracer installed: no spans made; the default), otel
                     (@effect/opentelemetry over the OTel SDK with the AsyncLocalStorage context manager, spans
                     batched to an exporter that drops them), sampled0 (the same, sampler AlwaysOff), disabled
                     (the same tracer, layer option tracing: false)
  --node-flags=F,F   Node options for every side's process, peers' too (not with --in-process); e.g.
                     --node-flags=--no-allocation-site-pretenuring (see bench/README.md, "Effect 3 after a burst
                     of fibers")
  --src              measure src/ as tsx runs it, instead of src/ compiled by tsc into bench/.build/dist (what
                     package users run); tsx's esbuild transform adds __name(…) wrappers (keepNames) that cost CPU
  --reqs-per-event=N start memcached with -R N (its default is 20: a 100-key getMany is then served in six turns,
                     each with its own send and event-loop pass). The targets are judged at the default
  --tls              memcached also listens with TLS (a self-signed certificate made with openssl), and the sides
                     are Cache and facade over plain TCP and over TLS (cache-tls, facade-tls), taking turns;
                     the report adds TLS against plain: ops/s and CPU µs/op, repetition by repetition
  --protocol=P       the dialect our sides speak: binary (the library's default), meta (memcached's meta
                     protocol: cache-meta, facade-meta, … instead of cache, facade, …, beside the peers), or both
                     (binary,meta: each of our sides and its meta twin, taking turns, without the peers unless
                     --sides names them); the report then adds meta against binary: ops/s and CPU µs/op,
                     repetition by repetition. The memcached the bench starts speaks both. Not with --tls or --heap
  --no-write         do not write bench/results/*.md
`

const metaTwin = Object.fromEntries(Object.entries(metaSides).map(([meta, binary]) => [binary, meta])) as Partial<
  Record<SideId, SideId>
>

/**
 * The sides of a run without `--sides`: the peers and ours, and the facade at defaults if ours are not; ours over
 * meta instead with `--protocol=meta`, and with both dialects each of ours beside its meta twin (without the peers);
 * with `--tls`, each TLS side and its plain side.
 */
export const defaultSides = (
  serializer: string,
  tls = false,
  inProcess = false,
  dialects: ReadonlyArray<Protocol> = ["binary"]
): ReadonlyArray<SideId> => {
  if (tls) return Object.entries(tlsSides).flatMap(([tlsSide, plain]) => [plain, tlsSide as SideId])
  const ours: ReadonlyArray<SideId> = [
    "cache",
    "facade",
    ...(serializer === "default" ? [] : ["defaults" as const]),
    ...v4DefaultSides(serializer, inProcess)
  ]
  if (dialects.length > 1) return ours.flatMap((side) => [side, metaTwin[side]!])
  const peers: ReadonlyArray<SideId> = ["memjs", "memcache-client", "memcache"]
  return [...peers, ...(dialects[0] === "meta" ? ours.map((side) => metaTwin[side]!) : ours)]
}

/** `--protocol`: binary when left out; `both` is `binary,meta`. */
export const parseProtocols = (raw: string | undefined): ReadonlyArray<Protocol> => {
  const names = raw === undefined || raw === "" ? ["binary"] : raw === "both" ? [...protocols] : raw.split(",")
  for (const name of names) {
    if (!(protocols as ReadonlyArray<string>).includes(name)) {
      throw new Error(`unknown protocol ${name}: binary, meta or both\n\n${USAGE}`)
    }
  }
  return protocols.filter((protocol) => names.includes(protocol))
}

export const parseOptions = (argv: ReadonlyArray<string>): Options => {
  const flags = new Map<string, string>()
  for (const arg of argv) {
    if (arg === "--help" || arg === "-h") {
      process.stdout.write(USAGE)
      process.exit(0)
    }
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg)
    if (!match) throw new Error(`unknown argument ${JSON.stringify(arg)}\n\n${USAGE}`)
    flags.set(match[1]!, match[2] ?? "")
  }
  const known = new Set([
    "quick",
    "heap",
    "heap-ops",
    "only",
    "sides",
    "reps",
    "duration",
    "slice",
    "warmup",
    "buffers",
    "keys",
    "serializer",
    "tracing",
    "in-process",
    "node-flags",
    "src",
    "reqs-per-event",
    "tls",
    "protocol",
    "no-write"
  ])
  for (const flag of flags.keys()) if (!known.has(flag)) throw new Error(`unknown option --${flag}\n\n${USAGE}`)
  const quick = flags.has("quick") || ["1", "true", "yes"].includes(process.env["BENCH_QUICK"] ?? "")
  const number = (name: string, fallback: number) => {
    const raw = flags.get(name)
    if (raw === undefined) return fallback
    const value = Number(raw)
    if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`)
    return value
  }
  const count = (name: string, fallback: number) => {
    const value = number(name, fallback)
    if (!Number.isInteger(value)) throw new Error(`--${name} must be a whole number`)
    return value
  }
  const list = (name: string) => flags.get(name)?.split(",").map((s) => s.trim()).filter((s) => s !== "")
  const only = list("only")
  for (const id of only ?? []) {
    if (!workloads.some((w) => w.id === id)) throw new Error(`unknown workload ${id}\n\n${USAGE}`)
  }
  const serializer = flags.get("serializer") || "default"
  const tracing = flags.get("tracing") || "none"
  if (!isTracingMode(tracing)) throw new Error(`unknown tracing mode ${tracing}\n\n${USAGE}`)
  const tls = flags.has("tls")
  const dialects = parseProtocols(flags.get("protocol"))
  if (dialects.includes("meta") && (tls || flags.has("heap"))) {
    throw new Error(
      `--protocol=${flags.get("protocol")} cannot go with --${
        tls ? "tls" : "heap"
      }, which measures binary sides: run them one at a time\n\n${USAGE}`
    )
  }
  const nodeFlags = list("node-flags") ?? []
  const notAFlag = nodeFlags.find((flag) => !flag.startsWith("--"))
  if (notAFlag !== undefined) throw new Error(`--node-flags takes Node options (--name), not ${notAFlag}\n\n${USAGE}`)
  if (nodeFlags.length > 0 && flags.has("in-process")) {
    throw new Error(`--node-flags applies to the sides' own processes: not with --in-process\n\n${USAGE}`)
  }
  const sides = list("sides") ?? defaultSides(serializer, tls, flags.has("in-process"), dialects)
  for (const side of sides) if (!allSides.includes(side as SideId)) throw new Error(`unknown side ${side}\n\n${USAGE}`)
  if (!tls && sides.some((side) => side in tlsSides)) throw new Error(`the TLS sides need --tls\n\n${USAGE}`)
  const foreign = sides.find((side) => {
    const protocol = protocolOf(side as SideId)
    return protocol !== undefined && !dialects.includes(protocol)
  })
  if (foreign !== undefined) {
    const protocol = protocolOf(foreign as SideId)!
    throw new Error(
      `side ${foreign} speaks ${protocol}, which --protocol=${dialects.join(",")} leaves out: add ` +
        `--protocol=${protocol} or --protocol=both\n\n${USAGE}`
    )
  }
  // Slices take turns in the order of `allSides` (peers first), rotated each slice.
  const ordered = allSides.filter((side) => sides.includes(side))
  return {
    quick,
    heap: flags.has("heap"),
    heapOps: count("heap-ops", 1_000_000),
    only,
    sides: ordered,
    reps: count("reps", 3),
    durationMs: number("duration", quick ? 60 : 1000),
    sliceMs: number("slice", quick ? 60 : 100),
    warmupMs: number("warmup", quick ? 40 : 300),
    write: !flags.has("no-write") && process.env["BENCH_PROFILE_WINDOWS"] === undefined,
    buffers: flags.has("buffers"),
    keys: count("keys", DEFAULT_KEYS),
    serializer,
    tracing,
    inProcess: flags.has("in-process"),
    nodeFlags,
    fromSource: flags.has("src"),
    reqsPerEvent: flags.has("reqs-per-event") ? count("reqs-per-event", 20) : undefined,
    tls,
    protocols: dialects,
    windowsFile: process.env["BENCH_PROFILE_WINDOWS"]
  }
}

/** `global.gc` when node runs with --expose-gc; otherwise the same function fetched through V8 flags. */
export type Gc = (options?: { readonly type?: "major" | "minor" }) => void

export const getGc = (): Gc | undefined => {
  const exposed = (globalThis as { gc?: Gc }).gc
  if (typeof exposed === "function") return exposed
  try {
    v8.setFlagsFromString("--expose-gc")
    const gc = vm.runInNewContext("gc") as unknown
    return typeof gc === "function" ? (gc as Gc) : undefined
  } catch {
    return undefined
  }
}

const versionOf = (pkg: string): string => {
  try {
    const json = JSON.parse(readFileSync(path.join(repoDir, "node_modules", pkg, "package.json"), "utf8")) as {
      version?: string
    }
    return json.version ?? "?"
  } catch {
    return "?"
  }
}

export const environment = (memcached: { readonly version: string; readonly args: ReadonlyArray<string> }) => {
  const cpus = os.cpus()
  return {
    node: process.version,
    effect: versionOf("effect"),
    memjs: versionOf("memjs"),
    "memcache-client": versionOf("memcache-client"),
    memcache: versionOf("memcache"),
    memcached: memcached.version,
    memcachedArgs: memcached.args.join(" "),
    source: gitState(),
    cpu: `${cpus[0]?.model ?? "?"} × ${cpus.length}`,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    loadavg: os.loadavg().map((value) => value.toFixed(2)).join(" ")
  }
}

/** `2025-01-31T12-34-56Z`: an ISO timestamp that is a valid file name everywhere. */
export const fileStamp = (date: Date): string => date.toISOString().replace(/\.\d+Z$/, "Z").replace(/:/g, "-")

/**
 * TCP segments sent by the whole machine (Linux /proc/net/snmp `Tcp: OutSegs`), or undefined elsewhere. On loopback
 * this counts both directions (our requests and memcached's answers): per operation, it shows how well writes and
 * answers are coalesced into segments.
 */
export const tcpOutSegments = (): number | undefined => {
  try {
    const lines = readFileSync("/proc/net/snmp", "utf8").split("\n").filter((line) => line.startsWith("Tcp:"))
    if (lines.length < 2) return undefined
    const names = lines[0]!.split(/\s+/)
    const values = lines[1]!.split(/\s+/)
    const value = Number(values[names.indexOf("OutSegs")])
    return Number.isFinite(value) ? value : undefined
  } catch {
    return undefined
  }
}

const CLOCK_TICKS_PER_SECOND = 100

/** Busy and total CPU time of the whole machine in µs (Linux /proc/stat), or undefined elsewhere. */
export const machineCpu = (): { readonly busy: number; readonly total: number } | undefined => {
  try {
    const fields = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!.trim().split(/\s+/).slice(1).map(Number)
    const total = fields.slice(0, 8).reduce((sum, value) => sum + value, 0)
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0)
    const scale = 1_000_000 / CLOCK_TICKS_PER_SECOND
    return { busy: (total - idle) * scale, total: total * scale }
  } catch {
    return undefined
  }
}

/** user+system CPU of another process in µs (Linux /proc/<pid>/stat), or undefined. */
export const processCpu = (pid: number): number | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    // fields[0] is the state (3rd field of the file): utime and stime are the 14th and 15th.
    return (Number(fields[11]) + Number(fields[12])) * (1_000_000 / CLOCK_TICKS_PER_SECOND)
  } catch {
    return undefined
  }
}

/** The commit measured, and whether src/ had uncommitted changes (other people edit it while benches run). */
export const gitState = (): string => {
  const git = (args: ReadonlyArray<string>) => {
    const result = spawnSync("git", args, { cwd: repoDir, encoding: "utf8" })
    return result.status === 0 ? result.stdout.trimEnd() : undefined
  }
  const head = git(["log", "-1", "--format=%h %s"])
  if (head === undefined) return "not a git checkout"
  const dirty = (git(["status", "--porcelain", "--", "src"]) ?? "").split("\n").filter((line) => line !== "")
  return `${head}${dirty.length ? ` + uncommitted changes in ${dirty.map((line) => line.slice(3)).join(", ")}` : ""}`
}
