/**
 * `--heap`: 1,000,000 `Cache` operations (90% get / 10% set, 100 B values, 64 in flight, run inside Effect) and the
 * heap before and after, each measured after full garbage collections. A leak per operation shows up as growth that
 * scales with the operation count; the checkpoints show whether it keeps growing or levels off.
 */
import { Effect } from "effect"
import type { Gc } from "./env.js"
import type { Library } from "./library.js"
import { openCache } from "./our-sides.js"
import { formatNumber, Recorder } from "./stats.js"
import type { DataSet, Workload } from "./workloads.js"
import { mixIsSet } from "./workloads.js"

export interface HeapResult {
  readonly ops: number
  readonly seconds: number
  readonly before: NodeJS.MemoryUsage
  readonly after: NodeJS.MemoryUsage
  readonly checkpoints: ReadonlyArray<{ readonly ops: number; readonly heapUsed: number }>
  readonly misses: number
}

export const MIX_64: Workload = {
  id: "heap-mix-c64",
  title: "90% get / 10% set 100 B, 64 in flight",
  op: "mix",
  concurrency: 64,
  size: 100,
  unit: "op"
}

const mb = (bytes: number) => bytes / (1024 * 1024)

export const runHeap = async (
  lib: Library,
  address: string,
  serializer: string,
  data: DataSet,
  totalOps: number,
  gc: Gc,
  log: (line: string) => void
): Promise<HeapResult> => {
  const { runtime, cache, ops } = await openCache(lib, address, serializer)
  const recorder = new Recorder()
  const { keys, value } = data
  await runtime.runPromise(
    Effect.forEach(keys, (key) => cache.set(key, value, { ttl: null }), { concurrency: 16, discard: true })
  )
  const count = keys.length
  const op = (i: number) =>
    mixIsSet(i)
      ? ops.set(keys[i % count]!, value)
      : Effect.map(ops.get(keys[i % count]!), (hit) => {
        if (!hit) recorder.miss()
      })
  const concurrency = MIX_64.concurrency
  const chunk = concurrency * 32
  const runOps = (from: number, n: number) =>
    runtime.runPromise(Effect.gen(function*() {
      for (let start = from; start < from + n; start += chunk) {
        const size = Math.min(chunk, from + n - start)
        const indices = new Array<number>(size)
        for (let j = 0; j < size; j++) indices[j] = start + j
        yield* Effect.forEach(indices, op, { concurrency, discard: true })
      }
    }))
  const fullGc = () => {
    gc()
    gc()
  }
  try {
    await runOps(0, 50_000) // warm-up: JIT, connection, pools
    fullGc()
    const before = process.memoryUsage()
    log(`heap: before ${mb(before.heapUsed).toFixed(2)} MB heapUsed (after warm-up and gc)`)
    const checkpoints: Array<{ ops: number; heapUsed: number }> = []
    const step = Math.max(chunk, Math.round(totalOps / 5))
    const started = performance.now()
    let done = 0
    let measuredMs = 0
    while (done < totalOps) {
      const n = Math.min(step, totalOps - done)
      const t0 = performance.now()
      await runOps(50_000 + done, n)
      measuredMs += performance.now() - t0
      done += n
      fullGc()
      const heapUsed = process.memoryUsage().heapUsed
      checkpoints.push({ ops: done, heapUsed })
      log(
        `heap: ${formatNumber(done)} ops, ${mb(heapUsed).toFixed(2)} MB heapUsed, ${
          formatNumber(done / (measuredMs / 1000))
        } ops/s`
      )
    }
    fullGc()
    const after = process.memoryUsage()
    return {
      ops: done,
      seconds: (performance.now() - started) / 1000,
      before,
      after,
      checkpoints,
      misses: recorder.misses
    }
  } finally {
    await runtime.dispose()
  }
}

export const heapReport = (result: HeapResult, header: string): string => {
  const growth = mb(result.after.heapUsed - result.before.heapUsed)
  const lines = [
    header,
    "",
    `Operations: ${formatNumber(result.ops)} Cache operations (90% get / 10% set, 100 B, 64 in flight, ` +
    `Effect.forEach inside one runtime), ${result.seconds.toFixed(1)} s${
      result.misses ? `, ${result.misses} misses!` : ""
    }`,
    "",
    "| | heapUsed MB | heapTotal MB | rss MB | external MB | arrayBuffers MB |",
    "|---|---:|---:|---:|---:|---:|",
    ...(["before", "after"] as const).map((label) => {
      const m = result[label]
      return `| ${label} | ${mb(m.heapUsed).toFixed(2)} | ${mb(m.heapTotal).toFixed(2)} | ${mb(m.rss).toFixed(1)} | ${
        mb(m.external).toFixed(2)
      } | ${mb(m.arrayBuffers).toFixed(2)} |`
    }),
    "",
    `**heapUsed growth: ${growth >= 0 ? "+" : ""}${growth.toFixed(2)} MB** ` +
    `(${((result.after.heapUsed - result.before.heapUsed) / result.ops).toFixed(2)} bytes per operation)`,
    "",
    "Checkpoints (heapUsed after gc): " +
    result.checkpoints.map((c) => `${formatNumber(c.ops)} → ${mb(c.heapUsed).toFixed(2)} MB`).join(", ")
  ]
  return lines.join("\n")
}
