/**
 * What the shared contract suite (`contract.ts`) takes from its Effect line, for the Effect 3 line: Effect's modules,
 * `@effect/vitest`, this line's public API, and the few spellings the two lines do not share. The Effect 4 line's
 * twin is `effect4/test/support/line.ts`; `#line` resolves to one or the other (tsconfig `paths`, vitest `alias`).
 */
import type { Duration } from "effect"
import { Cause, Effect, Fiber, FiberStatus, Metric, Schema } from "effect"

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
  InvalidArgument,
  InvalidKey,
  type LeaseOptions,
  Memcached,
  MemcachedCache,
  MemcachedError,
  MemcachedTest,
  SerializationError,
  Serializer,
  SpanAttributes,
  type Ttl,
  ValueTooLarge
} from "../../src/index.js"
export { type RunningServer, startMemcached } from "./MemcachedServer.js"
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
