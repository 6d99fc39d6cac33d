/**
 * Which effect-memcached the bench measures. By default `src/` compiled by tsc (tsconfig.build.json, incrementally)
 * into bench/.build/dist: what users of the package run. With `--src`, `src/` as tsx runs it: tsx transforms with
 * esbuild's `keepNames`, which wraps functions and closures in `__name(…)` calls that cost 20–40% of the Cache side's
 * CPU per operation and that the published build does not have.
 */
import { ConfigProvider, Layer } from "effect"
import type * as Memjs from "memjs"
import { spawnSync } from "node:child_process"
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import type * as Lib from "../../src/index.js"
import { benchDir, repoDir, type TracingMode } from "./env.js"
import { tracingOf } from "./tracing.js"

// Every import of the library by the bench goes through this file, so that a change of src/'s layout or layers is
// adapted here alone.
export type { CacheService, MemcachedError } from "../../src/index.js"
/** The request framing, for `bench:cpu`'s stand-in socket. */
export { encodeRequest, Opcode } from "../../src/engine/protocol.js"

export type Library = typeof Lib

/** `--serializer=default`: each of our sides as users get it, with no serializer chosen. */
export const DEFAULTS = "default"

/** The serializers this build of the library has, by name (`Serializer.formats`). */
export const serializerNames = (lib: Library): ReadonlyArray<string> => Object.keys(lib.Serializer.formats)

const serializerOf = (lib: Library, name: string) => {
  const formats: Record<string, Lib.SerializerService | undefined> = lib.Serializer.formats
  const serializer = formats[name]
  if (serializer === undefined) {
    throw new Error(`unknown serializer ${name}: this build has ${[DEFAULTS, ...serializerNames(lib)].join(", ")}`)
  }
  return serializer
}

/**
 * How one of our sides is built: its serializer ("default", or a name from `Serializer.formats`), the CA file it
 * trusts when it runs over TLS, how it is traced (`none` when left out; see tracing.ts) and the dialect it speaks
 * (binary, the library's default, when left out).
 */
export interface OurOptions {
  readonly serializer: string
  readonly caFile?: string | undefined
  readonly tracing?: TracingMode | undefined
  readonly protocol?: "binary" | "meta" | undefined
}

/** `{ protocol: "meta" }` over meta, else nothing: a binary side measures the library's default, as users get it. */
const protocolOption = (protocol: OurOptions["protocol"]) => protocol === "meta" ? { protocol } : {}

/**
 * The `Cache` service over one server. At defaults (`serializer` = "default", not `tracing: false`): `MemcachedLive`,
 * configured with `MEMCACHED_SERVERS` and nothing else (and `MEMCACHED_TLS_CA_FILE` with `caFile`,
 * `MEMCACHED_PROTOCOL=meta` over meta), which is what an application that reads its environment gets. Otherwise
 * `Cache.layerMemcached({ servers })` with that serializer (the default one for `tracing: false`, which the
 * environment cannot say), `tls`, `protocol` and the tracing options. The mode's tracer, if any, is merged in.
 */
export const cacheLayer = (
  lib: Library,
  servers: string,
  { caFile, protocol, serializer, tracing = "none" }: OurOptions
): Layer.Layer<Lib.Cache, unknown> => {
  const traced = tracingOf(tracing)
  const cache = serializer === DEFAULTS && traced.options.tracing === undefined
    ? lib.MemcachedLive.pipe(
      Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(
        new Map<string, string>([
          ["MEMCACHED_SERVERS", servers],
          ...(caFile === undefined ? [] : [["MEMCACHED_TLS_CA_FILE", caFile] as const]),
          ...(protocol === "meta" ? [["MEMCACHED_PROTOCOL", protocol] as const] : [])
        ])
      )))
    )
    : lib.Cache.layerMemcached({ servers, ...tlsOption(caFile), ...protocolOption(protocol), ...traced.options }).pipe(
      Layer.provide(
        Layer.succeed(lib.Serializer, serializerOf(lib, serializer === DEFAULTS ? defaultName(lib) : serializer))
      )
    )
  return traced.layer === undefined ? cache : Layer.merge(cache, traced.layer)
}

/** The name of the serializer users get (`tracing: false` needs `Cache.layerMemcached`, which takes no default). */
const defaultName = (lib: Library): string => {
  const serializer = lib.MemcachedCache.defaultSerializer
  if (typeof serializer !== "string") throw new Error("MemcachedCache.defaultSerializer is not a name")
  return serializer
}

/** `{ tls: { ca } }` trusting `caFile`, or nothing. */
const tlsOption = (caFile: string | undefined) => caFile === undefined ? {} : { tls: { ca: readFileSync(caFile) } }

/** The facade's options for a tracing mode (see `tracingOf`): its layer options, and its tracer as `telemetry`. */
const facadeTracing = ({ layer, options }: ReturnType<typeof tracingOf>) => ({
  ...options,
  ...(layer ? { telemetry: layer } : {})
})

/**
 * The facade over one server: `new MemcachedCache({ servers })` at defaults, else with that serializer; over TLS
 * trusting `caFile` when given; over meta with `protocol: "meta"`; traced as `tracing` says.
 */
