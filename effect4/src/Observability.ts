/**
 * Spans and metrics of the `Memcached` service: the options that turn them on, off or richer, and the metrics
 * themselves, so you can read or export them.
 *
 * @since 2.0.0
 */
import * as Metric from "effect/Metric"

/**
 * Options of every `Memcached` layer (and of `MemcachedCache`) about spans and metrics. Values never appear in
 * spans, and neither does anything from the connection options but `host:port`.
 *
 * @since 2.0.0
 * @category models
 */
export interface ObservabilityOptions {
  /** One span per operation (`memcached.<op>`, kind `client`). `false` skips the span entirely. @default true */
  readonly tracing?: boolean | undefined
  /** Extra attributes on every span, such as `{ "peer.service": "sessions" }`. @default {} */
  readonly spanAttributes?: Readonly<Record<string, unknown>> | undefined
  /**
   * Put keys in spans: `memcached.key` on single-key operations, `memcached.keys` (the first 32) on batches. Keys can
   * carry personal data, so they are left out by default, and failures are then recorded in spans without the key.
   * @default false
   */
  readonly spanKeys?: boolean | undefined
  /** Update `CacheMetrics` (hits, misses, errors, latency). `false` skips them entirely. @default true */
  readonly metrics?: boolean | undefined
}

/**
 * Span attribute names (OpenTelemetry's database conventions, plus our own for keys).
 *
 * @since 2.0.0
 * @category models
 */
export const SpanAttributes = {
  /** Always `"memcached"`. */
  system: "db.system.name",
  /** The `Memcached` operation: `get`, `getMany`, `set`, … */
  operation: "db.operation.name",
  /** How many keys a batch (`getMany`, `setMany`, `deleteMany`) carried. */
  batchSize: "db.operation.batch.size",
  /** The server of the operation (`host`), when the backend knows it. */
  serverAddress: "server.address",
  /** The server's port, when the backend knows it. */
  serverPort: "server.port",
  /** The key, with `spanKeys: true` only. */
  key: "memcached.key",
  /** The first 32 keys of a batch, with `spanKeys: true` only. */
  keys: "memcached.keys"
} as const

/**
 * Why an operation failed, as the `reason` label of `CacheMetrics.errors`: a `MemcachedError`'s reason, or the tag of
 * the error the rules raised before anything was sent.
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

/** Latency buckets, in milliseconds: from a loopback round trip to a timed-out one. */
const boundaries = Metric.boundariesFromIterable([
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  25,
  50,
  100,
  250,
  500,
  1000,
  2500,
  5000,
  10000
])

const hitsOptions = { description: "Keys found by get, getMany and getAndTouch", incremental: true } as const
const missesOptions = { description: "Keys not found by get, getMany and getAndTouch", incremental: true } as const
const errorsOptions = { description: "Failed operations, by operation and reason", incremental: true } as const
const latencyOptions = {
  description: "Duration of each memcached operation in milliseconds, retries included",
  boundaries
} as const

/**
 * The metrics every `Memcached` layer updates (unless `metrics: false`). Each is labelled by `operation` (the
 * `Memcached` method: `get`, `getMany`, `set`, …); `errors` also by `reason`. Read one with
 * `Metric.value(CacheMetrics.hitsOf("get"))`, or export them all (`Metric.snapshot`, an OpenTelemetry exporter).
 *
 * - `hits`, `misses`: keys found and not found by `get`, `getMany` and `getAndTouch` (so also by `Cache.get`,
 *   `has`, `getOrSet`…). A `getMany` of 10 keys with 7 found counts 7 hits and 3 misses.
 * - `errors`: failed operations, by `reason` (see `ErrorReason`).
 * - `latency`: a histogram of each operation's duration in milliseconds, retries included.
 *
 * @since 2.0.0
 * @category metrics
 */
export const CacheMetrics: {
  readonly hits: Metric.Counter<number>
  readonly misses: Metric.Counter<number>
  readonly errors: Metric.Counter<number>
  readonly latency: Metric.Histogram<number>
  /** `hits` of one operation. */
  readonly hitsOf: (operation: string) => Metric.Counter<number>
  /** `misses` of one operation. */
  readonly missesOf: (operation: string) => Metric.Counter<number>
  /** `errors` of one operation and reason. */
  readonly errorsOf: (operation: string, reason: ErrorReason) => Metric.Counter<number>
  /** `latency` of one operation. */
  readonly latencyOf: (operation: string) => Metric.Histogram<number>
} = {
  hits: Metric.counter("memcached.hits", hitsOptions),
  misses: Metric.counter("memcached.misses", missesOptions),
  errors: Metric.counter("memcached.errors", errorsOptions),
  latency: Metric.histogram("memcached.operation.duration", latencyOptions),
  hitsOf: (operation) => Metric.counter("memcached.hits", { ...hitsOptions, attributes: { operation } }),
  missesOf: (operation) => Metric.counter("memcached.misses", { ...missesOptions, attributes: { operation } }),
  errorsOf: (operation, reason) =>
    Metric.counter("memcached.errors", { ...errorsOptions, attributes: { operation, reason } }),
  latencyOf: (operation) =>
    Metric.histogram("memcached.operation.duration", { ...latencyOptions, attributes: { operation } })
}
