/**
 * Spans and metrics around every public `Memcached` operation. The checked service applies this once, on top of the
 * shared rules, so the memjs backend and the in-memory fake are traced and measured alike.
 *
 * Hook for backends: a backend's work runs inside the operation's span, so a backend that knows the server of a
 * request puts it there as `SpanAttributes.serverAddress` (and `serverPort`), as `memjsBackend.ts` does. With
 * `tracing: false` there is no span of ours, and such attributes land on the caller's span, if any.
 *
 * Spans cost nothing when nobody collects them: under Effect's built-in tracer, which records spans nowhere (no
 * `Effect.withTracer`, no OpenTelemetry layer), or with `Effect.withTracerEnabled(false)`, no span is made at all.
 *
 * Operations added to `MemcachedService` later are traced and timed without a change here: a function member whose
 * first argument is a string is a single-key operation, anything else an operation without keys. Add it to `known`
 * if it reads keys (hits and misses) or takes a batch.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as DefaultServices from "effect/DefaultServices"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import type * as Metric from "effect/Metric"
import type * as MetricLabel from "effect/MetricLabel"
import * as Option from "effect/Option"
import * as Tracer from "effect/Tracer"
import { AsyncResource } from "node:async_hooks"
import type { ErrorReason, ObservabilityOptions } from "../Observability.js"
import { CacheMetrics, SpanAttributes } from "../Observability.js"

type Shape = "key" | "keys" | "entries" | "none"

interface OpInfo {
  readonly shape: Shape
  /** `one`: the result is an `Option` (hit or miss); `many`: a map of the hits. */
  readonly read?: "one" | "many" | undefined
}

const known: Readonly<Record<string, OpInfo>> = {
  get: { shape: "key", read: "one" },
  getAndTouch: { shape: "key", read: "one" },
  getWithCas: { shape: "key", read: "one" },
  getMany: { shape: "keys", read: "many" },
  setMany: { shape: "entries" },
  deleteMany: { shape: "keys" }
}

/**
 * The async context a traced operation's caller was in, for the backend to send its request from (`memjsBackend.ts`),
 * so that the caller resumes there when the answer comes. Inside the operation's span, a tracer that keeps an async
 * context of its own (`@effect/opentelemetry`'s, over OpenTelemetry's AsyncLocalStorage context manager) has made the
 * operation's span the active one; resuming in that context would make the ended span the parent of whatever span the
 * caller starts next without an Effect parent. Resumed in the caller's context, a memcached call leaves the caller's
 * async context as any other asynchronous Effect does (`Effect.sleep`, `Effect.promise`).
 *
 * @internal
 */
export const callerScope: FiberRef.FiberRef<AsyncResource | undefined> = FiberRef.unsafeMake<
  AsyncResource | undefined
>(undefined)

/** Effect's built-in tracer: its spans go nowhere, so making them is pure cost. */
const nativeTracer = Context.get(DefaultServices.liveServices, Tracer.Tracer)

/**
 * Effect's built-in clock, and the same monotonic time without its cost: its nanoseconds are a `bigint` from
 * `process.hrtime`, and two of them per operation measured about 1 µs of a 45 µs sequential get. Any other clock
 * (a `TestClock`, a custom one) is read through the `Clock` service as usual.
 */
const liveClock = Context.get(DefaultServices.liveServices, Clock.Clock)
const monotonicMillis = () => performance.now()

/** How many keys of a batch go into `memcached.keys` (with `spanKeys`). */
const MAX_SPAN_KEYS = 32

const reasonOf = (error: unknown): ErrorReason | undefined => {
  if (typeof error !== "object" || error === null || !("_tag" in error)) return undefined
  switch (error._tag) {
    case "MemcachedError":
      return (error as unknown as { readonly reason: ErrorReason }).reason
    case "InvalidKey":
    case "InvalidArgument":
    case "ValueTooLarge":
      return error._tag
    default:
      return undefined
  }
}

/**
 * What a span records of a failure when keys are kept out of spans: the error's tag, reason and server, never its
 * key or detail (a detail may quote a key). The caller still gets the original error.
 */
