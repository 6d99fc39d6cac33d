/**
 * `tsx bench/client-cpu.ts [--against=<git revision>] [--work=mget16,get16,fget16,mgetseq,getseq,fgetseq,getmany,
 * mset16,set16,fset16] [--serializer=NAME] [--tracing[=MODE,MODE]] [--rounds=N] [--size=BYTES] [--keys=N]`: the
 * client's own CPU per operation, without the kernel or memcached. Each library runs over a memjs client whose socket
 * is a stand-in that answers in JavaScript on the next `setImmediate` (every get hits with the value as that library's serializer wrote
 * it; every other request succeeds), so what is left is our code, Effect and Node: the part of a full bench cell
 * that this repository can change, measured with far less noise than the full bench on a shared machine. It is not a
 * benchmark of memcached or of the network (`npm run bench` is).
 *
 * With `--tracing=MODE,…` (`none`, `otel`, `sampled0`, `disabled`: see `support/tracing.ts`; bare `--tracing`: all
 * four), this checkout runs once per mode, all in this process, so that the AsyncLocalStorage context manager is
 * registered for every mode alike, and each mode after the first is also reported against the first, round by round.
 *
 * With `--against`, that revision's `src/` is compiled too (into bench/.build/against-<revision>/), and the two
 * libraries alternate round by round in one process, so that drift hits both alike. Reports the median and the lowest
 * CPU µs per operation (a getMany batch of 100 keys counts as one) of each workload and library.
 */
import { Effect, ManagedRuntime } from "effect"
import memjs from "memjs"
import { execFileSync, spawnSync } from "node:child_process"
import { existsSync, mkdirSync, rmSync } from "node:fs"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { benchDir, repoDir, tracingList, type TracingMode } from "./support/env.js"
import { encodeRequest, type Library, loadLibrary, Opcode, overClient, pointEffectLine } from "./support/library.js"

const args = new Map(
  process.argv.slice(2).map((arg) => {
    const match = /^--([a-z]+)(?:=(.*))?$/.exec(arg)
    if (!match) throw new Error(`unknown argument ${arg}`)
    return [match[1]!, match[2] ?? ""] as const
  })
)
const works = (args.get("work") ?? "mget16,get16,fget16,mgetseq,getseq,fgetseq,getmany,mset16,set16,fset16").split(",")
const isMemjsWork = (work: string) => work.startsWith("m") && work !== "getmany"
// `structured` is what MemcachedLive and the facade use; the values are strings, except for `bytes`.
const serializer = args.get("serializer") ?? "structured"
const tracing = args.get("tracing")
const modes = tracing === undefined ? ["none" as const] : tracingList(tracing)
const rounds = Number(args.get("rounds") ?? 10)
const value = Buffer.alloc(Number(args.get("size") ?? 100), "x")
const userValue = serializer === "bytes" ? value : value.toString("latin1")
// More keys than the library's cache of encoded keys (4,096) by default, as `npm run bench` has (`--keys`).
const keys = Array.from({ length: Number(args.get("keys") ?? 10_000) }, (_, i) => `bench:cpu:${i}`)
/** getMany's batches: 100 distinct keys each, over the key space. */
const batches = Array.from(
  { length: Math.max(1, Math.floor(keys.length / 100)) },
  (_, b) => Array.from({ length: 100 }, (_, j) => keys[(b * 100 + j) % keys.length]!)
)

/** Compiles `revision`'s src/ with this checkout's tsc into bench/.build/against-<revision>/dist. */
const buildRevision = (revision: string): string => {
  const dir = path.join(benchDir, ".build", `against-${revision.replace(/[^\w.-]/g, "_")}`)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const archive = execFileSync("git", ["archive", revision, "src", "tsconfig.json", "tsconfig.build.json"], {
    cwd: repoDir
  })
  execFileSync("tar", ["-x", "-C", dir], { input: archive })
  const tsc = path.join(repoDir, "node_modules", "typescript", "bin", "tsc")
  spawnSync(process.execPath, [tsc, "-p", path.join(dir, "tsconfig.build.json"), "--outDir", path.join(dir, "dist")])
  if (!existsSync(path.join(dir, "dist", "index.js"))) throw new Error(`could not compile ${revision}'s src/`)
  pointEffectLine(path.join(dir, "dist"))
  return path.join(dir, "dist", "index.js")
}

