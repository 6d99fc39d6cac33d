/**
 * Spans and metrics of the `Memcached` service, after OpenTelemetry's semantic conventions for database clients: the
 * options that turn them on, off or richer, the attribute names, and the metrics themselves, so you can read or
 * export them. The names are the 1.x line's (`engine/telemetry.ts`), so both lines feed the same dashboards.
 *
 * @since 2.0.0
 */
import * as Metric from "effect/Metric"
import { Attribute, Hits, metricLabels, Misses, OperationDuration } from "../../src/engine/telemetry.js"

/**
 * Options of every `Memcached` layer (and of `MemcachedCache`) about spans and metrics. Values never appear in
 * spans, and neither does anything from the connection options but the server's host and port.
 *
 * @since 2.0.0
 * @category models
 */
export interface ObservabilityOptions {
  /**
   * One span per operation, kind `client`, named by the operation (`get`, `getMany`, `set`, …). `false` skips the
   * span entirely. @default true
   */
  readonly tracing?: boolean | undefined
  /** Extra attributes on every span, such as `{ "peer.service": "sessions" }`. @default {} */
  readonly spanAttributes?: Readonly<Record<string, unknown>> | undefined
  /**
   * Put keys in spans: `memcached.key` on single-key operations, `memcached.keys` (the first 32, separated by spaces)
   * on batches. Keys can carry personal data, so they are left out by default, and failures are then recorded in
   * spans without the key.
   * @default false
   */
  readonly spanKeys?: boolean | undefined
  /** Update `CacheMetrics` (operation durations, hits, misses). `false` skips them entirely. @default true */
  readonly metrics?: boolean | undefined
}

/**
 * Span attribute names: OpenTelemetry's database conventions, plus `memcached.*` for what they have no name for.
 * Metrics carry `system`, `operation`, `serverAddress`, `serverPort` and `errorType` as attributes.
 *
 * @since 2.0.0
 * @category models
 */
export const SpanAttributes: {
  /** `db.system.name`: always `"memcached"`. */
  readonly system: "db.system.name"
  /** `db.operation.name`: the `Memcached` operation, `get`, `getMany`, `set`, … */
  readonly operation: "db.operation.name"
  /** `db.operation.batch.size`: how many keys a batch (`getMany`, `setMany`, `deleteMany`) carried, if 2 or more. */
  readonly batchSize: "db.operation.batch.size"
  /** `server.address`: the server's host, when the operation went to one server. */
  readonly serverAddress: "server.address"
  /** `server.port`: the server's port, with `server.address`. */
  readonly serverPort: "server.port"
  /** `error.type`: why the operation failed (see `ErrorReason`), on failures only. */
  readonly errorType: "error.type"
  /** `db.response.returned_rows`: how many items a read found. */
  readonly returnedRows: "db.response.returned_rows"
  /** `memcached.hit`: whether a read of one key found it. */
  readonly hit: "memcached.hit"
  /** `memcached.key`: the key, with `spanKeys: true` only. */
  readonly key: "memcached.key"
  /** `memcached.keys`: the first 32 keys of a batch, separated by spaces, with `spanKeys: true` only. */
  readonly keys: "memcached.keys"
} = Attribute

/**
 * Why an operation failed, as `error.type` on its span and on `CacheMetrics.duration`: a `MemcachedError`'s reason,
 * or the tag of the error the rules raised before anything was sent (`_OTHER` for a defect).
 *
 * @since 2.0.0
 * @category models
 */
export type ErrorReason =
  | "Unavailable"
  | "Timeout"
  | "Auth"
  | "Protocol"
  | "InvalidKey"
  | "InvalidArgument"
  | "ValueTooLarge"

/**
 * Which series of a metric to read: the operation's, on one server (`"host:port"`; none for the in-memory store or
 * an operation over several servers), failed with one error type (none for successes).
 *
 * @since 2.0.0
 * @category models
 */
export interface MetricSeries {
  /** `"host:port"` of the server, as in `servers`. */
  readonly server?: string | undefined
  readonly errorType?: ErrorReason | "_OTHER" | undefined
}

