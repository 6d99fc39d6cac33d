/**
 * The sides that are compared, each over its own connection to the same memcached. Each side writes its own keys (see
 * `makeDataSets`' tag) with its own client, so that it reads back only what its own serializer wrote.
 *
 * The peers, each at its library's defaults:
 * - `memjs`:           raw memjs 1.3.2, promise API (`Client.create(addr, { logger })`; the logger only keeps its
 *                      failure messages off the terminal).
 * - `memcache-client`: electrode's memcache-client (`new MemcacheClient({ server: addr })`): text protocol, one
 *                      connection; `getMany` is its native multi-get, `get([keys])`.
 * - `memcache`:        jaredwray's memcache (`new Memcache(addr)`): text protocol; strings only; `getMany` is its
 *                      native multi-get, `gets(keys)`.
 * - `memjs-aa`:        a second raw memjs (opt-in), the A/A control; not a peer.
 *
 * Ours (`--serializer`, default "default": what users get):
 * - `Cache`:    the `Cache` service on a ManagedRuntime; the workers are N fibers, each looping over operations — the
 *               Effect-native style. At defaults, `MemcachedLive` configured with `MEMCACHED_SERVERS` only.
 * - `Cache·rp`: the same service, but every operation is its own `runtime.runPromise(…)` from async code.
 * - `facade`:   `new MemcachedCache({ servers })` (with `serializer` when one is chosen), promise API.
 * - `defaults`: `new MemcachedCache({ servers })` whatever `--serializer` says; full runs add it when the other sides
 *               run with a chosen serializer, so that every full run measures what users get.
 * - `Cache·tls`, `facade·tls` (`--tls`): `Cache` and the facade over TLS to the same memcached's TLS port, trusting
 *               its certificate (at defaults: `MemcachedLive` with `MEMCACHED_TLS_CA_FILE`; the facade with `tls`).
 * - `Cache·meta`, `facade·meta`, `defaults·meta` (`--protocol=meta` or `both`): the same three over memcached's meta
 *               protocol (at defaults: `MemcachedLive` with `MEMCACHED_PROTOCOL=meta`; the facades with
 *               `protocol: "meta"`); the others speak binary, the library's default.
 */
import { Memcache } from "memcache"
import { MemcacheClient, type MultiRetrievalResponse } from "memcache-client"
import * as Memjs from "memjs"
import type { TracingMode } from "./env.js"
import type { Library } from "./library.js"
import type { Recorder } from "./stats.js"
import { isV4Side, type V4SideId, v4SideIds, v4SideInfo } from "./v4-line.js"
import { promiseWorkers, type Workers } from "./workers.js"
import type { DataSet, Workload } from "./workloads.js"
import { mixIsSet } from "./workloads.js"

export type SideId =
  | "memjs"
  | "memjs-aa"
  | "memcache-client"
  | "memcache"
  | "cache"
  | "cache-rp"
  | "facade"
  | "defaults"
  | "cache-tls"
  | "facade-tls"
  | "cache-meta"
  | "facade-meta"
  | "defaults-meta"
  | V4SideId

/** Our v3 sides, which our-sides.ts builds. */
export type OurSideId = Exclude<SideId, V4SideId | "memjs" | "memjs-aa" | "memcache-client" | "memcache">

export interface SideInfo {
  readonly label: string
  /** Two characters in every key the side writes (`bench:<tag>:<size>:<i>`). */
  readonly tag: string
  /** Another Node client, measured at its defaults: the targets are ratios to the best of them. */
  readonly peer: boolean
  /** A peer whose getMany is one multi-key request (memjs's is 100 concurrent gets). */
  readonly nativeMultiGet: boolean
}

export const sideInfo: Record<SideId, SideInfo> = {
  memjs: { label: "memjs", tag: "mj", peer: true, nativeMultiGet: false },
  "memjs-aa": { label: "memjs·A/A", tag: "ma", peer: false, nativeMultiGet: false },
  "memcache-client": { label: "memcache-client", tag: "mc", peer: true, nativeMultiGet: true },
  memcache: { label: "memcache", tag: "jw", peer: true, nativeMultiGet: true },
  cache: { label: "Cache", tag: "ca", peer: false, nativeMultiGet: false },
  "cache-rp": { label: "Cache·rp", tag: "cr", peer: false, nativeMultiGet: false },
  facade: { label: "facade", tag: "fa", peer: false, nativeMultiGet: false },
  defaults: { label: "defaults", tag: "df", peer: false, nativeMultiGet: false },
  "cache-tls": { label: "Cache·tls", tag: "ct", peer: false, nativeMultiGet: false },
  "facade-tls": { label: "facade·tls", tag: "ft", peer: false, nativeMultiGet: false },
  "cache-meta": { label: "Cache·meta", tag: "cm", peer: false, nativeMultiGet: false },
  "facade-meta": { label: "facade·meta", tag: "fm", peer: false, nativeMultiGet: false },
  "defaults-meta": { label: "defaults·meta", tag: "dm", peer: false, nativeMultiGet: false },
  ...v4SideInfo
}

