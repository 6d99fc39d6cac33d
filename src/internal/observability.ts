/**
 * Spans and metrics around every public `Memcached` operation, named as `engine/telemetry.ts` says. The checked service
 * applies this once, on top of the shared rules, so the memjs backend and the in-memory fake are traced and measured
 * alike. Shared by both Effect lines: what differs between them (how a fiber's tracer, clock and metric labels are
 * read, and how a metric is updated) comes from `#effect-line`.
 *
 * Hook for backends: each call has a `Call` (`callOf(fiber)`), which a backend that knows the server of a request
 * tells it (`Call.sent`), as `memjsBackend.ts` does: the server goes on the span and labels the metrics. On the Effect
 * 3 line a backend also sends its request from `Call.scope`, the caller's async context (see `Call`).
 *
 * Spans cost nothing when nobody collects them: under Effect's built-in tracer, which records spans nowhere (no
 * tracer layer, no OpenTelemetry layer), or with `Effect.withTracerEnabled(false)`, no span is made at all.
 *
 * Operations added to `MemcachedService` later are traced and timed without a change here: a function member whose
 * first argument is a string is a single-key operation, anything else an operation without keys. Add it to `known`
 * if it reads keys (hits and misses) or takes a batch.
 *
 * @internal
 */
import type { Cause, MetricTags, ObservabilityOptions, RunningFiber, Tracer } from "#effect-line"
import {
  catchAllCause,
  clockNanos,
  clockOf,
  Effect,
  firstFailure,
  liveClock,
  metricTagsOf,
  Option,
  resumesInCallerContext,
  seriesOf,
  tracesSpans,
  updateMetric,
  withFiber
} from "#effect-line"
import { AsyncResource } from "node:async_hooks"
import type { LeaseAnswer } from "../engine/item.js"
import type { ServerAddress } from "../engine/servers.js"
import { Attribute, batchSizeOf, DB_SYSTEM_NAME, errorTypeOf, spanKeysOf, spanName } from "../engine/telemetry.js"

type Shape = "key" | "keys" | "entries" | "none"

interface OpInfo {
  readonly shape: Shape
  /**
   * What a read's result is: `one`, an `Option` (hit or miss); `lease`, a `LeaseAnswer` (a hit when it has an item,
   * stale or not); `many`, a map of the hits.
   */
  readonly read?: "one" | "lease" | "many" | undefined
}

const known: Readonly<Record<string, OpInfo>> = {
  get: { shape: "key", read: "one" },
  getAndTouch: { shape: "key", read: "one" },
  getWithCas: { shape: "key", read: "one" },
  getWithLease: { shape: "key", read: "lease" },
  getMany: { shape: "keys", read: "many" },
  setMany: { shape: "entries" },
  deleteMany: { shape: "keys" }
}

/**
 * One observed call, while it runs: its span, if one is made, and the server its request went to, which a backend
 * reports with `sent`.
 *
 * `scope` (Effect 3 line only) is the async context the caller was in, made before the call's span is: a backend
 * sends its request from there (`memjsBackend.ts`), so the caller resumes there when the answer comes. Inside the
 * span, a tracer that keeps an async context of its own (`@effect/opentelemetry`'s, over OpenTelemetry's
 * AsyncLocalStorage context manager) has made the span the active one, and resuming in that context would make the
 * ended span the parent of whatever span the caller starts next without an Effect parent. Resumed in the caller's
 * context, a memcached call leaves the caller's async context as any other asynchronous Effect does (`Effect.sleep`,
 * `Effect.promise`). An Effect 4 fiber resumes in the async context it suspended in (`FiberImpl.evaluate` keeps an
 * `AsyncResource`), whichever context the engine answers from, so that line needs no `scope`
 * (`resumesInCallerContext`; `observability.otel.test.ts` on both lines).
 *
 * @internal
 */
export class Call {
  span: Tracer.Span | undefined = undefined
  server: ServerAddress | undefined = undefined
  constructor(readonly scope: AsyncResource | undefined) {}

  /** The request went to `server`. */
  sent(server: ServerAddress): void {
    this.server = server
    if (this.span === undefined) return
    this.span.attribute(Attribute.serverAddress, server.host)
    this.span.attribute(Attribute.serverPort, server.port)
  }
}

/** Each fiber's observed call, while it runs (a fiber runs one operation at a time). */
const calls = new WeakMap<RunningFiber, Call>()

/** @internal The observed call `fiber` is running, if any. */
export const callOf = (fiber: RunningFiber): Call | undefined => calls.get(fiber)

