/**
 * TTLs as the Effect API takes them: a duration with its unit, or `null`, read into the engine's `Expiry`
 * (`engine/ttl.ts`, where memcached's rules live).
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import { textOf } from "../engine/text.js"
import type { Expiry } from "../engine/ttl.js"
import { expiryFromMillis } from "../engine/ttl.js"

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
export const toExpiry = (ttl: Duration.Duration | null): Expiry =>
  expiryFromMillis(ttl === null ? null : Duration.toMillis(ttl))

/**
 * A TTL as the Effect API takes it (`null` or a duration with its unit), read by `decodeWithUnits` and `toExpiry`.
 *
 * @internal
 */
export const decodeTtl = (ttl: unknown): Either.Either<Expiry, string> =>
  ttl === null ? Either.right(toExpiry(null)) : Either.map(decodeWithUnits(ttl), toExpiry)
