/**
 * The Effect 3 line's side of the glue both lines share (`#effect-line`, mapped by tsconfig `paths`, vitest's alias
 * and package.json `imports`): the Effect modules, errors and types that a shared module uses, and the few spellings
 * that differ between Effect 3 and Effect 4. The Effect 4 line's twin is `effect4/src/internal/effectLine.ts`, with
 * the same exports; a shared module (it imports `#effect-line`) imports nothing else but the engine and other shared
 * modules.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as DefaultServices from "effect/DefaultServices"
import * as Deferred from "effect/Deferred"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as FiberRef from "effect/FiberRef"
import type * as Metric from "effect/Metric"
import type * as MetricLabel from "effect/MetricLabel"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Tracer from "effect/Tracer"
import { DEFAULT_RESENDS, resentByDefault } from "../engine/failure.js"
import type { MemcachedError } from "../errors/MemcachedError.js"
import { decodeWithUnits } from "./ttl.js"

export { valueTooLarge } from "./itemSize.js"
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
export const currentTimeMillis = (clock: Clock.Clock): number => clock.unsafeCurrentTimeMillis()

/** @internal A duration given with its unit, or the reason it is not one (`ttl.ts`). */
export const durationOrReason = (input: unknown): Duration.Duration | string =>
  Either.getOrElse(decodeWithUnits(input), (reason) => reason)

/** @internal `Option.some` of a value, `Option.none` of `null` or `undefined`. */
export const optionOf: <A>(value: A | null | undefined) => Option.Option<A> = Option.fromNullable

/** @internal Whether an exit was interrupted. */
export const isInterrupted: <A, E>(exit: Exit.Exit<A, E>) => boolean = Exit.isInterrupted

/** @internal A new deferred, made outside of a fiber. */
export const makeDeferred = <A, E>(): Deferred.Deferred<A, E> => Deferred.unsafeMake<A, E>(FiberId.none)

/** @internal A schema with no requirements, as a typed cache view takes it. */
export type SchemaOf<A, I> = Schema.Schema<A, I, never>

/** @internal Encodes with `schema`; a failure is the schema's error. */
export const encoder: <A, I>(schema: SchemaOf<A, I>) => (value: A) => Effect.Effect<I, unknown> = Schema.encode

/** @internal Decodes anything with `schema`; a failure is the schema's error. */
export const decoder: <A, I>(schema: SchemaOf<A, I>) => (value: unknown) => Effect.Effect<A, unknown> =
  Schema.decodeUnknown

/** @internal A check's outcome: `Either` here, `Result` on the Effect 4 line. */
export type Outcome<A, E> = Either.Either<A, E>

/** @internal Whether an outcome failed. */
export const isFailure: <A, E>(outcome: Outcome<A, E>) => outcome is Either.Left<E, A> = Either.isLeft

/** @internal The error of a failed outcome. */
export const failureOf = <A, E>(outcome: Either.Left<E, A>): E => outcome.left

/** @internal The value of a successful outcome. */
export const successOf = <A, E>(outcome: Either.Right<E, A>): A => outcome.right

/** @internal A successful outcome. */
export const succeed: <A>(value: A) => Outcome<A, never> = Either.right

/** @internal An outcome with its error mapped. */
export const mapFailure: typeof Either.mapLeft = Either.mapLeft

/** @internal The first failure of a cause, if it has one. */
export const firstFailure = <E>(cause: Cause.Cause<E>): E | undefined =>
  Option.getOrUndefined(Cause.failureOption(cause))

/** @internal Handles every cause of failure. */
export const catchAllCause = Effect.catchAllCause

/** @internal The layer's retry when the caller gives none: the engine's rule (`DEFAULT_RESENDS`) as a schedule. */
export const defaultRetry: Schedule.Schedule<unknown, MemcachedError> = Schedule.recurs(DEFAULT_RESENDS).pipe(
  Schedule.intersect(Schedule.recurWhile((error: MemcachedError) => resentByDefault(error.reason)))
)

/** @internal A schedule's steps: each takes a failure and succeeds while the schedule goes on (sleeping first). */
export const stepper = <E>(
  schedule: Schedule.Schedule<unknown, E>
): Effect.Effect<(input: E) => Effect.Effect<unknown, unknown>> =>
  Effect.map(Schedule.driver(schedule), (driver) => (input) => driver.next(input))

/** @internal An Effect that a callback resumes: `Effect.async` here, `Effect.callback` on the Effect 4 line. */
export const callback: <A, E, R = never>(
  register: (resume: (effect: Effect.Effect<A, E, R>) => void) => void
) => Effect.Effect<A, E, R> = Effect.async

/** @internal A running fiber, as the observed calls are kept by. */
export type RunningFiber = Fiber.RuntimeFiber<unknown, unknown>

/** @internal The fiber that runs the caller, if any (inside `callback`'s register: the one that suspends). */
export const currentFiber = (): RunningFiber | undefined => Option.getOrUndefined(Fiber.getCurrentFiber())

/** @internal Runs `f` with the fiber that runs it. */
export const withFiber: <A, E, R>(f: (fiber: RunningFiber) => Effect.Effect<A, E, R>) => Effect.Effect<A, E, R> =
  Effect.withFiberRuntime

/** Effect's built-in tracer: its spans go nowhere, so making them is pure cost. */
const nativeTracer = Context.get(DefaultServices.liveServices, Tracer.Tracer)

/** @internal Whether the fiber's tracer records spans: any but Effect's built-in one, whose spans go nowhere. */
export const tracesSpans = (fiber: RunningFiber): boolean => fiber.currentTracer !== nativeTracer

/** @internal Effect's built-in clock. */
export const liveClock: Clock.Clock = Context.get(DefaultServices.liveServices, Clock.Clock)

/** @internal The fiber's clock. */
export const clockOf = (fiber: RunningFiber): Clock.Clock => Context.get(fiber.currentDefaultServices, Clock.Clock)

/** @internal A clock's time in nanoseconds, for durations (its monotonic time on the Effect 4 line). */
export const clockNanos = (clock: Clock.Clock): bigint => clock.unsafeCurrentTimeNanos()

/**
 * @internal What a metric update is tagged with besides its series' own labels: the fiber's metric labels
 * (`Effect.tagMetrics`); its context on the Effect 4 line.
 */
export type MetricTags = ReadonlyArray<MetricLabel.MetricLabel>

/** @internal The fiber's metric tags, read once per operation. */
export const metricTagsOf = (fiber: RunningFiber): MetricTags => fiber.getFiberRef(FiberRef.currentMetricLabels)

/** @internal The metric tags of a call made on no fiber: none. */
export const noMetricTags: MetricTags = []

/** @internal Updates a metric at once, outside of any Effect. */
export const updateMetric = (metric: Metric.Metric<any, number, unknown>, value: number, tags: MetricTags): void =>
  metric.unsafeUpdate(value, tags)

/**
 * @internal Whether a fiber resumes in the async context it suspended in: not on this line, so a traced call sends
 * its request from its caller's (`Call.scope` in `observability.ts`).
 */
export const resumesInCallerContext = false

/** @internal `effect` when the fiber's minimum log level lets debug logs through, else nothing is built. */
export const whenDebugLogged = (effect: Effect.Effect<void>): Effect.Effect<void> =>
  Effect.asVoid(Effect.whenLogLevel(effect, "Debug"))