/**
 * The same monotonic time as Effect's built-in clock, without its cost: its nanoseconds are a `bigint` from
 * `process.hrtime`, and two of them per operation measured about 1 µs of a 45 µs sequential get (Effect 3). Any other
 * clock (a `TestClock`, a custom one) is read through the `Clock` service as usual.
 */
const monotonicSeconds = () => performance.now() / 1000

/** @internal The time a call made without an Effect starts at, for `PlainRecorder`: Effect's built-in clock's. */
export const plainStart = (): number => monotonicSeconds()

/**
 * @internal Records a call made without an Effect step of its own, under the built-in clock, as `instrument` records
 * its own: the operation's name, when it started (`plainStart`), the server its request went to, how many keys a read
 * found (`undefined` for a failure or another operation), a failure's `error.type` (`errorTypeOf`), the metric tags
 * of the caller's fiber (none on no fiber) and, for a batch, its keys as the caller gave them.
 */
export type PlainRecorder = (
  name: string,
  start: number,
  server: ServerAddress | undefined,
  found: number | undefined,
  errorType: string | undefined,
  tags: MetricTags,
  batch?: ReadonlyArray<string>
) => void

/** @internal Each instrumented service's `PlainRecorder`, when its metrics are on. */
export const plainRecorders = new WeakMap<object, PlainRecorder>()

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

/** `error.type` of a failed call's cause: its first failure's, `_OTHER` for a defect. */
const errorTypeOfCause = (cause: Cause.Cause<unknown>): string => {
  const failure = firstFailure(cause)
  return failure === undefined ? "_OTHER" : errorTypeOf(failure)
}

type Series = ReturnType<typeof seriesOf>

interface Op {
  readonly name: string
  readonly info: OpInfo
  readonly spanName: string
  readonly attributes: Readonly<Record<string, unknown>>
  /** The metrics of each series, made when first updated: by server (`""` for none), and by error type. */
  readonly series: Map<string, Series>
}

