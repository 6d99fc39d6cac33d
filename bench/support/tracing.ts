/**
 * `--tracing`: our sides traced through OpenTelemetry as a user's pipeline would trace them. `@effect/opentelemetry`'s
 * tracer over the OTel SDK, with the AsyncLocalStorage context manager that `@opentelemetry/sdk-node` registers
 * (registered once per process, for every side in it), and a `BatchSpanProcessor` whose exporter drops the spans, so
 * what is measured is making, ending and batching them, not sending them anywhere.
 *
 * - `none`:     no tracer: Effect's built-in one, which records nothing, so the library makes no span (the default).
 * - `otel`:     every operation's span recorded and exported.
 * - `sampled0`: the same tracer with an `AlwaysOffSampler`: every span made, none recorded (sampling at 0 %).
 * - `disabled`: the same tracer, with the layer option `tracing: false` (and no context manager cost saved).
 */
import * as OtelResource from "@effect/opentelemetry/Resource"
import * as OtelTracer from "@effect/opentelemetry/Tracer"
import * as OtelApi from "@opentelemetry/api"
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks"
import {
  AlwaysOffSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  type SpanExporter
} from "@opentelemetry/sdk-trace-base"
import { Layer } from "effect"

export const tracingModes = ["none", "otel", "sampled0", "disabled"] as const
export type TracingMode = (typeof tracingModes)[number]

export const isTracingMode = (mode: string): mode is TracingMode =>
  (tracingModes as ReadonlyArray<string>).includes(mode)

/** Drops every batch it is given. */
const discard: SpanExporter = {
  export: (_spans, done) => done({ code: 0 }),
  shutdown: () => Promise.resolve()
}

let registered = false

/** What `sdk-node` registers for the whole process: the AsyncLocalStorage context manager. */
const registerContextManager = () => {
  if (registered) return
  registered = true
  OtelApi.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
}

/** The layer that installs the mode's tracer (none for `none`), and the library's layer options for it. */
export const tracingOf = (mode: TracingMode): {
  readonly layer: Layer.Layer<never> | undefined
  readonly options: { readonly tracing?: boolean }
} => {
  if (mode === "none") return { layer: undefined, options: {} }
  registerContextManager()
  const provider = new BasicTracerProvider({
    ...(mode === "sampled0" ? { sampler: new AlwaysOffSampler() } : {}),
    spanProcessors: [new BatchSpanProcessor(discard, { maxQueueSize: 65_536, scheduledDelayMillis: 200 })]
  })
  const layer = OtelTracer.layer.pipe(
    Layer.provide(Layer.succeed(OtelTracer.OtelTracerProvider, provider)),
    Layer.provide(OtelResource.layer({ serviceName: "effect-memcached-bench" }))
  )
  return { layer, options: mode === "disabled" ? { tracing: false } : {} }
}
