/**
 * Spans and metrics around every public `Memcached` operation, named as `engine/telemetry.ts` says (the 1.x line's
 * names). The checked service applies this once, on top of the shared rules, so the memjs backend and the in-memory
 * fake are traced and measured alike.
 *
 * Hook for backends: each call has a `Call` (`callOf(fiber)`), which a backend that knows the server of a request
 * tells it (`Call.sent`), as `memjsBackend.ts` does: the server goes on the span and labels the metrics.
 *
 * Async context: an Effect 4 fiber resumes in the async context it suspended in (`FiberImpl.evaluate` keeps an
 * `AsyncResource`), whichever context the engine answers from, and the span is made with `Effect.useSpan`, so it is
 * never the current span of the caller's fiber: after a memcached call, the caller's OpenTelemetry context is the one
 * it had, as after `Effect.sleep` (`observability.otel.test.ts`). The 1.x line needs `Call.scope` for that; this line
 * does not.
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
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Tracer from "effect/Tracer"
import type { AsyncResource } from "node:async_hooks"
import type { ServerAddress } from "../../../src/engine/servers.js"
import {
  Attribute,
  batchSizeOf,
  DB_SYSTEM_NAME,
  errorTypeOf,
  spanKeysOf,
  spanName
} from "../../../src/engine/telemetry.js"
import type { ObservabilityOptions } from "../Observability.js"
import { seriesOf } from "../Observability.js"

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
 * One observed call, while it runs: its span, if one is made, and the server its request went to, which a backend
 * reports with `sent`.
 *
 * @internal
 */
export class Call {
  span: Tracer.Span | undefined = undefined
  server: ServerAddress | undefined = undefined
  /** None on this line: a fiber resumes in the async context it suspended in (see above). */
  readonly scope: AsyncResource | undefined = undefined

  /** The request went to `server`. */
  sent(server: ServerAddress): void {
    this.server = server
    if (this.span === undefined) return
    this.span.attribute(Attribute.serverAddress, server.host)
    this.span.attribute(Attribute.serverPort, server.port)
  }
}

/** Each fiber's observed call, while it runs (a fiber runs one operation at a time). */
const calls = new WeakMap<Fiber.Fiber<unknown, unknown>, Call>()

/** @internal The observed call `fiber` is running, if any. */
export const callOf = (fiber: Fiber.Fiber<unknown, unknown>): Call | undefined => calls.get(fiber)

/**
 * Effect's built-in clock (the default of the `Clock` reference), and the same monotonic time without its cost: its
 * nanoseconds are a `bigint` from `process.hrtime`. Any other clock (a `TestClock`, a custom one) is read through the
 * `Clock` service as usual.
 */
const liveClock = Context.get(Context.empty(), Clock.Clock)
const monotonicSeconds = () => performance.now() / 1000

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
  const failure = Cause.findErrorOption(cause)
  return Option.isSome(failure) ? errorTypeOf(failure.value) : "_OTHER"
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

  /** Plain updates with the attributes of the fiber's context (`Metric.CurrentMetricAttributes`): no effect per metric. */
  const record = (
    op: Op,
    call: Call,
    value: unknown,
    cause: Cause.Cause<unknown> | undefined,
    seconds: number,
    batch: ReadonlyArray<string> | undefined,
    context: Context.Context<never>
  ) => {
    if (cause !== undefined) {
      return seriesFor(op, call.server, errorTypeOfCause(cause)).duration.updateUnsafe(seconds, context)
    }
    const series = seriesFor(op, call.server, undefined)
    series.duration.updateUnsafe(seconds, context)
    if (op.info.read === undefined) return
    const found = foundOf(op.info, value)
    series.hits.updateUnsafe(found, context)
    // All hit when as many were found as asked for: the distinct keys need counting only otherwise.
    const asked = batch === undefined ? 1 : found === batch.length ? found : new Set(batch).size
    series.misses.updateUnsafe(Math.max(0, asked - found), context)
  }

  /**
   * Ends a call: the fiber's call is forgotten and, with metrics on, the metrics are updated, when the operation
   * succeeds or fails. (An interrupted operation is not counted: it neither hit, missed nor failed. `Effect.onExit`
   * would count it, at several times the cost on every operation.)
   *
   * A `flatMap` for success and a `catchCause` for failure, rather than one `matchCauseEffect`: over real memcached
   * the single frame with handlers made per call cost about 2 µs more per sequential get on the 1.x line.
   */
  const complete = <A, E, R>(
    fiber: Fiber.Fiber<unknown, unknown>,
    op: Op,
    call: Call,
    effect: Effect.Effect<A, E, R>,
    batch: ReadonlyArray<string> | undefined
  ) => {
    let now: (() => number) | undefined
    let start = 0
    const context = fiber.context
    if (metrics) {
      const clock = fiber.getRef(Clock.Clock)
      now = clock === liveClock ? monotonicSeconds : () => Number(clock.monotonicTimeNanosUnsafe()) / 1e9
      start = now()
    }
    const end = (value: unknown, cause: Cause.Cause<unknown> | undefined) => {
      if (calls.get(fiber) === call) calls.delete(fiber)
      if (now !== undefined) record(op, call, value, cause, now() - start, batch, context)
    }
    return Effect.catchCause(
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
    Effect.catchCause(
      Effect.flatMap(effect, (value) => {
        if (op.info.read !== undefined) {
          const found = foundOf(op.info, value)
          span.attribute(Attribute.returnedRows, found)
          if (op.info.read === "one") span.attribute(Attribute.hit, found === 1)
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
    Effect.withFiber((fiber) => {
      const traced = tracing && fiber.getRef(Tracer.Tracer) !== Tracer.nativeTracer
      const call = new Call()
      calls.set(fiber, call)
      return complete(fiber, op, call, traced ? trace(op, call, effect, args, batch) : effect, batch)
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