class SpanSafeError extends Error {
  readonly _tag: string
  constructor(readonly original: unknown) {
    const tagged = original as { readonly _tag?: string; readonly reason?: string; readonly server?: string }
    const tag = tagged._tag ?? "Error"
    const reason = tag === "MemcachedError" && tagged.reason ? ` ${tagged.reason}` : ""
    const server = tag === "MemcachedError" && tagged.server ? ` at ${tagged.server}` : ""
    super(`${tag}${reason}${server}`)
    this._tag = tag
    this.name = tag
    this.stack = `${this.name}: ${this.message}`
    Object.defineProperty(this, "original", { enumerable: false })
  }
}

const hideFailure = (error: unknown) => new SpanSafeError(error)
const unhideFailure = (error: unknown) => error instanceof SpanSafeError ? error.original : error

interface Op {
  readonly name: string
  readonly info: OpInfo
  readonly spanName: string
  readonly attributes: Readonly<Record<string, unknown>>
  readonly latency: Metric.Metric.Histogram<number>
  readonly hits: Metric.Metric.Counter<number>
  readonly misses: Metric.Metric.Counter<number>
  readonly errors: Map<ErrorReason, Metric.Metric.Counter<number>>
}

/**
 * Wraps every member of a service (functions returning Effects, and Effects) in a span and metrics. Returns the
 * service itself when both are off.
 *
 * @internal
 */