/** A stored value as a get's response carries it: its flags (4 bytes, as the extras) and its bytes. */
interface Stored {
  readonly flags: Buffer
  readonly value: Uint8Array
}

/**
 * memcached's answers to a write of requests: every get hits with `stored` (a GetKQ is answered as a GetK), anything
 * else succeeds. A response has a request's layout, with the response magic and a status (0) where the vbucket was.
 */
const answer = (requests: Buffer, stored: Stored): Buffer => {
  const frames: Array<Buffer> = []
  for (let offset = 0; offset < requests.length; offset += 24 + requests.readUInt32BE(offset + 8)) {
    const opcode = requests[offset + 1]!
    const opaque = requests.readUInt32BE(offset + 12)
    const keyStart = offset + 24 + requests[offset + 4]!
    const key = requests.subarray(keyStart, keyStart + requests.readUInt16BE(offset + 2))
    const frame = opcode === Opcode.GetK || opcode === Opcode.GetKQ
      ? encodeRequest(Opcode.GetK, opaque, key, stored.flags, stored.value)
      : encodeRequest(opcode, opaque)
    frame[0] = 0x81
    frames.push(frame)
  }
  return Buffer.concat(frames)
}

interface Subject {
  readonly name: string
  /** CPU µs per operation of `work` over `millis`. */
  readonly run: (work: string, millis: number) => Promise<number>
  readonly close: () => Promise<void>
}

/** A memjs client whose one server's socket is the stand-in, answering gets with `stored`. */
const standInClient = (stored: Stored) => {
  const client = memjs.Client.create("127.0.0.1:1", { logger: { log() {} }, retries: 0 })
  const server = client.servers[0] as unknown as {
    _socket: unknown
    responseHandler: (chunk: Buffer, lent?: boolean) => void
    sock: (sasl: boolean, go: (socket: unknown) => void) => void
  }
  const socket = {
    write: (frame: Buffer, done?: () => void) => {
      const chunk = answer(frame, stored)
      setImmediate(() => {
        // Lent, as our sockets hand their reads to framing (`dial.ts`); raw memjs's own handler takes no such flag.
        server.responseHandler(chunk, true)
        done?.()
      })
      return true
    },
    cork() {},
    uncork() {},
    // Raw memjs arms a timeout on its socket once and ends the socket on close.
    setTimeout() {},
    end() {},
    destroy() {}
  }
  server._socket = socket
  server.sock = (_sasl, go) => go(socket)
  return client
}

/** Runs `op` from `inFlight` async loops until `until`; returns the operations done. */
const promiseLoops = async (inFlight: number, until: number, op: (key: string) => Promise<unknown>) => {
  let ops = 0
  await Promise.all(Array.from({ length: inFlight }, async (_, worker) => {
    for (let i = worker; performance.now() < until; i++, ops++) await op(keys[i % keys.length]!)
  }))
  return ops
}

/** CPU µs per operation of `work` (its name ends in 16 for 16 in flight) run by `go` for `millis`. */
const cpuPerOp = async (work: string, millis: number, go: (inFlight: number, until: number) => Promise<number>) => {
  const cpu0 = process.cpuUsage()
  const ops = await go(work.endsWith("16") ? 16 : 1, performance.now() + millis)
  const cpu = process.cpuUsage(cpu0)
  return (cpu.user + cpu.system) / ops
}

/** Raw memjs over its own stand-in: the baseline for the `m…` workloads (`mget16`, `mgetseq`). */
const openMemjs = (): Subject => {
  const client = standInClient({ flags: Buffer.alloc(4), value })
  return {
    name: "raw memjs",
    run: (work, millis) =>
      cpuPerOp(work, millis, (inFlight, until) =>
        promiseLoops(
          inFlight,
          until,
          work.startsWith("mset") ? (key) => client.set(key, value, { expires: 300 }) : (key) => client.get(key)
        )),
    close: async () => client.close()
  }
}

