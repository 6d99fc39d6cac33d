/**
 * The OpenTelemetry suite (`support/otelSuite.ts`) on the Effect 3 line: `@effect/opentelemetry` 0.x's tracer and
 * metrics, each with a resource.
 */
import * as OtelMetrics from "@effect/opentelemetry/Metrics"
import * as OtelResource from "@effect/opentelemetry/Resource"
import * as OtelTracer from "@effect/opentelemetry/Tracer"
import { SpanStatusCode } from "@opentelemetry/api"
import { Layer } from "effect"
import { otelSuite } from "./support/otelSuite.js"

const resource = OtelResource.layer({ serviceName: "otel-test" })

otelSuite({
  TracingLive: OtelTracer.layerGlobal.pipe(Layer.provide(resource)),
  metricsLayer: (reader) => OtelMetrics.layer(() => reader).pipe(Layer.provide(resource)),
  afterWait: "previous",
  okStatus: SpanStatusCode.OK
})
