/**
 * memcached's counter rule: a counter is an unsigned 64-bit decimal; `increment` wraps at 2^64 and `decrement` stops
 * at 0.
 *
 * @internal
 */

/** @internal The largest counter value, 2^64 − 1. */
export const U64_MAX = (1n << 64n) - 1n

/** @internal A counter's next value, as memcached computes it. */
export const nextCounterValue = (direction: "increment" | "decrement", current: bigint, delta: bigint): bigint =>
  direction === "increment" ? (current + delta) & U64_MAX : current > delta ? current - delta : 0n

/** @internal A counter's `delta` or `initial` as an unsigned 64-bit integer, or (a string) what is wrong with it. */
export const toUnsigned64 = (value: unknown): bigint | string => {
  if (typeof value === "number" && !Number.isSafeInteger(value)) return `must be a whole number, got ${value}`
  if (typeof value !== "number" && typeof value !== "bigint") {
    return `must be a bigint or a whole number, got ${typeof value}`
  }
  const big = BigInt(value)
  return big < 0n || big > U64_MAX ? `must be between 0 and 2^64-1, got ${big}` : big
}
