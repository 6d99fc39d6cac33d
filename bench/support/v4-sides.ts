/**
 * The Effect 4 line's sides (see v4-line.ts), as our-sides.ts builds the v3 ones: `Cache·v4` (the `Cache` service on
 * a `ManagedRuntime`, the workload as N fibers), `facade·v4` (`new MemcachedCache({ servers })`) and `defaults·v4`
 * (the facade at its defaults whatever `--serializer` says), and the same three over meta (`Cache·meta·v4`, …). Loaded only in a v4 side's own process, on Node >= 22.19.
 *
 * Effect 4 is imported from effect4/node_modules by path: from here, `effect` is the root's effect 3. The v4 line's
 * own `effect` imports resolve to the same files (effect4/src's directly, the compiled copy's through the link in
 * bench/.build/v4), so the side and the library share one Effect.
 */
import { pathToFileURL } from "node:url"
import * as Cause from "../../effect4/node_modules/effect/dist/Cause.js"
import * as ConfigProvider from "../../effect4/node_modules/effect/dist/ConfigProvider.js"
import type * as Context from "../../effect4/node_modules/effect/dist/Context.js"
import * as Effect from "../../effect4/node_modules/effect/dist/Effect.js"
import * as Fiber from "../../effect4/node_modules/effect/dist/Fiber.js"
import * as Layer from "../../effect4/node_modules/effect/dist/Layer.js"
import * as ManagedRuntime from "../../effect4/node_modules/effect/dist/ManagedRuntime.js"
import * as Option from "../../effect4/node_modules/effect/dist/Option.js"
import { lengthOf, operands, type PromiseOps, promiseSide, type Protocol, protocolOf, type Side } from "./sides.js"
import type { Recorder } from "./stats.js"
import { supportsV4, V4_LIBRARY_ENV, v4LibraryPath, type V4SideId, v4SideInfo } from "./v4-line.js"
import { Slices, type Workers } from "./workers.js"
import { type DataSet, mixIsSet, type Workload } from "./workloads.js"

/** The v4 line's `Cache` service, as far as the sides use it. */
interface V4Cache {
  readonly get: (key: string) => Effect.Effect<Option.Option<unknown>, unknown>
  readonly getMany: (keys: ReadonlyArray<string>) => Effect.Effect<ReadonlyMap<string, unknown>, unknown>
  readonly set: (key: string, value: unknown, options?: { readonly ttl: null }) => Effect.Effect<void, unknown>
}

/** The v4 line's facade, as far as the sides use it. */
interface V4Facade {
  readonly connect: () => Promise<void>
  readonly get: (key: string) => Promise<unknown>
  readonly getMany: (keys: ReadonlyArray<string>) => Promise<ReadonlyMap<string, unknown>>
  readonly set: (key: string, value: unknown, ttl?: null) => Promise<void>
  readonly close: () => Promise<void>
}

/**
 * What the sides use of the v4 line's index, typed here rather than imported from effect4/src: its shared glue
 * (src/internal/) resolves `#effect-line` to the v4 line only under effect4/'s tsconfig, not under this one.
 */
interface V4Library {
  readonly Cache: Context.Key<"Cache", V4Cache> & {
    readonly layerMemcached: (
      options: { readonly servers: string; readonly protocol?: Protocol }
    ) => Layer.Layer<"Cache", unknown, "Serializer">
  }
  readonly Serializer: Context.Key<"Serializer", unknown> & { readonly formats: Record<string, unknown> }
  readonly MemcachedLive: Layer.Layer<"Cache", unknown>
  readonly MemcachedCache: new(
    options: { readonly servers: string; readonly serializer?: unknown; readonly protocol?: Protocol }
  ) => V4Facade
}

/** `{ protocol: "meta" }` over meta, else nothing: a binary side measures the library's default, as users get it. */
const protocolOption = (protocol: Protocol) => protocol === "meta" ? { protocol } : {}

/** The v4 line as this process was told to load it (`BENCH_V4_LIBRARY`; effect4/src through tsx by default). */
const loadV4Library = async (): Promise<V4Library> =>
  (await import(pathToFileURL(process.env[V4_LIBRARY_ENV] ?? v4LibraryPath(true)).href)) as V4Library

const DEFAULTS = "default"

const serializerOf = (lib: V4Library, name: string): unknown => {
  const formats: Record<string, unknown> = lib.Serializer.formats
  const serializer = formats[name]
  if (serializer === undefined) {
    throw new Error(`unknown serializer ${name}: the v4 line has ${[DEFAULTS, ...Object.keys(formats)].join(", ")}`)
  }
  return serializer
}

/**
 * `Cache·v4`'s layer, as library.ts's `cacheLayer` for v3: at defaults `MemcachedLive` configured with
 * `MEMCACHED_SERVERS` only (and `MEMCACHED_PROTOCOL=meta` over meta), else `Cache.layerMemcached({ servers })` with
 * that serializer (and `protocol: "meta"`).
 */
