/**
 * The OpenTelemetry suite (`../../test/support/otelSuite.ts`) on the Effect 4 line: `@effect/opentelemetry` 4's
 * tracer and metrics; `#line` resolves to `./support/line.ts` here.
 */
import * as OtelMetrics from "@effect/opentelemetry/OtelMetrics"
import * as OtelTracer from "@effect/opentelemetry/OtelTracer"
import * as OtelResource from "@effect/opentelemetry/Resource"
import { SpanStatusCode } from "@opentelemetry/api"
import { Layer } from "effect"
import { otelSuite } from "../../test/support/otelSuite.js"

otelSuite({
  TracingLive: OtelTracer.layerGlobal,
  metricsLayer: (reader) =>
    OtelMetrics.layer(() => reader).pipe(Layer.provide(OtelResource.layer({ serviceName: "otel-test" }))),
  afterWait: "none",
  okStatus: SpanStatusCode.UNSET
})