export const instrument = <S extends object>(service: S, options: ObservabilityOptions): S => {
  const tracing = options.tracing ?? true
  const metrics = options.metrics ?? true
  if (!tracing && !metrics) return service
  const spanKeys = options.spanKeys ?? false
  const base = { ...options.spanAttributes, [SpanAttributes.system]: "memcached" }

  const opOf = (name: string, info: OpInfo): Op => ({
    name,
    info,
    spanName: `memcached.${name}`,
    attributes: { ...base, [SpanAttributes.operation]: name },
    latency: CacheMetrics.latencyOf(name),
    hits: CacheMetrics.hitsOf(name),
    misses: CacheMetrics.missesOf(name),
    errors: new Map()
  })

  const errorMetric = (op: Op, reason: ErrorReason) => {
    let metric = op.errors.get(reason)
    if (!metric) {
      metric = CacheMetrics.errorsOf(op.name, reason)
      op.errors.set(reason, metric)
    }
    return metric
  }

  /** Plain updates with the labels read once from the fiber (`Effect.tagMetrics`): no effect per metric. */
  const record = (
    op: Op,
    exit: Exit.Exit<unknown, unknown>,
    millis: number,
    batch: ReadonlyArray<string> | undefined,
    labels: ReadonlyArray<MetricLabel.MetricLabel>
  ) => {
    op.latency.unsafeUpdate(millis, labels)
    if (Exit.isSuccess(exit)) {
      if (op.info.read === "one") {
        const found = Option.isSome(exit.value as Option.Option<unknown>)
        if (found) op.hits.unsafeUpdate(1, labels)
        else op.misses.unsafeUpdate(1, labels)
      } else if (op.info.read === "many") {
        const found = (exit.value as ReadonlyMap<string, unknown>).size
        op.hits.unsafeUpdate(found, labels)
        // All hit when as many were found as asked for: the distinct keys need counting only otherwise.
        const misses = batch === undefined || found === batch.length ? 0 : new Set(batch).size - found
        op.misses.unsafeUpdate(Math.max(0, misses), labels)
      }
      return
    }
    const failure = Cause.failureOption(exit.cause)
    const reason = Option.isSome(failure) ? reasonOf(failure.value) : undefined
    if (reason) errorMetric(op, reason).unsafeUpdate(1, labels)
  }

  /**
   * The metrics, updated when the operation succeeds or fails. (An interrupted operation is not counted: it neither
   * hit, missed nor failed. `Effect.onExit` would count it, at several times the cost on every operation.)
   *
   * A `flatMap` for success and a `catchAllCause` for failure, rather than one `matchCauseEffect`: over real
   * memcached the single frame with handlers made per call cost about 2 µs more per sequential get (interleaved
   * A/B, 20 rounds, three runs), and no less CPU per get with 16 or 256 in flight.
   */
  const measure = <A, E, R>(
    fiber: Fiber.RuntimeFiber<unknown, unknown>,
    op: Op,
    effect: Effect.Effect<A, E, R>,
    batch: ReadonlyArray<string> | undefined
  ) => {
    const clock = Context.get(fiber.currentDefaultServices, Clock.Clock)
    const labels = fiber.getFiberRef(FiberRef.currentMetricLabels)
    const now = clock === liveClock ? monotonicMillis : () => Number(clock.unsafeCurrentTimeNanos()) / 1e6
    const start = now()
    return Effect.catchAllCause(
      Effect.flatMap(effect, (value) => {
        const exit = Exit.succeed(value)
        record(op, exit, now() - start, batch, labels)
        return exit
      }),
      (cause) => {
        const exit = Exit.failCause(cause)
        record(op, exit, now() - start, batch, labels)
        return exit
      }
    )
  }

  const trace = <A, E, R>(
    op: Op,
    effect: Effect.Effect<A, E, R>,
    args: ReadonlyArray<unknown>,
    batch: ReadonlyArray<string> | undefined
  ) => {
    let attributes = op.attributes
    if (batch !== undefined || spanKeys) {
      const extra: Record<string, unknown> = { ...attributes }
      if (batch !== undefined) {
        extra[SpanAttributes.batchSize] = batch.length
        if (spanKeys) extra[SpanAttributes.keys] = batch.slice(0, MAX_SPAN_KEYS)
      } else if (spanKeys && typeof args[0] === "string") {
        extra[SpanAttributes.key] = args[0]
      }
      attributes = extra
    }
    const spanOptions = { kind: "client", captureStackTrace: false, attributes } as const
    const traced = spanKeys
      ? Effect.withSpan(effect, op.spanName, spanOptions)
      : Effect.mapError(
        Effect.withSpan(Effect.mapError(effect, hideFailure), op.spanName, spanOptions),
        unhideFailure
      ) as Effect.Effect<A, E, R>
    return Effect.locally(traced, callerScope, new AsyncResource("effect-memcached.caller"))
  }

  /** One fiber look-up decides both: metrics when on, a span when on and some tracer collects it. */
  const observe = <A, E, R>(
    op: Op,
    effect: Effect.Effect<A, E, R>,
    args: ReadonlyArray<unknown>,
    batch: ReadonlyArray<string> | undefined
  ): Effect.Effect<A, E, R> =>
    Effect.withFiberRuntime((fiber) => {
      let observed = effect
      if (metrics) {
        observed = measure(fiber, op, observed, batch)
      }
      if (tracing && fiber.currentTracer !== nativeTracer) observed = trace(op, observed, args, batch)
      return observed
    })

  const wrapped: Record<string, unknown> = {}
  for (const [name, member] of Object.entries(service)) {
    if (Effect.isEffect(member)) {
      wrapped[name] = observe(opOf(name, { shape: "none" }), member, [], undefined)
    } else if (typeof member === "function") {
      const fn = member as (...args: ReadonlyArray<unknown>) => Effect.Effect<unknown, unknown, unknown>
      const info = known[name]
      const op = opOf(name, info ?? { shape: "key" })
      if (info?.shape === "keys") {
        wrapped[name] = (keys: Iterable<string>, ...rest: ReadonlyArray<unknown>) => {
          const batch = Array.from(keys)
          return observe(op, fn(batch, ...rest), [batch, ...rest], batch)
        }
      } else if (info?.shape === "entries") {
        wrapped[name] = (entries: Iterable<readonly [string, unknown]>, ...rest: ReadonlyArray<unknown>) => {
          const pairs = Array.from(entries)
          return observe(op, fn(pairs, ...rest), [pairs, ...rest], pairs.map(([key]) => key))
        }
      } else {
        wrapped[name] = (...args: ReadonlyArray<unknown>) => observe(op, fn(...args), args, undefined)
      }
    } else {
      wrapped[name] = member
    }
  }
  return wrapped as S
}