/** The TLS sides, each with the plain side it is measured against. */
export const tlsSides = { "cache-tls": "cache", "facade-tls": "facade" } as const satisfies Partial<
  Record<SideId, SideId>
>

/** The wire dialects of the library (its `protocol` option); binary is its default. */
export const protocols = ["binary", "meta"] as const
export type Protocol = (typeof protocols)[number]

/** The sides that speak meta (`--protocol`), each with the same side over binary, which it is measured against. */
export const metaSides = {
  "cache-meta": "cache",
  "facade-meta": "facade",
  "defaults-meta": "defaults",
  "cache-meta-v4": "cache-v4",
  "facade-meta-v4": "facade-v4",
  "defaults-meta-v4": "defaults-v4"
} as const satisfies Partial<Record<SideId, SideId>>

/** The dialect a side speaks: meta for the meta sides, binary for our others; undefined for the peers. */
export const protocolOf = (side: SideId): Protocol | undefined =>
  side in metaSides ? "meta" : sideInfo[side].peer || side === "memjs-aa" ? undefined : "binary"

/** Every side, in the order slices take turns (rotated each slice). */
export const allSides: ReadonlyArray<SideId> = [
  "memjs",
  "memjs-aa",
  "memcache-client",
  "memcache",
  "cache",
  "cache-meta",
  "cache-rp",
  "facade",
  "facade-meta",
  "defaults",
  "defaults-meta",
  "cache-tls",
  "facade-tls",
  ...v4SideIds
]

export const sideLabels: Record<SideId, string> = Object.fromEntries(
  allSides.map((id) => [id, sideInfo[id].label])
) as Record<SideId, string>

export interface Side {
  readonly id: SideId
  readonly label: string
  /** Starts `workload.concurrency` workers, which run in the slices they are given, recording into `recorder`. */
  readonly start: (workload: Workload, data: DataSet, recorder: Recorder) => Workers
  /** Writes a key before the run, never to expire. */
  readonly preload: (key: string, value: string | Buffer) => Promise<unknown>
  /** One read, for the sanity check: the value's length, or undefined on a miss. */
  readonly probe: (key: string) => Promise<number | undefined>
  /** Run before every warm-up and slice, outside the measured time. */
  readonly ready?: () => Promise<void>
  readonly close: () => Promise<void>
}

/**
 * Promise primitives. `get` resolves to whether it hit; `getMany` to the number of hits; `set` to false when it did
 * not store (memcache resolves to false instead of failing).
 */
export interface PromiseOps {
  readonly get: (key: string) => Promise<boolean>
  readonly set: (key: string, value: string | Buffer) => Promise<unknown>
  readonly getMany: (keys: ReadonlyArray<string>) => Promise<number>
}

/** A workload's keys and values, and the checks that count a miss, a short batch or a write that did not store. */
export const operands = ({ batches, keys, value }: DataSet, recorder: Recorder) => ({
  keys,
  value,
  batches,
  count: keys.length,
  onHit: (hit: boolean) => {
    if (!hit) recorder.miss()
  },
  onBatch: (hits: number) => {
    if (hits !== batches[0]!.length) recorder.miss()
  },
  onSet: (result: unknown) => {
    if (result === false) recorder.miss()
  }
})

export const promiseOp = (ops: PromiseOps, workload: Workload, data: DataSet, recorder: Recorder) => {
  const { batches, count, keys, onBatch, onHit, onSet, value } = operands(data, recorder)
  switch (workload.op) {
    case "get":
      return (i: number) => ops.get(keys[i % count]!).then(onHit)
    case "set":
      return (i: number) => ops.set(keys[i % count]!, value).then(onSet)
    case "getMany":
      return (i: number) => ops.getMany(batches[i % batches.length]!).then(onBatch)
    case "mix":
      return (i: number) =>
        mixIsSet(i) ? ops.set(keys[i % count]!, value).then(onSet) : ops.get(keys[i % count]!).then(onHit)
  }
}

export const lengthOf = (value: unknown): number | undefined =>
  typeof value === "string" || value instanceof Uint8Array ? value.length : undefined

/** The peers' measured writes expire after 300 s, as ours do at their default TTL. */
const TTL_SECONDS = 300

export const promiseSide = (
  id: SideId,
  ops: PromiseOps,
  rest: Pick<Side, "preload" | "probe" | "ready" | "close">
): Side => ({
  id,
  label: sideLabels[id],
  start: (workload, data, recorder) =>
    promiseWorkers(promiseOp(ops, workload, data, recorder), workload.concurrency, recorder),
  ...rest
})

