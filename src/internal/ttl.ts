/**
 * TTLs as the Effect API takes them: a duration with its unit, or `null`, read into the engine's `Expiry`
 * (`engine/ttl.ts`, where memcached's rules live).
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import { BadDuration, readWithUnits } from "../engine/options.js"
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

/**
 * Reads a duration given with its unit: a `Duration`, `"<n> <unit>"` or `[seconds, nanos]`. A bare number or a bigint
 * is refused like anything else that is not a duration (the engine's rule, `engine/options.ts`): the `Left` is the
 * reason, written to follow the option's name, with the fix.
 *
 * @internal
 */
export const decodeWithUnits = (input: unknown): Either.Either<Duration.Duration, string> => {
  const read = readWithUnits(input, (value) => Option.getOrUndefined(Duration.decodeUnknown(value)))
  return read instanceof BadDuration ? Either.left(read.reason) : Either.right(read)
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
