/** Our sides: the `Cache` service (fibers or `runPromise`) and the `MemcachedCache` facade (see sides.ts). */
import { Effect, ManagedRuntime, Option } from "effect"
import { effectWorkers } from "./fiber-workers.js"
import {
  cacheLayer,
  type CacheService,
  DEFAULTS,
  type Library,
  makeFacade,
  type MemcachedError,
  type OurOptions
} from "./library.js"
import {
  lengthOf,
  operands,
  type OurSideId,
  type OurSideOptions,
  type PromiseOps,
  promiseSide,
  type Side,
  type SideId,
  sideLabels,
  type TlsTarget
} from "./sides.js"
import type { Recorder } from "./stats.js"
import type { DataSet, Workload } from "./workloads.js"
import { mixIsSet } from "./workloads.js"

/** Effect primitives, same meaning. */
interface EffectOps {
  readonly get: (key: string) => Effect.Effect<boolean, unknown>
  readonly set: (key: string, value: string | Buffer) => Effect.Effect<unknown, unknown>
  readonly getMany: (keys: ReadonlyArray<string>) => Effect.Effect<number, unknown>
}

const effectOp = (ops: EffectOps, workload: Workload, data: DataSet, recorder: Recorder) => {
  const { batches, count, keys, onBatch, onHit, value } = operands(data, recorder)
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

const cacheRuntime = async (lib: Library, address: string, options: OurOptions) => {
  const runtime = ManagedRuntime.make(cacheLayer(lib, address, options))
  const cache: CacheService = await runtime.runPromise(lib.Cache)
  return { runtime, cache }
}

const cacheEffectOps = (cache: CacheService): EffectOps => ({
  get: (key) => Effect.map(cache.get(key), Option.isSome),
  set: (key, value) => cache.set(key, value),
  getMany: (keys) => Effect.map(cache.getMany(keys), (found) => found.size)
})

const cacheProbe = (cache: CacheService, key: string) =>
  Effect.map(cache.get(key), (found) => Option.isSome(found) ? lengthOf(found.value) : undefined)

/** Opens one of our sides over one server, built as `options` says. */
type MakeSide<Id extends SideId> = (lib: Library, id: Id, address: string, options: OurOptions) => Promise<Side>

/**
 * `Cache`, Effect-native: the workers are fibers on the side's runtime; `Cache·tls` over TLS, trusting `caFile`;
 * `Cache·meta` over meta.
 */
const makeCacheSide: MakeSide<"cache" | "cache-tls" | "cache-meta"> = async (lib, id, address, options) => {
  const { runtime, cache } = await cacheRuntime(lib, address, options)
  const ops = cacheEffectOps(cache)
  return {
    id,
    label: sideLabels[id],
    start: (workload, data, recorder) =>
      effectWorkers(runtime, effectOp(ops, workload, data, recorder), workload.concurrency, recorder),
    preload: (key, value) => runtime.runPromise(cache.set(key, value, { ttl: null })),
    probe: (key) => runtime.runPromise(cacheProbe(cache, key)),
    close: () => runtime.dispose()
  }
}

/** Exposed for the heap check, which drives `Cache` directly. */
export const openCache = async (lib: Library, address: string, serializer: string) => {
  const { runtime, cache } = await cacheRuntime(lib, address, { serializer })
  return { runtime, cache, ops: cacheEffectOps(cache) }
}

/** `Cache`, one `runtime.runPromise` per operation, driven from async code. */
const makeCacheRunPromiseSide: MakeSide<"cache-rp"> = async (lib, id, address, options) => {
  const { runtime, cache } = await cacheRuntime(lib, address, options)
  const run = <A>(effect: Effect.Effect<A, MemcachedError | unknown>) => runtime.runPromise(effect)
  const ops: PromiseOps = {
    get: (key) => run(Effect.map(cache.get(key), Option.isSome)),
    set: (key, value) => run(cache.set(key, value)),
    getMany: (keys) => run(Effect.map(cache.getMany(keys), (found) => found.size))
  }
  return promiseSide(id, ops, {
    preload: (key, value) => run(cache.set(key, value, { ttl: null })),
    probe: (key) => run(cacheProbe(cache, key)),
    close: () => runtime.dispose()
  })
}

const makeFacadeSide: MakeSide<"facade" | "defaults" | "facade-tls" | "facade-meta" | "defaults-meta"> = async (
  lib,
  id,
  address,
  options
) => {
  const facade = makeFacade(lib, address, options)
  await facade.connect()
  const ops: PromiseOps = {
    get: (key) => facade.get(key).then((value) => value !== undefined),
    set: (key, value) => facade.set(key, value),
    getMany: (keys) => facade.getMany(keys).then((found) => found.size)
  }
  return promiseSide(id, ops, {
    preload: (key, value) => facade.set(key, value, null),
    probe: (key) => facade.get(key).then(lengthOf),
    close: () => facade.close()
  })
}

/** The TLS target of a TLS side; the run must have started one (`--tls`). */
const tlsOf = (id: string, tls: TlsTarget | undefined): TlsTarget => {
  if (tls === undefined) throw new Error(`side ${id} runs over TLS: run the bench with --tls`)
  return tls
}

/** One of our sides, by id, built as `ours` says; the TLS ones connect to `ours.tls`, the meta ones speak meta. */
export const makeOurSide = (
  lib: Library,
  id: OurSideId,
  address: string,
  { serializer, tls, tracing }: OurSideOptions
): Promise<Side> => {
  const options: OurOptions = { serializer, tracing }
  switch (id) {
    case "cache":
      return makeCacheSide(lib, id, address, options)
    case "cache-tls": {
      const { address, caFile } = tlsOf(id, tls)
      return makeCacheSide(lib, id, address, { ...options, caFile })
    }
    case "facade-tls": {
      const { address, caFile } = tlsOf(id, tls)
      return makeFacadeSide(lib, id, address, { ...options, caFile })
    }
    case "cache-rp":
      return makeCacheRunPromiseSide(lib, id, address, options)
    case "facade":
      return makeFacadeSide(lib, id, address, options)
    case "defaults":
      return makeFacadeSide(lib, id, address, { ...options, serializer: DEFAULTS })
    case "cache-meta":
      return makeCacheSide(lib, id, address, { ...options, protocol: "meta" })
    case "facade-meta":
      return makeFacadeSide(lib, id, address, { ...options, protocol: "meta" })
    case "defaults-meta":
      return makeFacadeSide(lib, id, address, { ...options, serializer: DEFAULTS, protocol: "meta" })
  }
}