/**
 * Raw memjs over its own client. As `memjs-aa` (opt-in), a second copy of the reference side: its ratio to `memjs`
 * should be 1, and how far it strays shows how much of a ratio is the machine and the method rather than the code.
 */
const makeMemjsSide = (address: string, id: "memjs" | "memjs-aa"): Side => {
  const client = Memjs.Client.create(address, { logger: { log: () => {} } })
  const ops: PromiseOps = {
    get: (key) => client.get(key).then((result) => result.value !== null),
    set: (key, value) => client.set(key, value, { expires: TTL_SECONDS }),
    getMany: (keys) =>
      Promise.all(keys.map((key) => client.get(key))).then((results) => {
        let hits = 0
        for (const result of results) if (result.value !== null) hits++
        return hits
      })
  }
  return promiseSide(id, ops, {
    preload: (key, value) => client.set(key, value, { expires: 0 }),
    probe: (key) => client.get(key).then((result) => result.value?.length),
    close: async () => client.close()
  })
}

/** electrode's memcache-client at its defaults; its default lifetime (60 s) is overridden per write, as memjs's. */
const makeMemcacheClientSide = (address: string): Side => {
  const client = new MemcacheClient({ server: address })
  const ops: PromiseOps = {
    get: (key) => client.get(key).then((result) => result !== undefined),
    set: (key, value) => client.set(key, value, { lifetime: TTL_SECONDS }),
    getMany: (keys) =>
      client.get<MultiRetrievalResponse>(keys as Array<string>).then((found) => Object.keys(found).length)
  }
  return promiseSide("memcache-client", ops, {
    preload: (key, value) => client.set(key, value, { lifetime: 0 }),
    probe: (key) => client.get(key).then((result) => lengthOf(result?.value)),
    close: async () => client.shutdown()
  })
}

/**
 * jaredwray's memcache at its defaults. It stores strings only: a Buffer value is handed over as latin1 text.
 *
 * While it is not connected, every command opens a socket of its own (64 in flight: 64 sockets); when those sockets
 * later hit its `timeout` (5 s, an idle timeout on the socket), they reject the commands of the one in use and
 * desynchronise its replies, and runs hung on it (memcache 1.10.0). It connects lazily, on the first command, and
 * its socket closes after 5 s idle (a side waits longer than that for its turn at start-up, while slower sides'
 * processes load). So the side connects before its first command and reconnects before a slice if its socket has
 * closed (saying so on stderr), as an application that connects first and keeps it busy would.
 */
const makeMemcacheSide = async (address: string): Promise<Side> => {
  const client = new Memcache(address)
  await client.connect()
  let reconnects = 0
  let buffer: Buffer | undefined
  let text = ""
  const asText = (value: string | Buffer) => {
    if (typeof value === "string") return value
    if (value !== buffer) {
      buffer = value
      text = value.toString("latin1")
    }
    return text
  }
  const ops: PromiseOps = {
    get: (key) => client.get(key).then((value) => value !== undefined),
    set: (key, value) => client.set(key, asText(value), TTL_SECONDS),
    getMany: (keys) => client.gets(keys as Array<string>).then((found) => found.size)
  }
  return promiseSide("memcache", ops, {
    preload: (key, value) => client.set(key, asText(value), 0),
    probe: (key) => client.get(key).then(lengthOf),
    ready: async () => {
      if (client.isConnected()) return
      reconnects++
      process.stderr.write(`bench: memcache's socket had closed (idle); reconnected (${reconnects} so far)\n`)
      await client.connect()
    },
    close: () => client.disconnect()
  })
}

/** Where the TLS sides connect (`--tls`): memcached's TLS port, and the certificate they trust. */
export interface TlsTarget {
  readonly address: string
  readonly caFile: string
}

/** How our sides are built: their serializer and tracing mode, and for the TLS sides where they connect. */
export interface OurSideOptions {
  /** "default", or a name from `Serializer.formats`. */
  readonly serializer: string
  /** `none` when left out (see tracing.ts). */
  readonly tracing?: TracingMode | undefined
  /** For the TLS sides (`--tls`). */
  readonly tls?: TlsTarget | undefined
}

/**
 * Opens a side's client; `ours` is for our sides. Our sides, and so Effect and the library, are loaded only when one
 * is opened: a peer's process never loads them.
 */
export const makeSide = async (
  library: () => Promise<Library>,
  id: SideId,
  address: string,
  ours: OurSideOptions
): Promise<Side> => {
  if (isV4Side(id)) return (await import("./v4-sides.js")).makeV4Side(id, address, ours.serializer)
  switch (id) {
    case "memjs":
    case "memjs-aa":
      return makeMemjsSide(address, id)
    case "memcache-client":
      return makeMemcacheClientSide(address)
    case "memcache":
      return await makeMemcacheSide(address)
    default: {
      const { makeOurSide } = await import("./our-sides.js")
      return makeOurSide(await library(), id, address, ours)
    }
  }
}
