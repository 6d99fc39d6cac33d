/**
 * Spans and metrics of the `Memcached` service, after OpenTelemetry's semantic conventions for database clients: the
 * options that turn them on, off or richer, the attribute names, and the metrics themselves, so you can read or
 * export them.
 *
 * @since 1.0.0
 */
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import * as MetricKey from "effect/MetricKey"
import { Attribute, Hits, metricLabels, Misses, OperationDuration } from "./engine/telemetry.js"

/**
 * Options of every `Memcached` layer (and of `MemcachedCache`) about spans and metrics. Values never appear in
 * spans, and neither does anything from the connection options but the server's host and port.
 *
 * @since 1.0.0
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
 * Metrics carry `system`, `operation`, `serverAddress`, `serverPort` and `errorType` as labels.
 *
 * @since 1.0.0
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
  /** `error.type`: why the operation failed (see `ErrorReason`), on failures only. @since 1.1.0 */
  readonly errorType: "error.type"
  /** `db.response.returned_rows`: how many items a read found. @since 1.1.0 */
  readonly returnedRows: "db.response.returned_rows"
  /** `memcached.hit`: whether a read of one key found it. @since 1.1.0 */
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
 * @since 1.0.0
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
 * @since 1.1.0
 * @category models
 */
export interface MetricSeries {
  /** `"host:port"` of the server, as in `servers`. */
  readonly server?: string | undefined
  readonly errorType?: ErrorReason | "_OTHER" | undefined
}

const durationKey = MetricKey.tagged(
  MetricKey.histogram(
    OperationDuration.name,
    MetricBoundaries.fromIterable(OperationDuration.boundaries),
    OperationDuration.description
  ),
  "unit",
  OperationDuration.unit
)
const hitsKey = MetricKey.tagged(
  MetricKey.counter(Hits.name, { description: Hits.description, incremental: true }),
  "unit",
  Hits.unit
)
const missesKey = MetricKey.tagged(
  MetricKey.counter(Misses.name, { description: Misses.description, incremental: true }),
  "unit",
  Misses.unit
)

/** `"host:port"` as the labels' host and port. */
const serverOf = (server: string | undefined) => {
  if (server === undefined) return undefined
  const colon = server.lastIndexOf(":")
  return { host: server.slice(0, colon), port: Number(server.slice(colon + 1)) }
}

const labelled = <Key extends MetricKey.MetricKey.Untyped>(
  key: Key,
  operation: string,
  server: { readonly host: string; readonly port: number } | undefined,
  errorType: string | undefined
): Key =>
  metricLabels(operation, server, errorType).reduce(
    (acc: Key, [name, value]) => MetricKey.tagged(acc, name, value) as Key,
    key
  )

/**
 * @internal The metrics of one series, made once and updated without a registry look-up each time.
 */
export const seriesOf = (
  operation: string,
  server: { readonly host: string; readonly port: number } | undefined,
  errorType?: string | undefined
) => ({
  duration: Metric.fromMetricKey(labelled(durationKey, operation, server, errorType)),
  hits: Metric.fromMetricKey(labelled(hitsKey, operation, server, undefined)),
  misses: Metric.fromMetricKey(labelled(missesKey, operation, server, undefined))
})

/**
 * The metrics every `Memcached` layer updates (unless `metrics: false`), named and labelled as OpenTelemetry's
 * database conventions say, so an exporter (`@effect/opentelemetry`'s `NodeSdk.layer` with a `metricReader`) feeds
 * stock database dashboards. Each is labelled by `db.system.name` (`memcached`), `db.operation.name` (the `Memcached`
 * method: `get`, `getMany`, `set`, …), `server.address` and `server.port` (when the operation went to one server),
 * plus `unit` (how `@effect/opentelemetry` learns a metric's unit).
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
 * @since 1.0.0
 * @category metrics
 */
export const CacheMetrics: {
  /** `db.client.operation.duration`, in seconds. @since 1.1.0 */
  readonly duration: Metric.Metric.Histogram<number>
  readonly hits: Metric.Metric.Counter<number>
  readonly misses: Metric.Metric.Counter<number>
  /** `duration` of one operation's series. @since 1.1.0 */
  readonly durationOf: (operation: string, series?: MetricSeries) => Metric.Metric.Histogram<number>
  /** `hits` of one operation's series. */
  readonly hitsOf: (operation: string, series?: Omit<MetricSeries, "errorType">) => Metric.Metric.Counter<number>
  /** `misses` of one operation's series. */
  readonly missesOf: (operation: string, series?: Omit<MetricSeries, "errorType">) => Metric.Metric.Counter<number>
} = {
  duration: Metric.fromMetricKey(durationKey),
  hits: Metric.fromMetricKey(hitsKey),
  misses: Metric.fromMetricKey(missesKey),
  durationOf: (operation, series) =>
    Metric.fromMetricKey(labelled(durationKey, operation, serverOf(series?.server), series?.errorType)),
  hitsOf: (operation, series) =>
    Metric.fromMetricKey(labelled(hitsKey, operation, serverOf(series?.server), undefined)),
  missesOf: (operation, series) =>
    Metric.fromMetricKey(labelled(missesKey, operation, serverOf(series?.server), undefined))
}
