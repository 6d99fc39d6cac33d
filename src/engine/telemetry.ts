/**
 * What memcached's spans and metrics are called and what they carry, after OpenTelemetry's semantic conventions for
 * database clients (https://opentelemetry.io/docs/specs/semconv/database/), so that stock database dashboards read
 * them. One home for the names of both Effect lines: each builds its spans and metrics from these.
 *
 * @internal
 */
import type { ServerAddress } from "./servers.js"

/** @internal `db.system.name` of every span and metric. */
export const DB_SYSTEM_NAME = "memcached"

/** @internal Attribute names: the conventions', and `memcached.*` for what they have no name for. */
export const Attribute = {
  /** Always `"memcached"`. Spans and metrics. */
  system: "db.system.name",
  /** The `Memcached` operation: `get`, `getMany`, `set`, … Spans and metrics. */
  operation: "db.operation.name",
  /** How many keys a batch carried, when 2 or more. Spans. */
  batchSize: "db.operation.batch.size",
  /** The server's host, when the operation went to one server. Spans and metrics. */
  serverAddress: "server.address",
  /** The server's port, with `server.address`. Spans and metrics. */
  serverPort: "server.port",
  /** Why the operation failed (see `errorTypeOf`). Spans and metrics, on failures only. */
  errorType: "error.type",
  /** How many items a read found: 0 or 1 for one key, the hits of a batch. Spans. */
  returnedRows: "db.response.returned_rows",
  /** Whether a read of one key found it. Spans. */
  hit: "memcached.hit",
  /** The key, with `spanKeys` only. Spans. */
  key: "memcached.key",
  /** The first `MAX_SPAN_KEYS` keys of a batch, separated by spaces, with `spanKeys` only. Spans. */
  keys: "memcached.keys"
} as const

/** @internal How many keys of a batch `memcached.keys` lists. */
export const MAX_SPAN_KEYS = 32

/** @internal A span is named by its operation, as the conventions name a span by `db.operation.name`. */
export const spanName = (operation: string): string => operation

/** @internal The conventions' histogram of operation durations, in seconds, with their bucket boundaries. */
export const OperationDuration = {
  name: "db.client.operation.duration",
  unit: "s",
  description: "Duration of memcached client operations, retries included",
  boundaries: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10]
} as const

/**
 * @internal Keys found by reads (`get`, `getMany`, `getAndTouch`, `getWithCas`, `getWithLease`), labelled as the
 * histogram.
 */
export const Hits = { name: "memcached.hits", unit: "{key}", description: "Keys found by memcached reads" } as const

/** @internal Keys not found by reads, labelled as the histogram. */
export const Misses = {
  name: "memcached.misses",
  unit: "{key}",
  description: "Keys not found by memcached reads"
} as const

/**
 * @internal `error.type` of a failure: a `MemcachedError`'s reason (`Unavailable`, `Timeout`, `Auth`, `Protocol`),
 * otherwise the error's tag (`InvalidKey`, `InvalidArgument`, `ValueTooLarge`, …), and the conventions' `_OTHER`
 * for anything without one (a defect).
 */
export const errorTypeOf = (error: unknown): string => {
  if (typeof error !== "object" || error === null || !("_tag" in error) || typeof error._tag !== "string") {
    return "_OTHER"
  }
  if (error._tag === "MemcachedError" && "reason" in error && typeof error.reason === "string") return error.reason
  return error._tag
}

/** @internal `db.operation.batch.size`: the conventions set it for 2 or more only. */
export const batchSizeOf = (keys: number): number | undefined => keys >= 2 ? keys : undefined

/** @internal `memcached.keys`: the first keys of a batch as one string, separated by spaces as in memcached's `get`. */
export const spanKeysOf = (keys: ReadonlyArray<string>): string => keys.slice(0, MAX_SPAN_KEYS).join(" ")

/**
 * @internal The labels of a metric update, in this order (a metric's labels are ordered): system, operation, the
 * server when the operation went to one, and the error type of a failure.
 */
export const metricLabels = (
  operation: string,
  server: Pick<ServerAddress, "host" | "port"> | undefined,
  errorType: string | undefined
): Array<readonly [string, string]> => {
  const labels: Array<readonly [string, string]> = [[Attribute.system, DB_SYSTEM_NAME], [
    Attribute.operation,
    operation
  ]]
  if (server !== undefined) {
    labels.push([Attribute.serverAddress, server.host], [Attribute.serverPort, String(server.port)])
  }
  if (errorType !== undefined) labels.push([Attribute.errorType, errorType])
  return labels
}
