/**
 * Runs a script of `test/fixtures/` in a child process with `node --import tsx`, as a user's script would run: the
 * repository as its working directory and an environment with nothing but `PATH`, `HOME` and the given variables.
 */
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
