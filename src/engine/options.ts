/**
 * The layers' option rules, shared by both Effect lines: durations given with their unit, the defaults, and each
 * option's check. What only an Effect line can tell (what a `Duration` is, whether a value is a `Schedule` or a
 * `Redacted`) comes in as `OptionReaders`. Each check gives the option's name and what is wrong with it, with the fix,
 * never throws, and never quotes a password.
 *
 * @internal
 */
import { DEFAULT_MAX_ITEM_SIZE } from "./itemSize.js"
import { checkPrefix } from "./keys.js"
import type { ServerAddress } from "./servers.js"
import { BadServers, parseServers } from "./servers.js"
import { textOf } from "./text.js"
import type { TlsSettings } from "./tls.js"
import { BadTls, checkTls } from "./tls.js"
import type { Expiry } from "./ttl.js"
import { expiryFromMillis } from "./ttl.js"

/** @internal A value that is not a duration with its unit: `reason` is a phrase to follow its name, with the fix. */
export class BadDuration {
  constructor(readonly reason: string) {}
}

const shown = (value: unknown): string => {
  if (typeof value === "string") return JSON.stringify(value)
  if (typeof value === "bigint") return `${value}n`
  if (Array.isArray(value)) return "an array that is not [seconds, nanos]"
  if (typeof value === "object" && value !== null) return "an object that is not a Duration"
  return textOf(value)
}

/**
 * @internal Reads a duration given with its unit through the line's own `decode` (`undefined`: not a duration). A bare
 * number (Effect would read it as milliseconds, memcached as seconds) or a bigint (nanoseconds) is refused like
 * anything else that is not a duration.
 */
export const readWithUnits = <D>(input: unknown, decode: (input: unknown) => D | undefined): D | BadDuration => {
  if (typeof input === "number" || typeof input === "bigint") {
    if (Number.isNaN(input)) return new BadDuration("is NaN, not a duration")
    if (input === Infinity) return new BadDuration("is a bare number (Infinity): write Duration.infinity")
    if (input === -Infinity) return new BadDuration("is a bare number (-Infinity): write Duration.zero")
    const n = `${input}`
    const seconds = `"${n} ${n === "1" ? "second" : "seconds"}"`
    return new BadDuration(
      `is a bare number (${shown(input)}), which has no unit: write ${seconds} or Duration.seconds(${n}) ` +
        `("${n} millis" for milliseconds)`
    )
  }
  const decoded = decode(input)
  return decoded === undefined
    ? new BadDuration(
      `is ${shown(input)}, not a duration: write it with a unit, such as "5 minutes" or Duration.minutes(5)`
    )
    : decoded
}

/** @internal What the option checks need from an Effect line. */
export interface OptionReaders {
  /** A duration in milliseconds (`Infinity` for an infinite one), or `undefined` when `input` is not one. */
  readonly millis: (input: unknown) => number | undefined
  readonly isSchedule: (input: unknown) => boolean
  readonly isRedacted: (input: unknown) => boolean
}

/** @internal A bad option: its name, and the sentence a `TypeError` or a `ConfigError` says about it. */
export class BadOption {
  constructor(readonly option: string, readonly message: string) {}
}

/** `reason` is a phrase to follow the option's name. */
const bad = (option: string, reason: string) => new BadOption(option, `${option} ${reason}`)

/** How a bad duration is shown. */
const shownMillis = (millis: number) =>
  millis === Infinity ? "infinite" : millis <= 0 ? "zero or a negative duration" : `${millis} ms`

/** A duration option in milliseconds, or `fallback` when left out. */
const millisOption = (readers: OptionReaders, option: string, input: unknown, fallback: number) => {
  if (input === undefined) return fallback
  const millis = readWithUnits(input, readers.millis)
  return millis instanceof BadDuration ? bad(option, millis.reason) : millis
}

/** @internal The options every layer takes, checked. */
export interface CheckedLayerOptions {
  readonly defaultExpiry: Expiry
  readonly maxItemSize: number
}

/** @internal The options every layer takes, as given: anything may have been forced past the types. */
export interface LayerOptionsInput {
  readonly defaultTtl?: unknown
  readonly keyPrefix?: unknown
  readonly maxItemSize?: unknown
  readonly retry?: unknown
}

/** @internal The options every layer takes: `defaultTtl`, `keyPrefix`, `maxItemSize`, `retry`. */
export const checkLayerOptions = (
  options: LayerOptionsInput,
  readers: OptionReaders
): CheckedLayerOptions | BadOption => {
  const ttl = options.defaultTtl === null ? null : millisOption(readers, "defaultTtl", options.defaultTtl, 300_000)
  if (ttl instanceof BadOption) return ttl
  const defaultExpiry = expiryFromMillis(ttl)
  if (defaultExpiry._tag === "Expired") {
    return bad(
      "defaultTtl",
      "is zero or negative, which would expire every write at once: give a positive duration, or null for never"
    )
  }
  const prefix = options.keyPrefix ?? ""
  if (typeof prefix !== "string") return bad("keyPrefix", "must be a string")
  const prefixProblem = checkPrefix(prefix)
  if (prefixProblem) return bad("keyPrefix", prefixProblem)
  const maxItemSize = options.maxItemSize ?? DEFAULT_MAX_ITEM_SIZE
  if (!(typeof maxItemSize === "number" && Number.isSafeInteger(maxItemSize) && maxItemSize > 1024)) {
    return bad("maxItemSize", "must be a whole number of bytes, over 1024")
  }
  if (options.retry !== undefined && !readers.isSchedule(options.retry)) {
    return bad("retry", "must be a Schedule")
  }
  return { defaultExpiry, maxItemSize }
}

