/**
 * TTLs as the Effect API takes them: a duration with its unit, or `null`, read into the engine's `Expiry`
 * (`engine/ttl.ts`, where memcached's rules live; `engine/options.ts` reads durations with their unit).
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import { BadDuration, readWithUnits } from "../../../src/engine/options.js"
import type { Expiry } from "../../../src/engine/ttl.js"
import { expiryFromMillis } from "../../../src/engine/ttl.js"

/**
 * A duration with its unit: `"30 seconds"`, `"5 minutes"`, `Duration.seconds(30)` or `[seconds, nanos]`. Every TTL,
 * timeout and interval of the Effect API is one. A bare number is not: Effect would read `300` as milliseconds and
 * memcached as seconds, so it is a type error, and forced through, an `InvalidArgument` (or, in a layer's options, a
 * `ConfigError`) that says how to write it. Public as `DurationWithUnits` of `Memcached`.
 */
export type DurationWithUnits = Exclude<Duration.Input, number | bigint>

/**
 * A TTL: a duration with its unit (rounded up to whole seconds; zero or negative expires at once) or `null` for never.
 * Public as `Ttl` of `Memcached`.
 */
export type Ttl = DurationWithUnits | null

/** @internal A duration given with its unit, or `undefined`. */
export const durationOf = (input: unknown): Duration.Duration | undefined =>
  Option.getOrUndefined(Duration.fromInput(input as Duration.Input))

/**
 * Reads a duration given with its unit (the engine's rule): the failure is the reason, written to follow the option's
 * name, with the fix.
 *
 * @internal
 */
export const decodeWithUnits = (input: unknown): Result.Result<Duration.Duration, string> => {
  const read = readWithUnits(input, durationOf)
  return read instanceof BadDuration ? Result.fail(read.reason) : Result.succeed(read)
}

/** @internal `null` or infinite: never expires; positive: rounded up to whole seconds; zero or negative: expired. */
export const toExpiry = (ttl: Duration.Duration | null): Expiry =>
  expiryFromMillis(ttl === null ? null : Duration.toMillis(ttl))

/** @internal A TTL as the Effect API takes it (`null` or a duration with its unit). */
export const decodeTtl = (ttl: unknown): Result.Result<Expiry, string> =>
  ttl === null ? Result.succeed(toExpiry(null)) : Result.map(decodeWithUnits(ttl), toExpiry)
