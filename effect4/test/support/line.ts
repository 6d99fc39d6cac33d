/**
 * What the shared contract suite (`../../../test/support/contract.ts`) takes from its Effect line, for the Effect 4
 * line: Effect's modules, `@effect/vitest`, this line's public API, and the few spellings the two lines do not share.
 * The Effect 3 line's twin is `test/support/line.ts`; `#line` resolves to one or the other (tsconfig `paths`, vitest
 * `alias`).
 */
import type { Duration, Exit, Fiber } from "effect"
import { Cause, Clock, Effect, Logger, Metric, Option, References, Schema } from "effect"
import { Serializer, type SerializerService } from "../../src/index.js"

export { assert, describe, it, layer as layerSuite } from "@effect/vitest"
export { assertNone, assertSome } from "@effect/vitest/utils"
export {
  Context,
  Data,
  Deferred,
  Duration,
  Effect,
  Exit,
  Fiber,
  Layer,
  ManagedRuntime,
  Metric,
  Option,
  Ref,
  Schema
} from "effect"
export { TestClock } from "effect/testing"
export {
  Cache,
  CacheMetrics,
  CacheNotFound,
  type CacheService,
  Flags,
  InvalidArgument,
  InvalidKey,
  type Item,
  type LeaseOptions,
  Memcached,
  MemcachedCache,
  MemcachedError,
  MemcachedTest,
  type NamespacedCache,
  SerializationError,
  Serializer,
  type SerializerName,
  SpanAttributes,
  type Ttl,
  ValueTooLarge
} from "../../src/index.js"
export { closedPort, type RunningServer, startMemcached } from "./MemcachedServer.js"
export { makeRecording, type RecordedSpan, type Recording, traced } from "./recordingTracer.js"

/** A duration as this line's `Duration` module takes it. */
export type DurationInput = Duration.Input

/** Runs `effect` in a fiber of its own, a child of the current one. */
export const fork = Effect.forkChild

/** Whether `fiber` is waiting: not done yet (Effect 4 has no fiber status; a fiber that is not done is suspended here). */
export const isWaiting = <A, E>(fiber: Fiber.Fiber<A, E>): Effect.Effect<boolean> =>
  Effect.sync(() => fiber.pollUnsafe() === undefined)

/** Lets other fibers run. */
export const yieldNow: Effect.Effect<void> = Effect.yieldNow

/** Whether a failure is a defect (a die). */
export const isDefect = <E>(cause: Cause.Cause<E>): boolean => Cause.hasDies(cause)

/** Numbers written as decimal strings; a string that is not one fails to decode. */
export const NumberFromString = Schema.FiniteFromString

/** A number schema that refuses zero and below. */
export const PositiveNumber = Schema.Number.check(Schema.isGreaterThan(0))

/** How many a counter (`CacheMetrics.hitsOf`, …) has counted. */
export const countOf = (metric: Metric.Counter<number>): Effect.Effect<number> =>
  Effect.map(Metric.value(metric), (state) => state.count)

/** The first failure of a cause, if it has one. */
export const firstFailure = <E>(cause: Cause.Cause<E>): E | undefined =>
  Option.getOrUndefined(Cause.findErrorOption(cause))

/** The attributes of the first series `Metric.snapshot` lists of metric `name` for `operation`. */
export const labelsOf = (name: string, operation: string): Effect.Effect<Record<string, string> | undefined> =>
  Effect.map(
    Metric.snapshot,
    (snapshots) =>
      snapshots.find((snapshot) => snapshot.id === name && snapshot.attributes?.["db.operation.name"] === operation)
        ?.attributes
  )

/** Every memcached metric series' count (a counter's value, a histogram's count), by its name and sorted attributes. */
export const memcachedMetricCounts: Effect.Effect<Map<string, number>> = Effect.map(Metric.snapshot, (snapshots) => {
  const counts = new Map<string, number>()
  for (const { attributes, id, state } of snapshots) {
    if (attributes?.["db.system.name"] !== "memcached") continue
    const labels = Object.entries(attributes).map(([key, value]) => `${key}=${value}`).sort().join(",")
    counts.set(`${id}{${labels}}`, (state as { readonly count?: number }).count ?? 0)
  }
  return counts
})

/** Runs `effect` on a clock whose every reading of the (monotonic) time is `stepNanos` later than the one before. */
export const withSteppingClock = (stepNanos: bigint) => <A, E, R>(effect: Effect.Effect<A, E, R>) => {
  let nanos = 0n
  const stepping: Clock.Clock = {
    currentTimeMillisUnsafe: () => Number(nanos / 1_000_000n),
    currentTimeMillis: Effect.sync(() => Number(nanos / 1_000_000n)),
    currentTimeNanosUnsafe: () => nanos,
    currentTimeNanos: Effect.sync(() => nanos),
    monotonicTimeNanosUnsafe: () => nanos += stepNanos,
    monotonicTimeNanos: Effect.sync(() => nanos += stepNanos),
    sleep: () => Effect.void
  }
  return Effect.provideService(effect, Clock.Clock, stepping)
}

/** Runs `f` with the `Serializer` in context (`Effect.flatMap(Serializer, f)` on the Effect 3 line). */
export const useSerializer = <A, E, R>(
  f: (serializer: SerializerService) => Effect.Effect<A, E, R>
): Effect.Effect<A, E, R | Serializer> => Serializer.use(f)

/** Whether a built-in serializer's failure is an `Exit` too: yes on this line, where `Effect.fail` is one. */
export const serializerFailsAsExit = true

/** A log line as a test reads it: its message, level and annotations. */
export interface CapturedLog {
  readonly message: string
  readonly level: string
  readonly annotations: Readonly<Record<string, unknown>>
}

/** Runs `effect` with only the logs at `minimum` and above let through, kept: its exit and those logs. */
export const captureLogs = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  minimum: "Debug" | "Info"
): Effect.Effect<readonly [Exit.Exit<A, E>, ReadonlyArray<CapturedLog>], never, R> =>
  Effect.suspend(() => {
    const logs: Array<CapturedLog> = []
    const logger = Logger.make(({ fiber, logLevel, message }) => {
      logs.push({
        message: Array.isArray(message) ? message.join(" ") : String(message),
        level: logLevel,
        annotations: { ...fiber.getRef(References.CurrentLogAnnotations) }
      })
    })
    return Effect.exit(effect).pipe(
      Effect.provideService(References.MinimumLogLevel, minimum),
      Effect.provide(Logger.layer([logger])),
      Effect.map((exit) => [exit, logs] as const)
    )
  })
