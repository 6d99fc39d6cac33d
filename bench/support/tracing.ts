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
 *
 * Loaded with the library only (library.ts), so that a peer's process loads neither the OTel SDK nor Effect.
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
import type { TracingMode } from "./env.js"

let exported = 0

/** Drops every batch it is given, counting its spans. */
const discard: SpanExporter = {
  export: (spans, done) => {
    exported += spans.length
    done({ code: 0 })
  },
  shutdown: () => Promise.resolve()
}

const providers: Array<BasicTracerProvider> = []

/** Hands what every mode's tracer has batched to the exporter; resolves to the spans it was given so far (tests). */
export const flushSpans = async (): Promise<number> => {
  await Promise.all(providers.map((provider) => provider.forceFlush()))
  return exported
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
  providers.push(provider)
  const layer = OtelTracer.layer.pipe(
    Layer.provide(Layer.succeed(OtelTracer.OtelTracerProvider, provider)),
    Layer.provide(OtelResource.layer({ serviceName: "effect-memcached-bench" }))
  )
  return { layer, options: mode === "disabled" ? { tracing: false } : {} }
}
