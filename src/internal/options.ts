/**
 * The layers' options: their types (which `Memcached` re-exports) and their checks. The checks are
 * shared by the layers (which fail with a `ConfigError`) and the Promise facade (which throws a `TypeError` from its
 * constructor). Each check gives the option's name and what is wrong with it, with the fix, never throws, and never
 * quotes a password.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import type {
  CheckedConnectionOptions,
  CheckedLayerOptions,
  ConnectionOptionsInput,
  LayerOptionsInput,
  MemjsClientLike,
  OptionReaders
} from "../engine/options.js"
import {
  BadOption,
  checkConnectionOptions as checkConnection,
  checkLayerOptions as checkLayer,
  checkServers as checkServerList
} from "../engine/options.js"
import type { PlacementOption } from "../engine/placementChoice.js"
import type { ServerAddress, ServerSpec } from "../engine/servers.js"
import type { TlsOption } from "../engine/tls.js"
import type { MemcachedError } from "../errors/MemcachedError.js"
import type { ObservabilityOptions } from "../Observability.js"
import type { DurationWithUnits, Ttl } from "./ttl.js"

export type { BadOption, CheckedConnectionOptions, MemjsClientLike, PlacementOption }

/**
 * Options every `Memcached` layer takes, whatever it runs over: the key, TTL and size rules, retries, and spans and
 * metrics (`ObservabilityOptions`). Public as `LayerOptions` of `Memcached`.
 */
export interface LayerOptions extends ObservabilityOptions {
  /** TTL of writes that give none: positive, or `null` for never. @default "300 seconds" */
  readonly defaultTtl?: Ttl | undefined
  /** Prepended to every key; the 250-byte limit counts it. @default "" */
  readonly keyPrefix?: string | undefined
  /** Store keys over 250 bytes as `prefix + "#" + sha256(key)` instead of failing with `InvalidKey`. @default false */
  readonly hashLongKeys?: boolean | undefined
  /** memcached's item size limit (`-I`), key and per-item overhead included. @default 1048576 */
  readonly maxItemSize?: number | undefined
  /**
   * How operations that may safely be sent twice (get, getMany, set, setMany, delete, deleteMany, touch,
   * getAndTouch, flush) are retried after an `Unavailable` or `Timeout` error; it sees each error. `increment`,
   * `decrement`, `add` and `replace` are never retried. Each attempt has its own `timeout`.
   * @default once more, at once, after `Unavailable` only
   */
  readonly retry?: Schedule.Schedule<unknown, MemcachedError> | undefined
}

/**
 * How a pool of servers is run. Public as `PoolOptions` of `Memcached`.
 */
export interface PoolOptions {
  /** Where each key lives; keys are placed by their prefixed form. @default "ketama" */
  readonly placement?: PlacementOption | undefined
  /** Failed connections in a row after which a server is ejected; `Infinity` never ejects. @default 3 */
  readonly ejectAfter?: number | undefined
  /** How long an ejected server is skipped before one request tries it again. @default "1 second" */
  readonly ejectFor?: DurationWithUnits | undefined
  /**
   * Send the keys of an ejected server to the next live server on the ring instead of failing fast with
   * `MemcachedError` `Unavailable`. A trade-off: while the server is out, its keys live (and may be stale) elsewhere.
   * @default false
   */
  readonly failover?: boolean | undefined
}

/**
 * Options of `Memcached.layer` (and of `MemcachedCache`). Public as `MemcachedOptions` of `Memcached`.
 */
export interface MemcachedOptions extends LayerOptions, PoolOptions {
  /**
   * `"h1:11211,h2:11211:2"` (`host[:port[:weight]]`, IPv6 as `[::1]:11211`) or a list of such strings or
   * `ServerSpec`s. @default "localhost:11211"
   */
  readonly servers?: string | ReadonlyArray<string | ServerSpec> | undefined
  /**
   * With `password`, turns authentication on: SASL PLAIN over binary, the auth file's (`-Y`) over meta. Credentials
   * travel in clear, unless `tls`.
   */
  readonly username?: string | undefined
  /** The password of `username`. */
  readonly password?: Redacted.Redacted | undefined
  /** Deadline of each operation, connecting included. @default "1 second" */
  readonly timeout?: DurationWithUnits | undefined
  /** Ask every server for its version when the layer is built, and fail the layer if one does not answer. @default false */
  readonly checkOnStart?: boolean | undefined
  /**
   * Connect over TLS (memcached `-Z`, managed memcached with in-transit encryption): `true` trusts Node's CAs, or give
   * Node's `tls.ConnectionOptions` (`ca` for a private CA, `servername`, `cert` and `key` for mutual TLS, …). SASL
   * then travels encrypted. A certificate either side rejects is a `MemcachedError` `Auth`.
   * @default false
   */
  readonly tls?: TlsOption | undefined
  /**
   * The wire dialect: `"binary"` (memjs's servers, with SASL) or `"meta"`, memcached's meta protocol, the one
   * memcached's proxy and mcrouter speak and the one memcached still develops (binary is deprecated since 1.6.0).
   * Both give the same answers to the same operations. `username`/`password` are SASL PLAIN over binary, and
   * memcached's text-protocol authentication (an auth file, `memcached -Y`) over meta.
   * @default "binary"
   */
  readonly protocol?: "binary" | "meta" | undefined
}

/**
 * Options of `Memcached.layerClient`. Public as `ClientLayerOptions` of `Memcached`.
 */
export interface ClientLayerOptions extends LayerOptions, PoolOptions {
  /** Close the client's sockets when the layer is released. @default false */
  readonly closeOnRelease?: boolean | undefined
  /** Deadline of each operation. @default "1 second" */
  readonly timeout?: DurationWithUnits | undefined
  /** Ask every server for its version when the layer is built, and fail the layer if one does not answer. @default false */
  readonly checkOnStart?: boolean | undefined
}

/** @internal Durations, schedules and secrets as this line has them, for the engine's checks. */
export const readers: OptionReaders = {
  millis: (input) => {
    const decoded = Duration.decodeUnknown(input)
    return decoded._tag === "Some" ? Duration.toMillis(decoded.value) : undefined
  },
  isSchedule: Schedule.isSchedule,
  isRedacted: Redacted.isRedacted
}

const either = <A>(result: A | BadOption): Either.Either<A, BadOption> =>
  result instanceof BadOption ? Either.left(result) : Either.right(result)

/** @internal The options every layer takes: `defaultTtl`, `keyPrefix`, `maxItemSize`, `retry`. */
export const checkLayerOptions = (options: LayerOptionsInput): Either.Either<CheckedLayerOptions, BadOption> =>
  either(checkLayer(options, readers))

/**
 * @internal The options of the layers over a memjs client: every layer's, `timeout`, the pool's (`placement`,
 * `ejectAfter`, `ejectFor`) and the credentials.
 */
export const checkConnectionOptions = (
  options: ConnectionOptionsInput
): Either.Either<CheckedConnectionOptions, BadOption> => either(checkConnection(options, readers))

/** @internal The `servers` option, parsed. */
export const checkServers = (servers: unknown): Either.Either<ReadonlyArray<ServerAddress>, BadOption> =>
  either(checkServerList(servers))
