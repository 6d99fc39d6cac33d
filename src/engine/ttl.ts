/**
 * The TTL rules, shared by the client and the in-memory store. memcached reads an expiration up to 30 days as
 * relative seconds and anything longer as an absolute unix time, and its clock ticks in whole seconds.
 *
 * @internal
 */

/** @internal The longest expiration memcached reads as relative seconds. */
export const MAX_RELATIVE_SECONDS = 60 * 60 * 24 * 30

/** @internal The largest expiration field (a uint32): unix time in February 2106. */
export const MAX_EXPIRATION = 0xffff_ffff

/** @internal What a TTL means, before it is written for the client or the in-memory store. */
export type Expiry =
  | { readonly _tag: "Never" }
  | { readonly _tag: "Expired" }
  | { readonly _tag: "After"; readonly seconds: number }

const never: Expiry = { _tag: "Never" }
const expired: Expiry = { _tag: "Expired" }

/**
 * A TTL in milliseconds: `null` or infinite never expires; positive is rounded up to whole seconds; zero, negative
 * or NaN expires at once.
 *
 * @internal
 */
export const expiryFromMillis = (millis: number | null): Expiry => {
  if (millis === null || millis === Infinity) return never
  if (!(millis > 0)) return expired
  return { _tag: "After", seconds: Math.ceil(millis / 1000) }
}

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
