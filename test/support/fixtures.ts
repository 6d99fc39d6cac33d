/**
 * Runs a script of `test/fixtures/` in a child process with `node --import tsx`, as a user's script would run: the
 * repository as its working directory and an environment with nothing but `PATH`, `HOME` and the given variables.
 */
import { Effect } from "effect"
import type { ChildProcessWithoutNullStreams } from "node:child_process"
import { spawn } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..")

/** Spawns `test/fixtures/<script>` with `args` and `env`, its standard streams piped. */
export const spawnFixture = (script: string, args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "test", "fixtures", script), ...args], {
    cwd: ROOT,
    env: { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "", ...env },
    stdio: ["pipe", "pipe", "pipe"]
  })

/** A fixture running in a child process, and what it printed. */
export interface Child {
  readonly process: ChildProcessWithoutNullStreams
  /** Everything the child printed so far. */
  readonly stdout: () => string
  readonly stderr: () => string
  /** Waits until the child printed `line` (a whole line); dies after 10 s. */
  readonly printed: (line: string) => Effect.Effect<number>
  /** Resolves with the time it exited; killed (by its own handle) after its lifetime, then with `undefined`. */
  readonly exited: Effect.Effect<number | undefined>
}

/**
 * Starts a fixture with `node --import tsx`, killed after `lifetimeMillis`, or with the test's scope if it is still
 * running.
 */
export const runFixture = (
  script: string,
  args: ReadonlyArray<string>,
  env: Record<string, string> = {},
  lifetimeMillis = 10_000
) =>
  Effect.acquireRelease(
    Effect.sync((): Child => {
      const child = spawnFixture(script, args, env)
      let stdout = ""
      let stderr = ""
      const lines = new Map<string, number>()
      child.stdout.setEncoding("utf8")
      child.stderr.setEncoding("utf8")
      child.stdout.on("data", (chunk: string) => {
        stdout += chunk
        for (const line of stdout.split("\n").slice(0, -1)) if (!lines.has(line)) lines.set(line, performance.now())
      })
      child.stderr.on("data", (chunk: string) => {
        stderr += chunk
      })
      const exit = new Promise<number | undefined>((resolve) => {
        const killer = setTimeout(() => child.kill("SIGKILL"), lifetimeMillis)
        child.once("exit", (_, signal) => {
          clearTimeout(killer)
          resolve(signal === "SIGKILL" ? undefined : performance.now())
        })
      })
      const printed = (line: string) =>
        Effect.gen(function*() {
          const deadline = performance.now() + 10_000
          while (!lines.has(line)) {
            if (performance.now() > deadline || child.exitCode !== null) {
              return yield* Effect.dieMessage(`the child never printed ${JSON.stringify(line)}: ${stdout} ${stderr}`)
            }
            yield* Effect.sleep("10 millis")
          }
          return lines.get(line)!
        })
      return {
        process: child,
        stdout: () => stdout,
        stderr: () => stderr,
        printed,
        exited: Effect.promise(() => exit)
      }
    }),
    (child) => Effect.sync(() => child.process.exitCode === null && child.process.kill("SIGKILL"))
  )
