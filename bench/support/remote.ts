/**
 * One process per side (the default): each side runs in a Node process of its own, as an application would run its
 * client, and the coordinator (run.ts) drives it over IPC. Nothing else runs in that process, so its CPU is the side's
 * own, GC and JIT threads included, and no side's JIT feedback, heap or garbage touches another's. The coordinator
 * only waits while a side's slice runs.
 */
import { type ChildProcess, fork } from "node:child_process"
import * as path from "node:path"
import type { Contestant, SideOptions } from "./contestant.js"
import { benchDir, repoDir } from "./env.js"
import { type SideId, sideLabels } from "./sides.js"
import { v4ForkOptions } from "./v4-line.js"

/** What a side's process is started with (as JSON in its first argument). */
export interface SideInit extends SideOptions {
  readonly id: SideId
  readonly fromSource: boolean
}

type Method = "begin" | "warm" | "reset" | "slice" | "report" | "end" | "close"

interface Call {
  readonly call: number
  readonly method: Method
  readonly arg: string | number | undefined
}

type Message =
  | { readonly ready: true }
  | { readonly failed: string }
  | { readonly call: number; readonly value?: unknown; readonly error?: string }

const entry = path.join(benchDir, "support", "side-process.ts")

/**
 * Starts side `init.id` in a process of its own, with `nodeFlags` before its own Node options; resolves once it has
 * written its keys and read one back.
 */
export const spawnContestant = (init: SideInit, nodeFlags: ReadonlyArray<string> = []): Promise<Contestant> => {
  const child: ChildProcess = fork(entry, [JSON.stringify(init)], {
    cwd: repoDir,
    execArgv: [...nodeFlags, "--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    ...v4ForkOptions(init.id, init.fromSource)
  })
  const label = sideLabels[init.id]
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>()
  let next = 0
  let gone: Error | undefined
  const killOnExit = () => child.kill("SIGKILL")
  process.once("exit", killOnExit)
  const exited = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      process.off("exit", killOnExit)
      gone = new Error(`${label}'s process exited (${signal ?? `code ${String(code)}`})`)
      for (const { reject } of pending.values()) reject(gone)
      pending.clear()
      resolve()
    })
  })
  const call = <A>(method: Method, arg?: string | number): Promise<A> =>
    new Promise<A>((resolve, reject) => {
      if (gone) return reject(gone)
      const id = next++
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject })
      child.send({ call: id, method, arg } satisfies Call)
    })
  return new Promise<Contestant>((resolve, reject) => {
    const onReady = (message: Message) => {
      if ("ready" in message) {
        resolve({
          id: init.id,
          label,
          begin: (workload) => call("begin", workload),
          warm: (ms) => call("warm", ms),
          reset: () => call("reset"),
          slice: (ms) => call("slice", ms),
          report: () => call("report"),
          end: () => call("end"),
          close: async () => {
            if (!gone) await call("close").catch(() => {})
            child.disconnect()
            await exited
          }
        })
      } else if ("failed" in message) {
        reject(new Error(`${label}: ${message.failed}`))
      } else {
        const waiting = pending.get(message.call)
        pending.delete(message.call)
        if (message.error === undefined) waiting?.resolve(message.value)
        else waiting?.reject(new Error(`${label}: ${message.error}`))
      }
    }
    child.on("message", onReady)
    void exited.then(() => reject(gone))
  })
}

const describe = (error: unknown) => (error instanceof Error ? error.stack ?? error.message : String(error))

/** The side's process: opens the side with `open`, then answers the coordinator's calls until it disconnects. */
export const serveContestant = async (open: (init: SideInit) => Promise<Contestant>): Promise<void> => {
  const send = (message: Message) => process.send?.(message)
  process.once("disconnect", () => process.exit(0))
  let contestant: Contestant
  try {
    contestant = await open(JSON.parse(process.argv[2] ?? "") as SideInit)
  } catch (error) {
    send({ failed: describe(error) })
    process.disconnect()
    return
  }
  process.on("message", (message: Call) => {
    const method = contestant[message.method] as (arg: unknown) => Promise<unknown>
    method(message.arg).then(
      (value) => send({ call: message.call, value }),
      (error: unknown) => send({ call: message.call, error: describe(error) })
    )
  })
  send({ ready: true })
}