/** How many keys a read found, from its result. */
const foundOf = (info: OpInfo, value: unknown): number =>
  info.read === "one"
    ? Option.isSome(value as Option.Option<unknown>) ? 1 : 0
    : info.read === "lease"
    ? (value as LeaseAnswer).item === undefined ? 0 : 1
    : (value as ReadonlyMap<string, unknown>).size

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
  const base = { ...options.spanAttributes, [Attribute.system]: DB_SYSTEM_NAME }

  const opOf = (name: string, info: OpInfo): Op => ({
    name,
    info,
    spanName: spanName(name),
    attributes: { ...base, [Attribute.operation]: name },
    series: new Map()
  })

  const seriesFor = (op: Op, server: ServerAddress | undefined, errorType: string | undefined): Series => {
    const id = errorType === undefined ? server?.label ?? "" : `${server?.label ?? ""} ${errorType}`
    let series = op.series.get(id)
    if (series === undefined) {
      series = seriesOf(op.name, server, errorType)
      op.series.set(id, series)
    }
    return series
  }

  /**
   * Plain updates with the fiber's metric tags, read once (`metricTagsOf`): no effect per metric. `found` is how many
   * keys a read found (`undefined` for any other operation), `errorType` a failure's.
   */
  const record = (
    op: Op,
    server: ServerAddress | undefined,
    found: number | undefined,
    errorType: string | undefined,
    seconds: number,
    batch: ReadonlyArray<string> | undefined,
    tags: MetricTags
  ) => {
    if (errorType !== undefined) return updateMetric(seriesFor(op, server, errorType).duration, seconds, tags)
    const series = seriesFor(op, server, undefined)
    updateMetric(series.duration, seconds, tags)
    if (found === undefined) return
    updateMetric(series.hits, found, tags)
    // All hit when as many were found as asked for: the distinct keys need counting only otherwise.
    const asked = batch === undefined ? 1 : found === batch.length ? found : new Set(batch).size
    updateMetric(series.misses, Math.max(0, asked - found), tags)
  }

  /**
   * Ends a call: the fiber's call is forgotten and, with metrics on, the metrics are updated, when the operation
   * succeeds or fails. (An interrupted operation is not counted: it neither hit, missed nor failed. `Effect.onExit`
   * would count it, at several times the cost on every operation.)
   *
   * A `flatMap` for success and a `catchAllCause` for failure, rather than one `matchCauseEffect`: over real
   * memcached the single frame with handlers made per call cost about 2 µs more per sequential get (Effect 3,
   * interleaved A/B, 20 rounds, three runs), and no less CPU per get with 16 or 256 in flight.
   */
  const complete = <A, E, R>(
    fiber: RunningFiber,
    op: Op,
    call: Call,
    effect: Effect.Effect<A, E, R>,
    batch: ReadonlyArray<string> | undefined
  ) => {
    let now: (() => number) | undefined
    let start = 0
    let tags: MetricTags | undefined
    if (metrics) {
      const clock = clockOf(fiber)
      tags = metricTagsOf(fiber)
      now = clock === liveClock ? monotonicSeconds : () => Number(clockNanos(clock)) / 1e9
      start = now()
    }
    const end = (value: unknown, cause: Cause.Cause<unknown> | undefined) => {
      if (calls.get(fiber) === call) calls.delete(fiber)
      if (now === undefined || tags === undefined) return
      const found = cause !== undefined || op.info.read === undefined ? undefined : foundOf(op.info, value)
      const errorType = cause === undefined ? undefined : errorTypeOfCause(cause)
      record(op, call.server, found, errorType, now() - start, batch, tags)
    }
    return catchAllCause(
      Effect.flatMap(effect, (value) => {
        end(value, undefined)
        return Effect.succeed(value)
      }),
      (cause) => {
        end(undefined, cause)
        return Effect.failCause(cause)
      }
    )
  }

  /** The span's attributes of what the call found and of how it failed, set before it ends. */
  const annotate = <A, E, R>(op: Op, span: Tracer.Span, effect: Effect.Effect<A, E, R>) =>
    catchAllCause(
      Effect.flatMap(effect, (value) => {
        if (op.info.read !== undefined) {
          const found = foundOf(op.info, value)
          span.attribute(Attribute.returnedRows, found)
          if (op.info.read !== "many") span.attribute(Attribute.hit, found === 1)
        }
        return Effect.succeed(value)
      }),
      (cause) => {
        span.attribute(Attribute.errorType, errorTypeOfCause(cause))
        return Effect.failCause(cause)
      }
    )

  const trace = <A, E, R>(
    op: Op,
    call: Call,
    effect: Effect.Effect<A, E, R>,
    args: ReadonlyArray<unknown>,
    batch: ReadonlyArray<string> | undefined
  ): Effect.Effect<A, E, R> => {
    let attributes = op.attributes
    const batchSize = batch === undefined ? undefined : batchSizeOf(batch.length)
    if (batchSize !== undefined || spanKeys) {
      const extra: Record<string, unknown> = { ...attributes }
      if (batchSize !== undefined) extra[Attribute.batchSize] = batchSize
      if (spanKeys && batch !== undefined) extra[Attribute.keys] = spanKeysOf(batch)
      else if (spanKeys && typeof args[0] === "string") extra[Attribute.key] = args[0]
      attributes = extra
    }
    const spanOptions = { kind: "client", captureStackTrace: false, attributes } as const
    const inSpan = (span: Tracer.Span): Effect.Effect<A, unknown, R> => {
      call.span = span
      const annotated = annotate(op, span, effect)
      return spanKeys ? annotated : Effect.mapError(annotated, hideFailure)
    }
    const traced = Effect.useSpan(op.spanName, spanOptions, inSpan)
    return (spanKeys ? traced : Effect.mapError(traced, unhideFailure)) as Effect.Effect<A, E, R>
  }

  /** One fiber look-up decides both: metrics when on, a span when on and some tracer collects it. */
  const observe = <A, E, R>(
    op: Op,
    effect: Effect.Effect<A, E, R>,
    args: ReadonlyArray<unknown>,
    batch: ReadonlyArray<string> | undefined
  ): Effect.Effect<A, E, R> =>
    withFiber((fiber) => {
      const traced = tracing && tracesSpans(fiber)
      const call = new Call(
        traced && !resumesInCallerContext ? new AsyncResource("effect-memcached.caller") : undefined
      )
      calls.set(fiber, call)
      return complete(fiber, op, call, traced ? trace(op, call, effect, args, batch) : effect, batch)
    })

  const wrapped: Record<string, unknown> = {}
  if (metrics) {
    const ops = new Map<string, Op>()
    plainRecorders.set(wrapped, (name, start, server, found, errorType, tags, batch) => {
      let op = ops.get(name)
      if (op === undefined) ops.set(name, op = opOf(name, known[name] ?? { shape: "key" }))
      record(op, server, found, errorType, monotonicSeconds() - start, batch, tags)
    })
  }
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