const cacheLayer = (
  lib: V4Library,
  servers: string,
  serializer: string,
  protocol: Protocol
): Layer.Layer<"Cache", unknown> =>
  serializer === DEFAULTS
    ? lib.MemcachedLive.pipe(
      Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({
        env: { MEMCACHED_SERVERS: servers, ...(protocol === "meta" ? { MEMCACHED_PROTOCOL: protocol } : {}) }
      })))
    )
    : lib.Cache.layerMemcached({ servers, ...protocolOption(protocol) }).pipe(
      Layer.provide(Layer.succeed(lib.Serializer, serializerOf(lib, serializer)))
    )

/**
 * N fibers on `runtime`, each running `op` one after another: fiber-workers.ts's `effectWorkers` in Effect 4 (the same
 * loop over the same `Slices`).
 */
const effectWorkers = <R>(
  runtime: ManagedRuntime.ManagedRuntime<R, unknown>,
  op: (i: number) => Effect.Effect<unknown, unknown, R>,
  concurrency: number,
  recorder: Recorder
): Workers => {
  const slices = new Slices(concurrency)
  const worker = Effect.gen(function*() {
    let done = 0
    while (yield* Effect.promise(() => slices.waitForSlice(done))) {
      done = slices.round
      while (performance.now() < slices.deadline) {
        const i = slices.next++
        const start = performance.now()
        yield* op(i)
        recorder.add(performance.now() - start)
      }
      slices.finished()
    }
  })
  const fiber = runtime.runFork(
    Effect.all(Array.from({ length: concurrency }, () => worker), { concurrency: "unbounded", discard: true }).pipe(
      Effect.tapCause((cause) => Effect.sync(() => slices.failed(Cause.squash(cause))))
    )
  )
  return {
    recorder,
    run: (deadline) => slices.run(deadline),
    stop: async () => {
      slices.stop()
      await runtime.runPromise(Fiber.join(fiber))
    }
  }
}

const cacheOp = (cache: V4Cache, workload: Workload, data: DataSet, recorder: Recorder) => {
  const { batches, count, keys, onBatch, onHit, value } = operands(data, recorder)
  const get = (i: number) => Effect.map(Effect.map(cache.get(keys[i % count]!), Option.isSome), onHit)
  switch (workload.op) {
    case "get":
      return get
    case "set":
      return (i: number) => cache.set(keys[i % count]!, value)
    case "getMany":
      return (i: number) => Effect.map(cache.getMany(batches[i % batches.length]!), (found) => onBatch(found.size))
    case "mix":
      return (i: number) => mixIsSet(i) ? cache.set(keys[i % count]!, value) : get(i)
  }
}

const makeCacheSide = async (
  lib: V4Library,
  id: "cache-v4" | "cache-meta-v4",
  address: string,
  serializer: string
): Promise<Side> => {
  const runtime = ManagedRuntime.make(cacheLayer(lib, address, serializer, protocolOf(id)!))
  const cache = await runtime.runPromise(lib.Cache)
  return {
    id,
    label: v4SideInfo[id].label,
    start: (workload, data, recorder) =>
      effectWorkers(runtime, cacheOp(cache, workload, data, recorder), workload.concurrency, recorder),
    preload: (key, value) => runtime.runPromise(cache.set(key, value, { ttl: null })),
    probe: (key) =>
      runtime.runPromise(
        Effect.map(cache.get(key), (found) => Option.isSome(found) ? lengthOf(found.value) : undefined)
      ),
    close: () => runtime.dispose()
  }
}

const makeFacadeSide = async (
  lib: V4Library,
  id: "facade-v4" | "defaults-v4" | "facade-meta-v4" | "defaults-meta-v4",
  address: string,
  serializer: string
): Promise<Side> => {
  const protocol = protocolOption(protocolOf(id)!)
  const facade = serializer === DEFAULTS
    ? new lib.MemcachedCache({ servers: address, ...protocol })
    : new lib.MemcachedCache({ servers: address, serializer: serializerOf(lib, serializer), ...protocol })
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

/** One of the v4 sides, by id, over plain TCP to `address`; `serializer` as for the v3 sides, the dialect by `id`. */
export const makeV4Side = async (id: V4SideId, address: string, serializer: string): Promise<Side> => {
  if (!supportsV4(process.versions.node)) {
    throw new Error(
      `${v4SideInfo[id].label} needs Node >= 22.19 (this is ${process.version}): run it in a process of its own ` +
        "(without --in-process), which the bench starts on effect4/'s Node"
    )
  }
  const lib = await loadV4Library()
  switch (id) {
    case "cache-v4":
    case "cache-meta-v4":
      return makeCacheSide(lib, id, address, serializer)
    case "facade-v4":
    case "facade-meta-v4":
      return makeFacadeSide(lib, id, address, serializer)
    case "defaults-v4":
    case "defaults-meta-v4":
      return makeFacadeSide(lib, id, address, DEFAULTS)
  }
}
