/**
 * The parity check of the facade's fast path (`src/internal/facadeFastPath.ts`), for both lines'
 * `facadeFastPath.test.ts`: the same calls through a facade on the fast path and through one whose `telemetry` layer
 * keeps spans (so that neither it nor the `Cache` under it skips the Effect path), asserting the same outcomes (value,
 * or error class, message and fields) and the same metric deltas. Each line says how it makes those facades, reads
 * its metrics and tells whether a call runs on a fiber; no `effect` import here.
 */
import { assert } from "vitest"
import { directServices } from "../../src/internal/checkedService.js"

/** What the parity check takes from a line. */
export interface ParityLine<Options, Facade extends { close(): Promise<void> }> {
  /** Whether the caller runs on a fiber (the facade's fast path does not). */
  readonly onFiber: () => boolean
  /** Every memcached metric series' count, by name and labels. */
  readonly metricCounts: () => Map<string, number>
  /** A facade over `options`; with `traced`, a `telemetry` layer whose tracer keeps its spans. */
  readonly make: (options: Options, traced: boolean) => Facade
}

/** An outcome as the caller sees it: the value, or the error's class, message and fields. */
export const outcomeOf = async (call: () => Promise<unknown>) => {
  try {
    return { value: await call() }
  } catch (error) {
    const { cause, ...fields } = error as Record<string, unknown>
    return {
      error: (error as object).constructor.name,
      message: (error as Error).message,
      fields: JSON.stringify(fields, (_, v) => typeof v === "bigint" ? `${v}n` : v),
      cause: cause instanceof Error ? cause.message : cause
    }
  }
}

/** The counts that changed from `before` to `after`, by how much. */
const deltas = (before: Map<string, number>, after: Map<string, number>) =>
  Object.fromEntries(
    [...after].filter(([key, count]) => count !== (before.get(key) ?? 0)).map((
      [key, count]
    ) => [key, count - (before.get(key) ?? 0)])
  )

/**
 * The parity check of `line`: `parity(options, steps, fast)` runs `steps` on both facades and returns the fast one's
 * results; `fast` says whether the fast path is expected to be taken. It counts the calls through a `DirectService`
 * by wrapping the ones the facades look up: all of them, and those on no fiber.
 */
export const makeParity = <Options, Facade extends { close(): Promise<void> }>(line: ParityLine<Options, Facade>) => {
  const calls = { all: 0, facade: 0 }
  const lookUp = directServices.get.bind(directServices)
  directServices.get = (service) => {
    const direct = lookUp(service)
    const count = () => {
      calls.all++
      if (!line.onFiber()) calls.facade++
    }
    return direct && {
      tracing: direct.tracing,
      get: (...args) => (count(), direct.get(...args)),
      getMany: (...args) => (count(), direct.getMany(...args)),
      set: (...args) => (count(), direct.set(...args))
    }
  }
  const run = async (facade: Facade, steps: ReadonlyArray<(facade: Facade) => Promise<unknown>>) => {
    const results = []
    try {
      for (const step of steps) {
        const before = line.metricCounts()
        const outcome = await outcomeOf(() => step(facade))
        results.push({ outcome, metrics: deltas(before, line.metricCounts()) })
      }
    } finally {
      await facade.close()
    }
    return results
  }
  return async (options: () => Options, steps: ReadonlyArray<(facade: Facade) => Promise<unknown>>, fast = true) => {
    const callsBefore = calls.facade
    const onFastPath = await run(line.make(options(), false), steps)
    assert.strictEqual(calls.facade > callsBefore, fast, "calls on the fast path")
    const callsBetween = calls.all
    const onEffectPath = await run(line.make(options(), true), steps)
    assert.strictEqual(calls.all, callsBetween, "no call of the Effect path through a DirectService")
    assert.deepStrictEqual(onFastPath, onEffectPath)
    return onFastPath
  }
}
