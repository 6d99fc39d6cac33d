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
import type { Protocol } from "../engine/dialect.js"
import { checkProtocol } from "../engine/dialect.js"
import { DEFAULT_MAX_ITEM_SIZE } from "../engine/itemSize.js"
import { checkPrefix } from "../engine/keys.js"
import type { ServerAddress, ServerSpec } from "../engine/servers.js"
import type { Expiry } from "../engine/ttl.js"
import type { MemcachedError } from "../errors/MemcachedError.js"
import type { ObservabilityOptions } from "../Observability.js"
import { parseServers } from "./servers.js"
import type { DurationWithUnits, Ttl } from "./ttl.js"
import { decodeWithUnits, toExpiry } from "./ttl.js"

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
 * Where each key lives in a pool: `"ketama"` (libmemcached's weighted ketama, MD5; pylibmc with `ketama_weighted`),
 * `"ketama-hashring"` (the `memcached` npm package), `"modulo"` (memjs's `hash % n`, not consistent), or your own
 * function from the servers to a key's server index. Public as `PlacementOption` of `Memcached`.
 */
export type PlacementOption =
  | "ketama"
  | "ketama-hashring"
  | "modulo"
  | ((servers: ReadonlyArray<Required<ServerSpec>>) => (key: string) => number)

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
   * travel in clear.
   */
  readonly username?: string | undefined
  /** The password of `username`. */
  readonly password?: Redacted.Redacted | undefined
  /** Deadline of each operation, connecting included. @default "1 second" */
  readonly timeout?: DurationWithUnits | undefined
  /** Ask every server for its version when the layer is built, and fail the layer if one does not answer. @default false */
  readonly checkOnStart?: boolean | undefined
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

/**
 * The `memjs.Client` that `Memcached.layerClient` runs over, written out by the members it reads so that this
 * package's types need no `@types/memjs`; any `memjs.Client` fits. Pass a real one (`memjs.Client.create(…)`): the
 * layer drives its servers' sockets. Public as `MemjsClientLike` of `Memcached`; here, away from memjs's own types,
 * so that the package's public declarations never name `memjs`.
 */
export interface MemjsClientLike {
  readonly servers: ReadonlyArray<{ readonly host: string; readonly port: number }>
  readonly seq: number
  getServer(key: string): string | number
  incrSeq(): void
}

/** @internal A bad option: its name, and the sentence a `TypeError` or a `ConfigError` says about it. */
export interface BadOption {
  readonly option: string
  readonly message: string
}

/** `reason` is a phrase to follow the option's name. */
const badOption = (option: string, reason: string): BadOption => ({ option, message: `${option} ${reason}` })

const bad = (option: string, reason: string): Either.Either<never, BadOption> => Either.left(badOption(option, reason))

/** How a bad duration is shown; Effect's `Duration` holds a negative one as zero. */
const shownDuration = (duration: Duration.Duration) =>
  !Duration.isFinite(duration)
    ? "infinite"
    : Duration.toMillis(duration) === 0
    ? "zero or a negative duration"
    : `${Duration.toMillis(duration)} ms`

/** A duration with its unit, or `fallback` when left out. */
const durationOption = (option: string, input: unknown, fallback: Duration.DurationInput) =>
  input === undefined
    ? Either.right(Duration.decode(fallback))
    : Either.mapLeft(decodeWithUnits(input), (reason) => badOption(option, reason))

/** @internal The options every layer takes, checked. */
export interface CheckedLayerOptions {
  readonly defaultExpiry: Expiry
  readonly maxItemSize: number
}

/** The options every layer takes, as given: anything may have been forced past the types. */
interface LayerOptionsInput {
  readonly defaultTtl?: unknown
  readonly keyPrefix?: unknown
  readonly maxItemSize?: unknown
  readonly retry?: unknown
}

/** @internal The options every layer takes: `defaultTtl`, `keyPrefix`, `maxItemSize`, `retry`. */
export const checkLayerOptions = (options: LayerOptionsInput): Either.Either<CheckedLayerOptions, BadOption> =>
  Either.gen(function*() {
    const defaultExpiry = options.defaultTtl === null
      ? toExpiry(null)
      : toExpiry(yield* durationOption("defaultTtl", options.defaultTtl, "300 seconds"))
    if (defaultExpiry._tag === "Expired") {
      return yield* bad(
        "defaultTtl",
        "is zero or negative, which would expire every write at once: give a positive duration, or null for never"
      )
    }
    const prefix = options.keyPrefix ?? ""
    if (typeof prefix !== "string") return yield* bad("keyPrefix", "must be a string")
    const prefixProblem = checkPrefix(prefix)
    if (prefixProblem) return yield* bad("keyPrefix", prefixProblem)
    const maxItemSize = options.maxItemSize ?? DEFAULT_MAX_ITEM_SIZE
    if (!(typeof maxItemSize === "number" && Number.isSafeInteger(maxItemSize) && maxItemSize > 1024)) {
      return yield* bad("maxItemSize", "must be a whole number of bytes, over 1024")
    }
    if (options.retry !== undefined && !Schedule.isSchedule(options.retry)) {
      return yield* bad("retry", "must be a Schedule")
    }
    return { defaultExpiry, maxItemSize }
  })

/** @internal The connection options, checked. */
export interface CheckedConnectionOptions extends CheckedLayerOptions {
  /** The deadline of each operation. */
  readonly deadlineMillis: number
  readonly ejectAfter: number
  /** How long an ejected server is skipped. */
  readonly deadMillis: number
  readonly protocol: Protocol
}

const placements = new Set<unknown>(["ketama", "ketama-hashring", "modulo"])

/**
 * @internal The options of the layers over a memjs client: every layer's, `timeout`, the pool's (`placement`,
 * `ejectAfter`, `ejectFor`) and the credentials.
 */
export const checkConnectionOptions = (
  options: LayerOptionsInput & {
    readonly timeout?: unknown
    readonly placement?: unknown
    readonly ejectAfter?: unknown
    readonly ejectFor?: unknown
    readonly username?: unknown
    readonly password?: unknown
    readonly protocol?: unknown
  }
): Either.Either<CheckedConnectionOptions, BadOption> =>
  Either.gen(function*() {
    const common = yield* checkLayerOptions(options)
    const timeout = yield* durationOption("timeout", options.timeout, "1 second")
    const timeoutMillis = Duration.toMillis(timeout)
    if (!(timeoutMillis > 0 && Number.isFinite(timeoutMillis))) {
      return yield* bad("timeout", `must be a positive, finite duration, got ${shownDuration(timeout)}`)
    }
    const placement = options.placement
    if (!(placement === undefined || placements.has(placement) || typeof placement === "function")) {
      return yield* bad("placement", `must be "ketama", "ketama-hashring", "modulo" or a function`)
    }
    const ejectAfter = options.ejectAfter ?? 3
    if (!(typeof ejectAfter === "number" && ejectAfter >= 1)) {
      return yield* bad("ejectAfter", "must be a number of failures, 1 or more (Infinity never ejects)")
    }
    const ejectFor = yield* durationOption("ejectFor", options.ejectFor, "1 second")
    const deadMillis = Duration.toMillis(ejectFor)
    if (!Number.isFinite(deadMillis)) return yield* bad("ejectFor", "must be a finite duration")
    if (!(options.username === undefined || typeof options.username === "string")) {
      return yield* bad("username", "must be a string")
    }
    if (!(options.password === undefined || Redacted.isRedacted(options.password))) {
      return yield* bad("password", "must be a Redacted string (Redacted.make(password))")
    }
    const protocolProblem = checkProtocol(options.protocol)
    if (protocolProblem) return yield* bad("protocol", protocolProblem)
    const protocol = options.protocol === "meta" ? "meta" : "binary"
    return { ...common, deadlineMillis: Math.ceil(timeoutMillis), ejectAfter, deadMillis, protocol }
  })

/** @internal The `servers` option, parsed. */
export const checkServers = (servers: unknown): Either.Either<ReadonlyArray<ServerAddress>, BadOption> =>
  Either.mapLeft(parseServers(servers), (reason) => ({ option: "servers", message: `servers: ${reason}` }))
