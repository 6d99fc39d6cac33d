/**
 * Which effect-memcached the bench measures. By default `src/` compiled by tsc (tsconfig.build.json, incrementally)
 * into bench/.build/dist: what users of the package run. With `--src`, `src/` as tsx runs it: tsx transforms with
 * esbuild's `keepNames`, which wraps functions and closures in `__name(…)` calls that cost 20–40% of the Cache side's
 * CPU per operation and that the published build does not have.
 */
import { spawnSync } from "node:child_process"
import { existsSync, rmSync } from "node:fs"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import type * as Lib from "../../src/index.js"
import { benchDir, repoDir } from "./env.js"

export type Library = typeof Lib

export const distDir = path.join(benchDir, ".build", "dist")

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
  log(`bench: compiled src/ with tsc into bench/.build/dist in ${((performance.now() - started) / 1000).toFixed(1)} s`)
}

export const loadLibrary = async (fromSource: boolean, log: (line: string) => void): Promise<Library> => {
  if (fromSource) return await import("../../src/index.js")
  build(log)
  return (await import(pathToFileURL(path.join(distDir, "index.js")).href)) as Library
}
