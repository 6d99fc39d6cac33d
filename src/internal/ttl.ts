/**
 * The TTL rules, shared by every backend. memcached reads an expiration up to 30 days as relative seconds and anything
 * longer as an absolute unix time, and its clock ticks in whole seconds.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import { textOf } from "../errors/text.js"

/**
 * A duration with its unit: `"30 seconds"`, `"5 minutes"`, `Duration.seconds(30)` or `[seconds, nanos]`. Every TTL,
 * timeout and interval of the Effect API is one. A bare number is not: Effect would read `300` as milliseconds and
 * memcached as seconds, so it is a type error, and forced through, an `InvalidArgument` (or, in a layer's options, a
 * `ConfigError`) that says how to write it. Public as `DurationWithUnits` of `Memcached`.
 */
export type DurationWithUnits = Exclude<Duration.DurationInput, number | bigint>

/**
 * A TTL: a duration with its unit (rounded up to whole seconds; zero or negative expires at once) or `null` for never.
 * Public as `Ttl` of `Memcached`.
 */
export type Ttl = DurationWithUnits | null

/** @internal The longest expiration memcached reads as relative seconds. */
export const MAX_RELATIVE_SECONDS = 60 * 60 * 24 * 30

/** @internal The largest expiration field (a uint32): unix time in February 2106. */
export const MAX_EXPIRATION = 0xffff_ffff

/** @internal What a TTL means, before it is written for a particular backend. */
export type Expiry =
  | { readonly _tag: "Never" }
  | { readonly _tag: "Expired" }
  | { readonly _tag: "After"; readonly seconds: number }

/** @internal */
export const never: Expiry = { _tag: "Never" }
/** @internal */
export const expired: Expiry = { _tag: "Expired" }

const shown = (value: unknown): string => {
  if (typeof value === "string") return JSON.stringify(value)
  if (typeof value === "bigint") return `${value}n`
  if (Array.isArray(value)) return "an array that is not [seconds, nanos]"
  if (typeof value === "object" && value !== null) return "an object that is not a Duration"
  return textOf(value)
}

/**
 * Reads a duration given with its unit: a `Duration`, `"<n> <unit>"` or `[seconds, nanos]`. A bare number (Effect
 * would read it as milliseconds, memcached as seconds) or a bigint (nanoseconds) is refused like anything else that is
 * not a duration: the `Left` is the reason, written to follow the option's name, with the fix.
 *
 * @internal
 */
export const decodeWithUnits = (input: unknown): Either.Either<Duration.Duration, string> => {
  if (typeof input === "number" || typeof input === "bigint") {
    if (Number.isNaN(input)) return Either.left("is NaN, not a duration")
    if (input === Infinity) return Either.left("is a bare number (Infinity): write Duration.infinity")
    if (input === -Infinity) return Either.left("is a bare number (-Infinity): write Duration.zero")
    const n = `${input}`
    const seconds = `"${n} ${n === "1" ? "second" : "seconds"}"`
    return Either.left(
      `is a bare number (${shown(input)}), which has no unit: write ${seconds} or Duration.seconds(${n}) ` +
        `("${n} millis" for milliseconds)`
    )
  }
  const decoded = Duration.decodeUnknown(input)
  return decoded._tag === "Some" ? Either.right(decoded.value) : Either.left(
    `is ${shown(input)}, not a duration: write it with a unit, such as "5 minutes" or Duration.minutes(5)`
  )
}

/**
 * `null` or infinite: never expires; positive: rounded up to whole seconds; zero or negative: expired at once.
 *
 * @internal
 */
export const toExpiry = (ttl: Duration.Duration | null): Expiry => {
  if (ttl === null || !Duration.isFinite(ttl)) return never
  const millis = Duration.toMillis(ttl)
  if (!(millis > 0)) return expired
  return { _tag: "After", seconds: Math.ceil(millis / 1000) }
}

/**
 * A TTL as the Effect API takes it (`null` or a duration with its unit), read by `decodeWithUnits` and `toExpiry`.
 *
 * @internal
 */
export const decodeTtl = (ttl: unknown): Either.Either<Expiry, string> =>
  ttl === null ? Either.right(never) : Either.map(decodeWithUnits(ttl), toExpiry)

/**
 * The 32-bit expiration field memcached expects: 0 for never, relative seconds up to 30 days, an absolute unix time
 * beyond (capped at 2106), and an absolute time in 1970 for "already expired".
 *
 * @internal
 */
export const toExpirationField = (expiry: Expiry, nowMillis: number): number => {
  switch (expiry._tag) {
    case "Never":
      return 0
    case "Expired":
      return MAX_RELATIVE_SECONDS + 1
    case "After":
      return expiry.seconds <= MAX_RELATIVE_SECONDS
        ? expiry.seconds
        : Math.min(Math.floor(nowMillis / 1000) + expiry.seconds, MAX_EXPIRATION)
  }
}

/**
 * When an item written at `nowMillis` stops being readable, in epoch milliseconds (`undefined`: never). Used by the
 * in-memory store, which keeps memcached's whole-second clock.
 *
 * @internal
 */
export const expiresAtMillis = (expiry: Expiry, nowMillis: number): number | undefined => {
  switch (expiry._tag) {
    case "Never":
      return undefined
    case "Expired":
      return nowMillis
    case "After":
      return Math.min(Math.floor(nowMillis / 1000) + expiry.seconds, MAX_EXPIRATION) * 1000
  }
}