const open = async (name: string, lib: Library, tracing: TracingMode = "none"): Promise<Subject> => {
  const stored: { flags: Buffer; value: Uint8Array } = { flags: Buffer.alloc(4), value: new Uint8Array(0) }
  const { cacheLayer, facade, serializer: service } = overClient(lib, standInClient(stored), { serializer, tracing })
  const item = Effect.runSync(service.encode("k", userValue))
  stored.flags.writeUInt32BE(item.flags)
  stored.value = item.value
  const runtime = ManagedRuntime.make(cacheLayer)
  const cache = await runtime.runPromise(lib.Cache)
  const run = (work: string, millis: number) =>
    cpuPerOp(work, millis, (inFlight, until) => {
      if (work === "fset16") return promiseLoops(inFlight, until, (key) => facade.set(key, userValue))
      if (work.startsWith("f")) return promiseLoops(inFlight, until, (key) => facade.get(key))
      return runtime.runPromise(Effect.suspend(() => {
        let ops = 0
        const op = work === "set16" ? (key: string) => cache.set(key, userValue) : (key: string) => cache.get(key)
        const loop = work === "getmany"
          ? Effect.gen(function*() {
            for (; performance.now() < until; ops++) yield* cache.getMany(batches[ops % batches.length]!)
          })
          : Effect.all(
            Array.from({ length: inFlight }, (_, worker) =>
              Effect.gen(function*() {
                for (let i = worker; performance.now() < until; i++, ops++) yield* op(keys[i % keys.length]!)
              })),
            { concurrency: "unbounded", discard: true }
          )
        return Effect.map(loop, () => ops)
      }))
    })
  return {
    name,
    run,
    close: async () => {
      await facade.close()
      await runtime.dispose()
    }
  }
}

const log = (line: string) => console.error(line)
const library = await loadLibrary(false, log)
const subjects: Array<Subject> = []
for (const mode of modes) {
  subjects.push(await open(tracing === undefined ? "this checkout" : `tracing ${mode}`, library, mode))
}
const against = args.get("against")
if (against) {
  log(`client-cpu: compiling ${against}'s src/`)
  subjects.unshift(await open(against, (await import(pathToFileURL(buildRevision(against)).href)) as Library))
}
if (works.some(isMemjsWork)) subjects.unshift(openMemjs())
/** The `m…` workloads are raw memjs's; the others belong to the libraries. */
const worksOf = (subject: Subject) => works.filter((work) => isMemjsWork(work) === (subject.name === "raw memjs"))
for (const subject of subjects) for (const work of worksOf(subject)) await subject.run(work, 300)
const samples = new Map<string, Array<number>>()
for (let round = 0; round < rounds; round++) {
  log(`client-cpu: round ${round + 1}/${rounds}`)
  for (const subject of subjects) {
    for (const work of worksOf(subject)) {
      const key = `${work}\t${subject.name}`
      samples.set(key, [...(samples.get(key) ?? []), await subject.run(work, 400)])
    }
  }
}
console.log(
  `client CPU µs per operation over a stand-in socket, ${rounds} rounds of 400 ms, ${value.length} B values ` +
    `(Serializer.${serializer}), ${keys.length} keys${tracing === undefined ? "" : `, tracing ${modes.join(", ")}`}`
)
for (const work of works) {
  for (const subject of subjects) {
    const measured = samples.get(`${work}\t${subject.name}`)
    if (measured === undefined) continue
    const sorted = [...measured].sort((a, b) => a - b)
    const median = sorted[sorted.length >> 1]!
    console.log(
      `${work.padEnd(8)} ${subject.name.padEnd(17)} median ${median.toFixed(2).padStart(7)}  lowest ${
        sorted[0]!.toFixed(2).padStart(7)
      }`
    )
  }
}
// With --against or several tracing modes: every other subject's CPU over the first one's (--against's revision, or
// the first mode), round by round (they alternated), median and range.
const [base, ...others] = subjects.filter((subject) => subject.name !== "raw memjs")
for (const other of others) {
  console.log(`${other.name} / ${base!.name}, round by round: median (lowest–highest)`)
  for (const work of worksOf(other)) {
    const a = samples.get(`${work}\t${base!.name}`)!
    const ratios = samples.get(`${work}\t${other.name}`)!.map((cpu, round) => cpu / a[round]!).sort((x, y) => x - y)
    console.log(
      `${work.padEnd(8)} ${ratios[ratios.length >> 1]!.toFixed(2)}× (${ratios[0]!.toFixed(2)}–${
        ratios[ratios.length - 1]!.toFixed(2)
      })`
    )
  }
}
for (const subject of subjects) await subject.close()
