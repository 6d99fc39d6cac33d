/**
 * The sides that are compared, each over its own connection to the same memcached:
 *
 * - `memjs`:    raw memjs 1.3.2, promise API (`Client.create(addr, { logger, retries: 1 })`).
 * - `Cache`:    the `Cache` service (Cache.layerMemcached + Serializer.bytes, or --serializer) on a ManagedRuntime; the
 *               workers are N fibers, each looping over operations — the Effect-native style.
 * - `Cache·rp`: the same service, but every operation is its own `runtime.runPromise(…)` from async code.
 * - `facade`:   `new MemcachedCache({ servers, serializer: "bytes" })` (or --serializer), promise API.
 */
import { Effect, Layer, ManagedRuntime, Option } from "effect"
import * as Memjs from "memjs"
import type { CacheService, MemcachedError, SerializerName } from "../../src/index.js"
import type { Library } from "./library.js"
import type { Recorder } from "./stats.js"
import { effectWorkers, promiseWorkers, type Workers } from "./workers.js"
import type { DataSet, Workload } from "./workloads.js"
import { mixIsSet } from "./workloads.js"

export type SideId = "memjs" | "memjs-aa" | "cache" | "cache-rp" | "facade"

export const sideLabels: Record<SideId, string> = {
  memjs: "memjs",
  "memjs-aa": "memjs·A/A",
  cache: "Cache",
  "cache-rp": "Cache·rp",
  facade: "facade"
}

export interface Side {
  readonly id: SideId
  readonly label: string
  /** Starts `workload.concurrency` workers, which run in the slices they are given, recording into `recorder`. */
  readonly start: (workload: Workload, data: DataSet, recorder: Recorder) => Workers
  /** One read, for the sanity check: the value's length, or undefined on a miss. */
  readonly probe: (key: string) => Promise<number | undefined>
  readonly close: () => Promise<void>
}

/** Promise primitives. `get` resolves to whether it hit; `getMany` to the number of hits. */
interface PromiseOps {
  readonly get: (key: string) => Promise<boolean>
  readonly set: (key: string, value: string | Buffer) => Promise<unknown>
  readonly getMany: (keys: ReadonlyArray<string>) => Promise<number>
}

/** Effect primitives, same meaning. */
interface EffectOps {
  readonly get: (key: string) => Effect.Effect<boolean, unknown>
  readonly set: (key: string, value: string | Buffer) => Effect.Effect<unknown, unknown>
  readonly getMany: (keys: ReadonlyArray<string>) => Effect.Effect<number, unknown>
}

const promiseOp = (ops: PromiseOps, workload: Workload, data: DataSet, recorder: Recorder) => {
  const { keys, value, batches } = data
  const count = keys.length
  const onHit = (hit: boolean) => {
    if (!hit) recorder.miss()
  }
  const onBatch = (hits: number) => {
    if (hits !== batches[0]!.length) recorder.miss()
  }
  switch (workload.op) {
    case "get":
      return (i: number) => ops.get(keys[i % count]!).then(onHit)
    case "set":
      return (i: number) => ops.set(keys[i % count]!, value)
    case "getMany":
      return (i: number) => ops.getMany(batches[i % batches.length]!).then(onBatch)
    case "mix":
      return (i: number) => (mixIsSet(i) ? ops.set(keys[i % count]!, value) : ops.get(keys[i % count]!).then(onHit))
  }
}

const effectOp = (ops: EffectOps, workload: Workload, data: DataSet, recorder: Recorder) => {
  const { keys, value, batches } = data
  const count = keys.length
  const onHit = (hit: boolean) => {
    if (!hit) recorder.miss()
  }
  const onBatch = (hits: number) => {
    if (hits !== batches[0]!.length) recorder.miss()
  }
  switch (workload.op) {
    case "get":
      return (i: number) => Effect.map(ops.get(keys[i % count]!), onHit)
    case "set":
      return (i: number) => ops.set(keys[i % count]!, value)
    case "getMany":
      return (i: number) => Effect.map(ops.getMany(batches[i % batches.length]!), onBatch)
    case "mix":
      return (i: number) =>
        mixIsSet(i) ? ops.set(keys[i % count]!, value) : Effect.map(ops.get(keys[i % count]!), onHit)
  }
}

const silent = { log: () => {} }

/**
 * Raw memjs over its own client. As `memjs-aa` (opt-in), a second copy of the reference side: its ratio to `memjs`
 * should be 1, and how far it strays shows how much of a ratio is the machine and the method rather than the code.
 */