/** @internal A wire dialect. */
export type Protocol = "binary" | "meta"

/** @internal What is wrong with a `protocol` option, as a phrase to follow its name; `undefined` when nothing is. */
export const checkProtocol = (protocol: unknown): string | undefined =>
  protocol === undefined || protocol === "binary" || protocol === "meta"
    ? undefined
    : `must be "binary" or "meta", got ${typeof protocol === "string" ? JSON.stringify(protocol) : typeof protocol}`

/** @internal The connection options, checked. */
export interface CheckedConnectionOptions extends CheckedLayerOptions {
  /** The deadline of each operation. */
  readonly deadlineMillis: number
  readonly ejectAfter: number
  /** How long an ejected server is skipped. */
  readonly deadMillis: number
  /** TLS, when the servers are dialed over it. */
  readonly tls: TlsSettings | undefined
  /** The wire dialect. */
  readonly protocol: Protocol
}

/** @internal The connection options, as given. */
export interface ConnectionOptionsInput extends LayerOptionsInput {
  readonly timeout?: unknown
  readonly placement?: unknown
  readonly ejectAfter?: unknown
  readonly ejectFor?: unknown
  readonly username?: unknown
  readonly password?: unknown
  readonly tls?: unknown
  readonly protocol?: unknown
}

const placements = new Set<unknown>(["ketama", "ketama-hashring", "modulo"])

/**
 * @internal The options of the layers over a memjs client: every layer's, `timeout`, the pool's (`placement`,
 * `ejectAfter`, `ejectFor`), the credentials, `tls` and `protocol`.
 */
export const checkConnectionOptions = (
  options: ConnectionOptionsInput,
  readers: OptionReaders
): CheckedConnectionOptions | BadOption => {
  const common = checkLayerOptions(options, readers)
  if (common instanceof BadOption) return common
  const timeoutMillis = millisOption(readers, "timeout", options.timeout, 1000)
  if (timeoutMillis instanceof BadOption) return timeoutMillis
  if (!(timeoutMillis > 0 && Number.isFinite(timeoutMillis))) {
    return bad("timeout", `must be a positive, finite duration, got ${shownMillis(timeoutMillis)}`)
  }
  const placement = options.placement
  if (!(placement === undefined || placements.has(placement) || typeof placement === "function")) {
    return bad("placement", `must be "ketama", "ketama-hashring", "modulo" or a function`)
  }
  const ejectAfter = options.ejectAfter ?? 3
  if (!(typeof ejectAfter === "number" && ejectAfter >= 1)) {
    return bad("ejectAfter", "must be a number of failures, 1 or more (Infinity never ejects)")
  }
  const deadMillis = millisOption(readers, "ejectFor", options.ejectFor, 1000)
  if (deadMillis instanceof BadOption) return deadMillis
  if (!Number.isFinite(deadMillis)) return bad("ejectFor", "must be a finite duration")
  if (!(options.username === undefined || typeof options.username === "string")) {
    return bad("username", "must be a string")
  }
  if (!(options.password === undefined || readers.isRedacted(options.password))) {
    return bad("password", "must be a Redacted string (Redacted.make(password))")
  }
  const tls = checkTls(options.tls)
  if (tls instanceof BadTls) return new BadOption("tls", tls.reason)
  const protocolProblem = checkProtocol(options.protocol)
  if (protocolProblem) return bad("protocol", protocolProblem)
  const protocol = options.protocol === "meta" ? "meta" : "binary"
  return { ...common, deadlineMillis: Math.ceil(timeoutMillis), ejectAfter, deadMillis, tls, protocol }
}

/** @internal The `servers` option, parsed. */
export const checkServers = (servers: unknown): ReadonlyArray<ServerAddress> | BadOption => {
  const parsed = parseServers(servers)
  return parsed instanceof BadServers ? new BadOption("servers", `servers: ${parsed.reason}`) : parsed
}

/**
 * The `memjs.Client` that `Memcached.layerClient` runs over, written out by the members it reads so that this
 * package's types need no `@types/memjs`; any `memjs.Client` fits. Pass a real one (`memjs.Client.create(…)`): the
 * layer drives its servers' sockets. Public as `MemjsClientLike` of `Memcached`; here, away from memjs's own types,
 * so that the package's public declarations never name `memjs`.
 *
 * @internal
 */
export interface MemjsClientLike {
  readonly servers: ReadonlyArray<{ readonly host: string; readonly port: number }>
  readonly seq: number
  getServer(key: string): string | number
  incrSeq(): void
}
