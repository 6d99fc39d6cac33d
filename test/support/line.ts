/**
 * What the shared contract suite (`contract.ts`) takes from its Effect line, for the Effect 3 line: Effect's modules,
 * `@effect/vitest`, this line's public API, and the few spellings the two lines do not share. The Effect 4 line's
 * twin is `effect4/test/support/line.ts`; `#line` resolves to one or the other (tsconfig `paths`, vitest `alias`).
 */
import type { Duration, Exit } from "effect"
import { Cause, Clock, Effect, Fiber, FiberStatus, HashMap, Logger, LogLevel, Metric, Option, Schema } from "effect"
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
  Schema,
  TestClock
} from "effect"
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
export { type RunningServer, startMemcached } from "./MemcachedServer.js"
export { closedPort } from "./network.js"
export { makeRecording, type RecordedSpan, type Recording, traced } from "./recordingTracer.js"

/** A duration as this line's `Duration` module takes it. */
export type DurationInput = Duration.DurationInput

/** Runs `effect` in a fiber of its own, a child of the current one. */
export const fork = Effect.fork

/** Whether `fiber` is waiting (suspended), neither running nor done. */
export const isWaiting = <A, E>(fiber: Fiber.RuntimeFiber<A, E>): Effect.Effect<boolean> =>
  Effect.map(Fiber.status(fiber), FiberStatus.isSuspended)

/** Lets other fibers run. */
export const yieldNow: Effect.Effect<void> = Effect.yieldNow()

/** Whether a failure is a defect (a die). */
export const isDefect = <E>(cause: Cause.Cause<E>): boolean => Cause.isDie(cause)

/** Numbers written as decimal strings; a string that is not one fails to decode. */
export const NumberFromString = Schema.NumberFromString

/** A number schema that refuses zero and below. */
export const PositiveNumber = Schema.Number.pipe(Schema.positive())

/** How many a counter (`CacheMetrics.hitsOf`, …) has counted. */
export const countOf = (metric: Metric.Metric.Counter<number>): Effect.Effect<number> =>
  Effect.map(Metric.value(metric), (state) => state.count)

/** The first failure of a cause, if it has one. */
export const firstFailure = <E>(cause: Cause.Cause<E>): E | undefined =>
  Option.getOrUndefined(Cause.failureOption(cause))

/** The labels of the first series `Metric.snapshot` lists of metric `name` for `operation`. */
export const labelsOf = (name: string, operation: string): Effect.Effect<Record<string, string> | undefined> =>
  Effect.map(Metric.snapshot, (pairs) => {
    const found = pairs.find((pair) =>
      pair.metricKey.name === name &&
      pair.metricKey.tags.some((tag) => tag.key === "db.operation.name" && tag.value === operation)
    )
    return found && Object.fromEntries(found.metricKey.tags.map((tag) => [tag.key, tag.value]))
  })

/** Every memcached metric series' count (a counter's value, a histogram's count), by its name and sorted labels. */
export const memcachedMetricCounts: Effect.Effect<Map<string, number>> = Effect.map(Metric.snapshot, (pairs) => {
  const counts = new Map<string, number>()
  for (const { metricKey, metricState } of pairs) {
    if (!metricKey.tags.some((tag) => tag.key === "db.system.name" && tag.value === "memcached")) continue
    const labels = metricKey.tags.map(({ key, value }) => `${key}=${value}`).sort().join(",")
    counts.set(`${metricKey.name}{${labels}}`, (metricState as { readonly count?: number }).count ?? 0)
  }
  return counts
})

/** Runs `effect` on a clock whose every reading of the time is `stepNanos` later than the one before. */
export const withSteppingClock = (stepNanos: bigint) => <A, E, R>(effect: Effect.Effect<A, E, R>) => {
  let nanos = 0n
  const stepping: Clock.Clock = {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeNanos: () => nanos += stepNanos,
    unsafeCurrentTimeMillis: () => Number(nanos / 1_000_000n),
    currentTimeNanos: Effect.sync(() => nanos),
    currentTimeMillis: Effect.sync(() => Number(nanos / 1_000_000n)),
    sleep: () => Effect.void
  }
  return Effect.withClock(effect, stepping)
}

/** Runs `f` with the `Serializer` in context (`Serializer.use` on the Effect 4 line). */
export const useSerializer = <A, E, R>(
  f: (serializer: SerializerService) => Effect.Effect<A, E, R>
): Effect.Effect<A, E, R | Serializer> => Effect.flatMap(Serializer, f)

/** Whether a built-in serializer's failure is an `Exit` too: not on this line (`Effect.fail` is no `Exit` here). */
export const serializerFailsAsExit = false

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
    const logger = Logger.make(({ annotations, logLevel, message }) => {
      logs.push({
        message: Array.isArray(message) ? message.join(" ") : String(message),
        level: logLevel._tag,
        annotations: Object.fromEntries(HashMap.toEntries(annotations))
      })
    })
    return Effect.exit(effect).pipe(
      Logger.withMinimumLogLevel(LogLevel.fromLiteral(minimum)),
      Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
      Effect.map((exit) => [exit, logs] as const)
    )
  })
