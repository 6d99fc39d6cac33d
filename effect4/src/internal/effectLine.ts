/**
 * The Effect 4 line's side of the glue both lines share (`#effect-line`, mapped by tsconfig `paths` and vitest's
 * alias; `scripts/build.mjs` stages the shared modules and points them here): the Effect modules, errors and types
 * that a shared module (under the root's `src/internal/`) uses, and the few spellings that differ between Effect 3 and
 * Effect 4. The Effect 3 line's twin is the root's `src/internal/effectLine.ts`, with the same exports.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as LogLevel from "effect/LogLevel"
import type * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Tracer from "effect/Tracer"
import { DEFAULT_RESENDS, resentByDefault } from "../../../src/engine/failure.js"
import { tooLarge } from "../../../src/engine/itemSize.js"
import type { WireKey } from "../../../src/engine/keys.js"
import type { MemcachedError } from "../errors/MemcachedError.js"
import { ValueTooLarge } from "../errors/ValueTooLarge.js"
import { decodeWithUnits } from "./ttl.js"

export { decodeTtl } from "./ttl.js"

export * as Cause from "effect/Cause"
export * as Clock from "effect/Clock"
export * as Deferred from "effect/Deferred"
export * as Duration from "effect/Duration"
export * as Effect from "effect/Effect"
export * as Exit from "effect/Exit"
export * as Option from "effect/Option"
export * as Redacted from "effect/Redacted"
export * as Schedule from "effect/Schedule"
export * as Schema from "effect/Schema"
export * as Scope from "effect/Scope"
export * as Tracer from "effect/Tracer"
export { CacheNotFound } from "../errors/CacheNotFound.js"
export type { CacheError } from "../errors/index.js"
export { InvalidArgument } from "../errors/InvalidArgument.js"
export type { InvalidKey } from "../errors/InvalidKey.js"
export { MemcachedError } from "../errors/MemcachedError.js"
export { SerializationError } from "../errors/SerializationError.js"
export { ValueTooLarge } from "../errors/ValueTooLarge.js"
export type { ObservabilityOptions } from "../Observability.js"
export { seriesOf } from "../Observability.js"
export type { SerializerService } from "../Serializer.js"
export { makeKeyEncoder, notAStringKey } from "./keys.js"
export type {
  CheckedConnectionOptions,
  ClientLayerOptions,
  LayerOptions,
  MemcachedOptions,
  MemjsClientLike,
  PoolOptions
} from "./options.js"
export { readers } from "./options.js"
export type { DurationWithUnits, Ttl } from "./ttl.js"

/** @internal The clock's time in milliseconds, read at once. */
export const currentTimeMillis = (clock: Clock.Clock): number => clock.currentTimeMillisUnsafe()

/** @internal A duration given with its unit, or the reason it is not one (`ttl.ts`). */
export const durationOrReason = (input: unknown): Duration.Duration | string =>
  Result.getOrElse(decodeWithUnits(input), (reason) => reason)

/** @internal `Option.some` of a value, `Option.none` of `null` or `undefined`. */
export const optionOf: <A>(value: A | null | undefined) => Option.Option<A> = Option.fromNullishOr

/** @internal Whether an exit was interrupted. */
export const isInterrupted: <A, E>(exit: Exit.Exit<A, E>) => boolean = Exit.hasInterrupts

/** @internal A new deferred, made outside of a fiber. */
export const makeDeferred = <A, E>(): Deferred.Deferred<A, E> => Deferred.makeUnsafe<A, E>()

/** @internal A schema with no requirements, as a typed cache view takes it. */
export type SchemaOf<A, I> = Schema.Codec<A, I, never, never>

/** @internal Encodes with `schema`; a failure is the schema's error. */
export const encoder: <A, I>(schema: SchemaOf<A, I>) => (value: A) => Effect.Effect<I, unknown> = Schema.encodeEffect

/** @internal Decodes anything with `schema`; a failure is the schema's error. */
export const decoder: <A, I>(schema: SchemaOf<A, I>) => (value: unknown) => Effect.Effect<A, unknown> =
  Schema.decodeUnknownEffect

/** @internal The error for a value of `size` bytes that cannot fit in one item under `key`. */
export const valueTooLarge = (maxItemSize: number, key: WireKey, size: number): ValueTooLarge =>
  new ValueTooLarge(tooLarge(maxItemSize, key, size))

/** @internal A check's outcome: `Result` here, `Either` on the Effect 3 line. */
export type Outcome<A, E> = Result.Result<A, E>