export const makeFacade = (
  lib: Library,
  servers: string,
  { caFile, protocol, serializer, tracing = "none" }: OurOptions
): Lib.MemcachedCache =>
  new lib.MemcachedCache({
    servers,
    ...(serializer === DEFAULTS ? {} : { serializer: serializerOf(lib, serializer) }),
    ...tlsOption(caFile),
    ...protocolOption(protocol),
    ...facadeTracing(tracingOf(tracing))
  })

/**
 * `Cache` over a memjs client of one's own: `Cache.layer` over `Memcached.layerClient`, or, in a build from before
 * `Cache.layer` existed (`bench:cpu --against` an older commit), `Memcached.layerClient`, which then built `Cache` too.
 */
const cacheOverClient = (lib: Library, client: Memjs.Client, options: { readonly tracing?: boolean }) =>
  "layer" in lib.Cache
    ? lib.Cache.layer.pipe(Layer.provideMerge(lib.Memcached.layerClient(client, options)))
    : lib.Memcached.layerClient(client, options) as unknown as ReturnType<typeof lib.Cache.layerMemcached>

/**
 * `bench:cpu`: `Cache` and the facade with the named serializer, both over a memjs client of one's own, traced as
 * `tracing` says.
 */
export const overClient = (lib: Library, client: Memjs.Client, { serializer, tracing = "none" }: OurOptions) => {
  const service = serializerOf(lib, serializer)
  const traced = tracingOf(tracing)
  const cache = cacheOverClient(lib, client, traced.options).pipe(
    Layer.provideMerge(Layer.succeed(lib.Serializer, service))
  )
  return {
    serializer: service,
    cacheLayer: traced.layer === undefined ? cache : Layer.merge(cache, traced.layer),
    facade: new lib.MemcachedCache({ client, serializer: service, ...facadeTracing(traced) })
  }
}

export const distDir = path.join(benchDir, ".build", "dist")

/**
 * Points the compiled shared glue's `#effect-line` imports at the compiled Effect 3 adapter next to them. Left as they
 * are, tsx maps them through tsconfig.json's `paths` to src/internal/effectLine.ts, so that the measured library ran
 * half compiled and half through tsx (with `__name` wrappers), with a second copy of the errors, and a build of
 * another revision (`bench:cpu --against`) ran this checkout's adapter, backend and observability.
 */
export const pointEffectLine = (dir: string): void => {
  const adapter = path.join(dir, "internal", "effectLine.js")
  for (const entry of readdirSync(dir, { recursive: true, encoding: "utf8" })) {
    if (!entry.endsWith(".js")) continue
    const file = path.join(dir, entry)
    const text = readFileSync(file, "utf8")
    if (!text.includes("from \"#effect-line\"")) continue
    const relative = path.relative(path.dirname(file), adapter).split(path.sep).join("/")
    writeFileSync(
      file,
      text.replaceAll("from \"#effect-line\"", `from "${relative.startsWith(".") ? relative : `./${relative}`}"`)
    )
  }
}

/**
 * Compiles src/ with tsc into bench/.build/dist (nothing outside bench/ is written). Incremental: ~2 s when little
 * changed. Type errors (someone is mid-edit) do not stop the bench as long as tsc emitted the files; they are reported.
 */
const build = (log: (line: string) => void) => {
  const tsc = path.join(repoDir, "node_modules", "typescript", "bin", "tsc")
  if (!existsSync(tsc)) throw new Error("building src/ needs typescript (npm ci); or run with --src")
  const buildInfo = path.join(benchDir, ".build", "tsbuildinfo")
  // tsc's incremental mode does not re-emit outputs that were deleted while their sources did not change.
  if (!existsSync(path.join(distDir, "index.js"))) rmSync(buildInfo, { force: true })
  const started = performance.now()
  const result = spawnSync(
    process.execPath,
    [
      tsc,
      "-p",
      path.join(repoDir, "tsconfig.build.json"),
      "--outDir",
      distDir,
      "--declaration",
      "false",
      "--declarationMap",
      "false",
      "--sourceMap",
      "false",
      "--incremental",
      "--tsBuildInfoFile",
      buildInfo
    ],
    { cwd: repoDir, encoding: "utf8" }
  )
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`.trim()
  if (!existsSync(path.join(distDir, "index.js"))) throw new Error(`tsc build of src/ failed:\n${output}`)
  if (result.status !== 0) {
    log(
      `bench: tsc reported errors in src/ (measuring what it emitted anyway):\n${
        output.split("\n").slice(0, 10).join("\n")
      }`
    )
  }
  pointEffectLine(distDir)
  log(`bench: compiled src/ with tsc into bench/.build/dist in ${((performance.now() - started) / 1000).toFixed(1)} s`)
}

/** Compiles src/ for the sides' processes (nothing to do for `fromSource`: they import src/ through tsx). */
export const compileLibrary = (fromSource: boolean, log: (line: string) => void): void => {
  if (!fromSource) build(log)
}

/**
 * The library: src/ through tsx with `fromSource`, else bench/.build/dist, compiled first unless `compile` is false
 * (a side's own process loads what the coordinator compiled).
 */
export const loadLibrary = async (
  fromSource: boolean,
  log: (line: string) => void,
  compile = true
): Promise<Library> => {
  if (fromSource) return await import("../../src/index.js")
  if (compile) build(log)
  return (await import(pathToFileURL(path.join(distDir, "index.js")).href)) as Library
}