/** A series' attributes: `unit` (how `@effect/opentelemetry` learns a metric's unit), then the conventions'. */
const attributesOf = (
  unit: string,
  operation: string | undefined,
  server: { readonly host: string; readonly port: number } | undefined,
  errorType: string | undefined
): Record<string, string> =>
  Object.fromEntries([["unit", unit], ...(operation === undefined ? [] : metricLabels(operation, server, errorType))])

const duration = (
  operation?: string,
  server?: { readonly host: string; readonly port: number },
  errorType?: string
): Metric.Histogram<number> =>
  Metric.histogram(OperationDuration.name, {
    description: OperationDuration.description,
    boundaries: Metric.boundariesFromIterable(OperationDuration.boundaries),
    attributes: attributesOf(OperationDuration.unit, operation, server, errorType)
  })

const counter = (
  of: typeof Hits | typeof Misses,
  operation?: string,
  server?: { readonly host: string; readonly port: number }
): Metric.Counter<number> =>
  Metric.counter(of.name, {
    description: of.description,
    incremental: true,
    attributes: attributesOf(of.unit, operation, server, undefined)
  })

/** `"host:port"` as the attributes' host and port. */
const serverOf = (server: string | undefined) => {
  if (server === undefined) return undefined
  const colon = server.lastIndexOf(":")
  return { host: server.slice(0, colon), port: Number(server.slice(colon + 1)) }
}

/**
 * @internal The metrics of one series, made once and updated without making them again each time.
 */
export const seriesOf = (
  operation: string,
  server: { readonly host: string; readonly port: number } | undefined,
  errorType?: string | undefined
) => ({
  duration: duration(operation, server, errorType),
  hits: counter(Hits, operation, server),
  misses: counter(Misses, operation, server)
})

/**
 * The metrics every `Memcached` layer updates (unless `metrics: false`), named and with the attributes OpenTelemetry's
 * database conventions say, so an exporter (`@effect/opentelemetry`'s `OtelMetrics.layer` or `NodeSdk.layer` with a
 * `metricReader`) feeds stock database dashboards. Each series has `db.system.name` (`memcached`), `db.operation.name`
 * (the `Memcached` method: `get`, `getMany`, `set`, …), `server.address` and `server.port` (when the operation went
 * to one server), plus `unit` (how `@effect/opentelemetry` learns a metric's unit).
 *
 * - `duration`: `db.client.operation.duration`, a histogram of each operation's duration in seconds, retries
 *   included, with the conventions' buckets (1 ms to 10 s); a failure also by `error.type` (see `ErrorReason`), so
 *   failures are counted there.
 * - `hits`, `misses`: keys found and not found by `get`, `getMany`, `getAndTouch`, `getWithCas` and, over meta,
 *   `getWithLease` (`getOrSet` with a lease) (so also by `Cache.get`, `has`, `getOrSet`…). A `getMany` of 10 keys
 *   with 7 found counts 7 hits and 3 misses.
 *
 * Read one series with `Metric.value(CacheMetrics.hitsOf("get", { server: "127.0.0.1:11211" }))`, or list them all
 * with `Metric.snapshot`.
 *
 * @since 2.0.0
 * @category metrics
 */
export const CacheMetrics: {
  /** `db.client.operation.duration`, in seconds. */
  readonly duration: Metric.Histogram<number>
  readonly hits: Metric.Counter<number>
  readonly misses: Metric.Counter<number>
  /** `duration` of one operation's series. */
  readonly durationOf: (operation: string, series?: MetricSeries) => Metric.Histogram<number>
  /** `hits` of one operation's series. */
  readonly hitsOf: (operation: string, series?: Omit<MetricSeries, "errorType">) => Metric.Counter<number>
  /** `misses` of one operation's series. */
  readonly missesOf: (operation: string, series?: Omit<MetricSeries, "errorType">) => Metric.Counter<number>
} = {
  duration: duration(),
  hits: counter(Hits),
  misses: counter(Misses),
  durationOf: (operation, series) => duration(operation, serverOf(series?.server), series?.errorType),
  hitsOf: (operation, series) => counter(Hits, operation, serverOf(series?.server)),
  missesOf: (operation, series) => counter(Misses, operation, serverOf(series?.server))
}