/** @internal Whether an outcome failed. */
export const isFailure: <A, E>(outcome: Outcome<A, E>) => outcome is Result.Failure<A, E> = Result.isFailure

/** @internal The error of a failed outcome. */
export const failureOf = <A, E>(outcome: Result.Failure<A, E>): E => outcome.failure

/** @internal The value of a successful outcome. */
export const successOf = <A, E>(outcome: Result.Success<A, E>): A => outcome.success

/** @internal A successful outcome. */
export const succeed: <A>(value: A) => Outcome<A, never> = Result.succeed

/** @internal An outcome with its error mapped. */
export const mapFailure: typeof Result.mapError = Result.mapError

/** @internal The first failure of a cause, if it has one. */
export const firstFailure = <E>(cause: Cause.Cause<E>): E | undefined =>
  Option.getOrUndefined(Cause.findErrorOption(cause))

/** @internal Handles every cause of failure. */
export const catchAllCause = Effect.catchCause

/** @internal The layer's retry when the caller gives none: the engine's rule (`DEFAULT_RESENDS`) as a schedule. */
export const defaultRetry: Schedule.Schedule<unknown, MemcachedError> = Schedule.recurs(DEFAULT_RESENDS).pipe(
  Schedule.while(({ input }: { readonly input: MemcachedError }) => resentByDefault(input.reason))
)

/** @internal A schedule's steps: each takes a failure and succeeds while the schedule goes on (sleeping first). */
export const stepper = <E>(
  schedule: Schedule.Schedule<unknown, E>
): Effect.Effect<(input: E) => Effect.Effect<unknown, unknown>> => Schedule.toStepWithSleep(schedule)

/** @internal An Effect that a callback resumes: `Effect.callback` here, `Effect.async` on the Effect 3 line. */
export const callback: <A, E, R = never>(
  register: (resume: (effect: Effect.Effect<A, E, R>) => void) => void
) => Effect.Effect<A, E, R> = Effect.callback

/** @internal A running fiber, as the observed calls are kept by. */
export type RunningFiber = Fiber.Fiber<unknown, unknown>

/** @internal The fiber that runs the caller, if any (inside `callback`'s register: the one that suspends). */
export const currentFiber: () => RunningFiber | undefined = Fiber.getCurrent

/** @internal Runs `f` with the fiber that runs it. */
export const withFiber: <A, E, R>(f: (fiber: RunningFiber) => Effect.Effect<A, E, R>) => Effect.Effect<A, E, R> =
  Effect.withFiber

/** @internal Whether the fiber's tracer records spans: any but Effect's built-in one, whose spans go nowhere. */
export const tracesSpans = (fiber: RunningFiber): boolean => fiber.getRef(Tracer.Tracer) !== Tracer.nativeTracer

/** @internal Effect's built-in clock (the default of the `Clock` reference). */
export const liveClock: Clock.Clock = Context.get(Context.empty(), Clock.Clock)

/** @internal The fiber's clock. */
export const clockOf = (fiber: RunningFiber): Clock.Clock => fiber.getRef(Clock.Clock)

/** @internal A clock's monotonic time in nanoseconds, for durations (its time on the Effect 3 line). */
export const clockNanos = (clock: Clock.Clock): bigint => clock.monotonicTimeNanosUnsafe()

/**
 * @internal What a metric update is tagged with besides its series' own attributes: the fiber's context, whose
 * `Metric.CurrentMetricAttributes` it adds; the fiber's metric labels on the Effect 3 line.
 */
export type MetricTags = Context.Context<never>

/** @internal The fiber's metric tags, read once per operation. */
export const metricTagsOf = (fiber: RunningFiber): MetricTags => fiber.context

/** @internal The metric tags of a call made on no fiber: an empty context. */
export const noMetricTags: MetricTags = Context.empty()

/** @internal Updates a metric at once, outside of any Effect. */
export const updateMetric = (metric: Metric.Metric<number, unknown>, value: number, tags: MetricTags): void =>
  metric.updateUnsafe(value, tags)

/**
 * @internal Whether a fiber resumes in the async context it suspended in: yes on this line (`FiberImpl.evaluate`
 * keeps an `AsyncResource`), so a traced call needs no `Call.scope` (`observability.ts`).
 */
export const resumesInCallerContext = true

/** @internal `effect` when the fiber's minimum log level lets debug logs through, else nothing is built. */
export const whenDebugLogged = (effect: Effect.Effect<void>): Effect.Effect<void> =>
  Effect.flatMap(LogLevel.isEnabled("Debug"), (enabled) => enabled ? effect : Effect.void)