export const makeMemjsSide = (address: string, id: "memjs" | "memjs-aa" = "memjs"): Side => {
  const client = Memjs.Client.create(address, { logger: silent, retries: 1 })
  const ops: PromiseOps = {
    get: (key) => client.get(key).then((result) => result.value !== null),
    set: (key, value) => client.set(key, value, { expires: 300 }),
    getMany: (keys) =>
      Promise.all(keys.map((key) => client.get(key))).then((results) => {
        let hits = 0
        for (const result of results) if (result.value !== null) hits++
        return hits
      })
  }
  return {
    id,
    label: sideLabels[id],
    start: (workload, data, recorder) =>
      promiseWorkers(promiseOp(ops, workload, data, recorder), workload.concurrency, recorder),
    probe: (key) => client.get(key).then((result) => result.value?.length),
    close: async () => client.close()
  }
}

const lengthOf = (value: unknown): number | undefined =>
  typeof value === "string" || value instanceof Uint8Array ? value.length : undefined

/** The serializer the Cache and facade sides use (`--serializer`); raw memjs moves bytes, as `bytes` does. */
export type BenchSerializer = SerializerName

const cacheRuntime = async (lib: Library, address: string, serializer: BenchSerializer) => {
  const runtime = ManagedRuntime.make(
    lib.Cache.layerMemcached({ servers: address }).pipe(Layer.provide(lib.Serializer[serializer]))
  )
  const cache: CacheService = await runtime.runPromise(lib.Cache)
  return { runtime, cache }
}

const cacheEffectOps = (cache: CacheService): EffectOps => ({
  get: (key) => Effect.map(cache.get(key), Option.isSome),
  set: (key, value) => cache.set(key, value),
  getMany: (keys) => Effect.map(cache.getMany(keys), (found) => found.size)
})

/** `Cache`, Effect-native: the workers are fibers on the side's runtime. */
export const makeCacheSide = async (lib: Library, address: string, serializer: BenchSerializer): Promise<Side> => {
  const { runtime, cache } = await cacheRuntime(lib, address, serializer)
  const ops = cacheEffectOps(cache)
  return {
    id: "cache",
    label: sideLabels.cache,
    start: (workload, data, recorder) =>
      effectWorkers(runtime, effectOp(ops, workload, data, recorder), workload.concurrency, recorder),
    probe: (key) =>
      runtime.runPromise(
        Effect.map(cache.get(key), (found) => Option.isSome(found) ? lengthOf(found.value) : undefined)
      ),
    close: () => runtime.dispose()
  }
}

/** Exposed for the heap check, which drives `Cache` directly. */
export const openCache = async (lib: Library, address: string, serializer: BenchSerializer) => {
  const { runtime, cache } = await cacheRuntime(lib, address, serializer)
  return { runtime, cache, ops: cacheEffectOps(cache) }
}

/** `Cache`, one `runtime.runPromise` per operation, driven from async code. */
export const makeCacheRunPromiseSide = async (
  lib: Library,
  address: string,
  serializer: BenchSerializer
): Promise<Side> => {
  const { runtime, cache } = await cacheRuntime(lib, address, serializer)
  const run = <A>(effect: Effect.Effect<A, MemcachedError | unknown>) => runtime.runPromise(effect)
  const ops: PromiseOps = {
    get: (key) => run(Effect.map(cache.get(key), Option.isSome)),
    set: (key, value) => run(cache.set(key, value)),
    getMany: (keys) => run(Effect.map(cache.getMany(keys), (found) => found.size))
  }
  return {
    id: "cache-rp",
    label: sideLabels["cache-rp"],
    start: (workload, data, recorder) =>
      promiseWorkers(promiseOp(ops, workload, data, recorder), workload.concurrency, recorder),
    probe: (key) =>
      run(Effect.map(cache.get(key), (found) => Option.isSome(found) ? lengthOf(found.value) : undefined)),
    close: () => runtime.dispose()
  }
}

export const makeFacadeSide = async (lib: Library, address: string, serializer: BenchSerializer): Promise<Side> => {
  const facade = new lib.MemcachedCache({ servers: address, serializer })
  await facade.connect()
  const ops: PromiseOps = {
    get: (key) => facade.get(key).then((value) => value !== undefined),
    set: (key, value) => facade.set(key, value),
    getMany: (keys) => facade.getMany(keys).then((found) => found.size)
  }
  return {
    id: "facade",
    label: sideLabels.facade,
    start: (workload, data, recorder) =>
      promiseWorkers(promiseOp(ops, workload, data, recorder), workload.concurrency, recorder),
    probe: (key) => facade.get(key).then(lengthOf),
    close: () => facade.close()
  }
}

export const makeSide = (lib: Library, id: SideId, address: string, serializer: BenchSerializer): Promise<Side> => {
  switch (id) {
    case "memjs":
    case "memjs-aa":
      return Promise.resolve(makeMemjsSide(address, id))
    case "cache":
      return makeCacheSide(lib, address, serializer)
    case "cache-rp":
      return makeCacheRunPromiseSide(lib, address, serializer)
    case "facade":
      return makeFacadeSide(lib, address, serializer)
  }
}
